from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from fastapi import APIRouter
from sqlalchemy import text

from ecoute import __version__
from ecoute.api.deps import SessionDep
from ecoute.api.schemas import Health
from ecoute.store.db import head_revision

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(session: SessionDep) -> Health:
    """Whether the API can reach its database and the schema is current."""
    connection = session.connection()
    connection.execute(text("SELECT 1"))
    revision = MigrationContext.configure(connection).get_current_revision()
    status = "ok" if revision == head_revision() else "schema_out_of_date"
    return Health(status=status, version=__version__, database=connection.dialect.name,
                  schema_revision=revision)
