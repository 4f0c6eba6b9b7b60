"""Services to register, run and try sources (used by the CLI, the API and the demo).

Services never commit: the caller's unit of work does, except ``run_source``, which is a job
boundary of its own (the runner commits batch by batch).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.backoff import SourceHealth, source_health
from ecoute.collectors.locations import check_locations
from ecoute.collectors.registry import get_collector, validate_options
from ecoute.collectors.secret_options import scrub, shown_options, source_secrets, stored_options
from ecoute.collectors.run_report import RunReport
from ecoute.collectors.runner import SourceRunner
from ecoute.config.settings import Settings
from ecoute.errors import InvalidOptions, InvalidSchedule, SourceRemoved
from ecoute.collectors.schedules import parse_schedule
from ecoute.store import sources as source_repo
from ecoute.store.authorities import Places, ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import Source, SourceFigure, utcnow
from ecoute.store.source_figures import figure_dict, latest_figures


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
    """Register a source after validating its options against its collector, the places it
    reads from and its schedule."""
    validated = validate_options(kind, options)
    check_locations(kind, validated)
    collector = get_collector(kind)
    owner = ensure_authority(session, authority)
    _check_schedule(schedule, owner.timezone)
    places = Places(owner.id)
    return source_repo.add_source(
        session, owner.id, name=name, kind=kind,
        options=stored_options(validated),
        schedule=schedule or collector.default_schedule,
        site_id=places.site_id(session, site),
        department_id=places.department_id(session, department),
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


def _check_schedule(schedule: str | None, timezone: str) -> None:
    try:
        parse_schedule(schedule, timezone)
    except InvalidSchedule as exc:
        raise InvalidSchedule(f"schedule: {exc.message}", hint=exc.hint) from exc


def _not_removed(source: Source) -> None:
    if source.removed_at is not None:
        raise SourceRemoved(
            f"source {source.name!r} was removed (its items were kept) and cannot change",
            hint="add a new source instead",
        )


def change_source(
    session: Session,
    source: Source,
    *,
    options: dict[str, Any] | None = None,
    schedule: str | None = None,
    enabled: bool | None = None,
) -> Source:
    """Change some options (a None value puts an option back to its default), the schedule
    or whether the source is collected; checked as when it was added."""
    _not_removed(source)
    if options:
        merged = {**dict(source.options), **options}
        merged = {k: v for k, v in merged.items() if v is not None}
        validated = validate_options(source.kind, merged)
        check_locations(source.kind, validated)
        # Secrets as they are, not masked: the collector reads them from the store.
        stored = stored_options(validated)
        if stored != source.options:
            source.options = stored
            # The validators of a conditional GET belong to the address they came from.
            source.etag = source.last_modified = None
    if schedule is not None:
        _check_schedule(schedule, source.authority.timezone)
        source.schedule = schedule
    if enabled is not None:
        source.enabled = enabled
        if enabled:
            # Re-enabled by a person: try it at its next time, not after the old back-off.
            source.next_run_at = None
    session.flush()
    return source


def remove_source(session: Session, source: Source, *, keep_items: bool = False) -> int:
    """Remove a source; returns how many items went with it.

    Without ``keep_items`` its items, their classifications, its runs and quarantine go too,
    and the satisfaction figures no longer count them. With ``keep_items`` the items stay
    (and keep counting): the source stays as their origin, disabled, renamed so that its name
    is free again, marked removed and hidden from the source lists.
    """
    _not_removed(source)
    if keep_items:
        source.enabled = False
        source.removed_at = utcnow()
        source.due_at = None
        suffix = f" (removed, id {source.id})"
        source.name = source.name[: 200 - len(suffix)] + suffix
        session.flush()
        return 0
    return source_repo.delete_source(session, source.id)


def find_source(session: Session, authority: str, name: str) -> Source:
    """The source ``name`` of the authority with slug ``authority``."""
    from ecoute.store.authorities import get_authority

    return source_repo.get_source_by_name(session, get_authority(session, authority).id, name)


@dataclass(frozen=True)
class SourceView:
    """A source as people see it, the same in ``GET /api/v1/sources`` and ``ecoute sources
    list``: secret options and secrets quoted in its last error hidden, its health and
    back-off, and its own current figures."""

    id: int
    name: str
    kind: str
    enabled: bool
    options: dict[str, Any]
    schedule: str | None
    items: int
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    health: SourceHealth
    figures: list[SourceFigure] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain values (for JSON output)."""
        return {"id": self.id, "name": self.name, "kind": self.kind, "enabled": self.enabled,
                "options": self.options, "schedule": self.schedule, "items": self.items,
                "last_run_at": self.last_run_at, "last_success_at": self.last_success_at,
                "last_error": self.last_error,
                "consecutive_failures": self.consecutive_failures, **self.health.as_dict(),
                "figures": [figure_dict(f) for f in self.figures]}


def source_views(session: Session, settings: Settings, authority_id: int,
                 source_ids: list[int] | None = None) -> list[SourceView]:
    """The authority's listed sources (or those of ``source_ids`` among them), by name."""
    listed = [(s, n) for s, n in source_repo.list_sources(session, authority_id)
              if source_ids is None or s.id in source_ids]
    ids = [s.id for s, _n in listed]
    held = source_repo.last_run_quarantined(session, ids)
    figures = latest_figures(session, ids)
    return [
        SourceView(
            id=s.id, name=s.name, kind=s.kind, enabled=s.enabled,
            options=shown_options(s.kind, s.options), schedule=s.schedule, items=n,
            last_run_at=s.last_run_at, last_success_at=s.last_success_at,
            last_error=scrub(s.last_error, source_secrets(s.kind, s.options)),
            consecutive_failures=s.consecutive_failures,
            health=source_health(s, settings, quarantined=held.get(s.id, 0)),
            figures=figures.get(s.id, []),
        )
        for s, n in listed
    ]
