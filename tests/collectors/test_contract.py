"""What every registered collector must do, whatever it reads (see contract_cases.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.registry import collectors
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.errors import InvalidOptions
from ecoute.store.db import session_scope
from ecoute.store.models import CollectionRun, Item, Quarantine, RunStatus, Source
from tests.collectors.contract_cases import CASES
from tests.helpers.servers import FileServer

KINDS = sorted(collectors())


def _counts(factory: sessionmaker[Session]) -> tuple[int, int, int]:
    with session_scope(factory) as session:
        return tuple(  # type: ignore[return-value]
            int(session.scalar(select(func.count()).select_from(m)) or 0)
            for m in (Item, Quarantine, CollectionRun)
        )


def test_every_kind_has_a_contract_case() -> None:
    assert sorted(CASES) == KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_collector_contract(
    kind: str, factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
    file_server: FileServer,
) -> None:
    case = CASES[kind]
    cls = collectors()[kind]
    assert cls.kind == kind and cls.default_schedule and cls.__doc__
    for name, field in cls.Options.model_fields.items():
        assert field.description, f"{kind}: option {name} has no description"

    with session_scope(factory) as session, pytest.raises(InvalidOptions):
        add_source(session, authority="demo", name="bad", kind=kind, options=case.invalid)

    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="s", kind=kind,
                               options=case.working(tmp_path, file_server)).id

    dry = run_source(factory, settings, source_id, dry_run=True)
    assert dry.error is None and dry.preview, f"{kind}: dry run found no item"
    assert _counts(factory) == (0, 0, 0), f"{kind}: dry run wrote to the store"

    first = run_source(factory, settings, source_id)
    assert first.status in (RunStatus.SUCCESS, RunStatus.PARTIAL) and first.new >= 1
    after_first = _counts(factory)
    second = run_source(factory, settings, source_id)
    assert second.new == 0, f"{kind}: a rerun added items"
    assert _counts(factory)[:2] == after_first[:2]

    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None
        state = (dict(source.cursor), source.etag, source.last_modified, source.last_success_at)
        source.options = case.failing(tmp_path, file_server)
    failed = run_source(factory, settings, source_id)
    assert failed.status == RunStatus.FAILED and failed.error
    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None
        assert (dict(source.cursor), source.etag, source.last_modified,
                source.last_success_at) == state
        assert source.consecutive_failures == 1 and source.last_error
    assert _counts(factory)[:2] == after_first[:2]
