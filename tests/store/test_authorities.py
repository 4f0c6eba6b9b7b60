"""Sites and departments looked up by name, once per run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.store.authorities import Places, ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import Department, Site


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_name_is_looked_up_once_per_run(engine: Engine, factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        authority_id = ensure_authority(session, "valmont").id
        session.add(Site(authority_id=authority_id, name="Annexe"))
    places = Places(authority_id)
    with session_scope(factory) as session:
        annexe = places.site_id(session, "Annexe")
        created = places.department_id(session, "État civil")
        assert places.department_id(session, "État civil") == created
    with statements(engine) as seen, session_scope(factory) as session:
        # Later batches of the run: from memory, no query.
        assert places.site_id(session, "Annexe") == annexe
        assert places.department_id(session, "État civil") == created
        assert places.site_id(session, None) is None
    assert not [sql for sql in seen if "site" in sql or "department" in sql]
    with session_scope(factory) as session:
        assert session.scalar(select(Department.name).where(Department.id == created)) \
            == "État civil"


def test_a_place_of_a_rolled_back_batch_is_created_again(
    factory: sessionmaker[Session],
) -> None:
    with session_scope(factory) as session:
        authority_id = ensure_authority(session, "valmont").id
    places = Places(authority_id)
    with pytest.raises(RuntimeError), session_scope(factory) as session:
        places.site_id(session, "Médiathèque")
        raise RuntimeError("the batch failed")
    with session_scope(factory) as session:
        site_id = places.site_id(session, "Médiathèque")
        assert session.get(Site, site_id) is not None
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(Site)) == 1


def test_a_dry_run_creates_nothing(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        authority_id = ensure_authority(session, "valmont").id
        known = Site(authority_id=authority_id, name="Annexe")
        session.add(known)
        session.flush()
        known_id = known.id
    places = Places(authority_id, create=False)
    with session_scope(factory) as session:
        assert places.site_id(session, "Annexe") == known_id
        assert places.site_id(session, "Nouvelle") is None
        assert places.department_id(session, "Voirie") is None
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(Site)) == 1
        assert session.scalar(select(func.count()).select_from(Department)) == 0
