"""``ecoute quarantine ...``: what collection could not store, to look at, retry or dismiss."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from ecoute.cli._common import AuthorityOpt, JsonOpt, out, print_json, session_factory
from ecoute.config.settings import get_settings
from ecoute.errors import EcouteError, InvalidRequest

quarantine_app = typer.Typer(
    help="Entries collection could not store: list, show, retry, dismiss.", no_args_is_help=True
)

EntryArg = Annotated[int, typer.Argument(help="Entry id (`ecoute quarantine list`).")]


def _row(entry: Any, source: str) -> dict[str, Any]:
    return {"id": entry.id, "source_id": entry.source_id, "source": source,
            "run_id": entry.run_id, "position": entry.position,
            "error_class": entry.error_class, "message": entry.message,
            "created_at": entry.created_at, "resolved_at": entry.resolved_at}


@quarantine_app.command("list")
def quarantine_list(
    source: Annotated[str | None, typer.Option(help="Only this source's entries.")] = None,
    resolved: Annotated[bool, typer.Option(
        "--all", help="Also the entries already retried or dismissed.")] = False,
    authority: AuthorityOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Entries waiting in quarantine, oldest first."""
    from ecoute.collectors.service import find_source
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope
    from ecoute.store.quarantine import QuarantineFilters, list_entries

    settings = get_settings()
    slug = authority or settings.default_authority
    with session_scope(session_factory()) as session:
        filters = QuarantineFilters(
            authority_id=get_authority(session, slug).id,
            source_id=find_source(session, slug, source).id if source else None,
            resolved=None if resolved else False,
        )
        entries, _total = list_entries(session, filters, limit=10_000)
        rows = [_row(entry, name) for entry, name in entries]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "source", "where", "why", "since")
    for r in rows:
        table.add_row(str(r["id"]), r["source"], r["position"] or "", r["message"],
                      f"{r['created_at']:%Y-%m-%d %H:%M}")
    out.print(table)
    out.print(f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}"
              + (" waiting" if not resolved else ""))


@quarantine_app.command("show")
def quarantine_show(entry_id: EntryArg, as_json: JsonOpt = False) -> None:
    """One entry with the payload kept for it (it may hold personal data)."""
    from ecoute.store.db import session_scope
    from ecoute.store.quarantine import get_entry
    from ecoute.store.sources import get_source

    with session_scope(session_factory()) as session:
        entry = get_entry(session, entry_id)
        row = _row(entry, get_source(session, entry.source_id).name)
        if entry.payload_bytes is not None:
            data = entry.payload_bytes
            row["payload"] = data.decode("utf-8", errors="replace")
            row["payload_bytes"] = len(data)
        else:
            row["payload"] = entry.payload_text or ""
    if as_json:
        print_json(row)
        return
    for key in ("id", "source", "position", "error_class", "message", "created_at",
                "resolved_at"):
        out.print(f"[bold]{key}[/bold]: {row[key] if row[key] is not None else '-'}",
                  highlight=False)
    out.print("[bold]payload[/bold]:")
    out.print(row["payload"], markup=False, highlight=False)


@quarantine_app.command("retry")
def quarantine_retry(
    entry_id: Annotated[int | None, typer.Argument(help="Entry id.")] = None,
    source: Annotated[str | None, typer.Option(help="Every waiting entry of this source.")]
    = None,
    authority: AuthorityOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Read entries again with the source's current options; stored ones leave quarantine."""
    from dataclasses import asdict

    from ecoute.collectors.quarantine import retry_entry, retry_source
    from ecoute.collectors.service import source_id_by_name

    if (entry_id is None) == (source is None):
        raise InvalidRequest("give either an entry id or --source NAME",
                             hint="e.g. `ecoute quarantine retry 12`")
    settings = get_settings()
    factory = session_factory()
    if entry_id is not None:
        results = [retry_entry(factory, settings, entry_id)]
    else:
        assert source is not None
        source_id = source_id_by_name(factory, authority or settings.default_authority, source)
        results = retry_source(factory, settings, source_id)
    if as_json:
        print_json([asdict(r) for r in results])
    else:
        for r in results:
            if r.resolved:
                out.print(f"entry {r.entry_id}: stored ({r.new} new, {r.duplicate} already "
                          f"stored, {r.updated} updated), no longer in quarantine")
            else:
                out.print(f"entry {r.entry_id}: [red]still in quarantine[/red]: {r.reason}",
                          highlight=False)
        if not results:
            out.print("no entry waiting in quarantine")
    failed = [r for r in results if not r.resolved]
    if failed:
        raise EcouteError(f"{len(failed)} of {len(results)} entr"
                          f"{'y' if len(results) == 1 else 'ies'} still in quarantine")


@quarantine_app.command("dismiss")
def quarantine_dismiss(entry_id: EntryArg) -> None:
    """Mark an entry as looked at and not worth keeping."""
    from ecoute.collectors.quarantine import dismiss_entry
    from ecoute.store.db import session_scope
    from ecoute.store.quarantine import get_entry

    with session_scope(session_factory()) as session:
        dismiss_entry(session, get_entry(session, entry_id))
    out.print(f"entry {entry_id} dismissed")
