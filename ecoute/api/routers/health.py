from __future__ import annotations

from fastapi import APIRouter

from ecoute import __version__
from ecoute.api.deps import SessionDep
from ecoute.api.schemas import Health
from ecoute.errors import SchemaOutOfDate
from ecoute.store.db import check_schema, current_revision
from ecoute.store.digests import failed_subscriptions

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(session: SessionDep) -> Health:
    """Whether the API can reach its database and the schema is current, and how many digest
    subscriptions' latest e-mail the mail server refused (`ecoute digest list` says why)."""
    connection = session.connection()
    try:
        revision = check_schema(connection)
    except SchemaOutOfDate:
        return Health(status="schema_out_of_date", version=__version__,
                      database=connection.dialect.name,
                      schema_revision=current_revision(connection))
    return Health(status="ok", version=__version__, database=connection.dialect.name,
                  schema_revision=revision, digests_failed=failed_subscriptions(session))
