"""Services to register, run and try sources (used by the CLI, the API and the demo).

Services never commit: the caller's unit of work does, except ``run_source``, which is a job
boundary of its own (the runner commits batch by batch).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.registry import get_collector, validate_options
from ecoute.collectors.runner import RunReport, SourceRunner
from ecoute.config.settings import Settings
from ecoute.errors import InvalidOptions
from ecoute.store import sources as source_repo
from ecoute.store.authorities import ensure_authority, ensure_department, ensure_site
from ecoute.store.db import session_scope
from ecoute.store.models import Source


def parse_option_pairs(pairs: list[str]) -> dict[str, Any]:
    """``["url=https://...", "max=5"]`` → options; values that read as JSON are decoded."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidOptions(f"option {pair!r} is not key=value", hint="e.g. --option url=...")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options


def add_source(
    session: Session,
    *,
    authority: str,
    name: str,
    kind: str,
    options: dict[str, Any],
    schedule: str | None = None,
    site: str | None = None,
    department: str | None = None,
) -> Source:
    """Register a source after validating its options against its collector."""
    validated = validate_options(kind, options)
    collector = get_collector(kind)
    owner = ensure_authority(session, authority)
    return source_repo.add_source(
        session, owner.id, name=name, kind=kind,
        options=validated.model_dump(mode="json", exclude_unset=True),
        schedule=schedule or collector.default_schedule,
        site_id=ensure_site(session, owner.id, site).id if site else None,
        department_id=ensure_department(session, owner.id, department).id if department else None,
    )


def source_id_by_name(factory: sessionmaker[Session], authority: str, name: str) -> int:
    from ecoute.store.authorities import get_authority

    with session_scope(factory) as session:
        owner = get_authority(session, authority)
        return source_repo.get_source_by_name(session, owner.id, name).id


def run_source(
    factory: sessionmaker[Session],
    settings: Settings,
    source_id: int,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    transport: httpx.BaseTransport | None = None,
    options_override: dict[str, Any] | None = None,
) -> RunReport:
    return SourceRunner(factory, settings, transport=transport).run(
        source_id, dry_run=dry_run, limit=limit, options_override=options_override
    )
