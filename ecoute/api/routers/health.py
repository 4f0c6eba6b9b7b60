from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from fastapi import APIRouter
from sqlalchemy import text

from ecoute import __version__
from ecoute.api.deps import SessionDep
from ecoute.api.schemas import Health
from ecoute.store.db import head_revision
from ecoute.store.digests import failed_subscriptions

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(session: SessionDep) -> Health:
    """Whether the API can reach its database and the schema is current, and how many digest
    subscriptions' latest e-mail the mail server refused (`ecoute digest list` says why)."""
    connection = session.connection()
    connection.execute(text("SELECT 1"))
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision != head_revision():
        return Health(status="schema_out_of_date", version=__version__,
                      database=connection.dialect.name, schema_revision=revision)
    return Health(status="ok", version=__version__, database=connection.dialect.name,
                  schema_revision=revision, digests_failed=failed_subscriptions(session))
