"""``ecoute digest ...``: subscriptions to the digest e-mail, its preview, and sending what is
due (``ecoute run`` does it every hour)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ecoute.cli._common import AuthorityOpt, JsonOpt, err, out, print_json, session_factory
from ecoute.config.settings import get_settings
from ecoute.errors import EcouteError

digest_app = typer.Typer(help="Digest e-mails: subscribe, list, unsubscribe, preview, send.",
                         no_args_is_help=True)

LanguageOpt = Annotated[str | None, typer.Option(
    "--language", "-l", help="fr or en (default: the authority's).")]
FrequencyOpt = Annotated[str, typer.Option(help="weekly or monthly.")]


@digest_app.command("subscribe")
def digest_subscribe(
    email: Annotated[str, typer.Argument(help="Address of the recipient.")],
    authority: AuthorityOpt = None,
    language: LanguageOpt = None,
    frequency: FrequencyOpt = "weekly",
    weekday: Annotated[str, typer.Option(help="Day it is sent: monday … sunday (for a monthly "
                                          "digest, the first such day of the month).")] = "monday",
    hour: Annotated[int, typer.Option(help="Hour it is sent, 0–23, in the authority's time "
                                      "zone.")] = 8,
    department: Annotated[str | None, typer.Option(help="Only this department's "
                                                   "feedback.")] = None,
    site: Annotated[str | None, typer.Option(help="Only this site's feedback.")] = None,
) -> None:
    """Send the digest of an authority (or of one department or site) to an address."""
    from ecoute.digest.subscriptions import subscribe
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope

    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        owner = get_authority(session, authority or settings.default_authority)
        sub = subscribe(session, owner, email=email, locale=language, frequency=frequency,
                        weekday=weekday, hour=hour, department=department, site=site)
        out.print(f"subscription {sub.id}: {sub.email} receives the {sub.frequency} digest of "
                  f"{owner.slug} ({sub.locale}) on {_when(sub)}", highlight=False)


def _when(sub: Any) -> str:
    from ecoute.digest.subscriptions import WEEKDAYS

    return f"{WEEKDAYS[sub.weekday]} at {sub.hour:02d}:00"


@digest_app.command("list")
def digest_list(
    authority: AuthorityOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Include ended subscriptions.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Subscriptions with their schedule and their last digest (sent, or why not)."""
    from ecoute.digest.subscriptions import overview
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope

    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        owner = get_authority(session, authority or settings.default_authority)
        rows = [{
            "id": v.subscription.id, "email": v.subscription.email,
            "language": v.subscription.locale, "frequency": v.subscription.frequency,
            "when": _when(v.subscription), "department_id": v.subscription.department_id,
            "site_id": v.subscription.site_id,
            "unsubscribed_at": v.subscription.unsubscribed_at,
            "last_period": v.last.period if v.last else None,
            "last_status": v.last.status if v.last else None,
            "last_error": v.last.error if v.last else None,
        } for v in overview(session, owner, include_unsubscribed=all_)]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "email", "lang", "frequency", "when", "last digest", "problem")
    for r in rows:
        last = f"{r['last_period']} {r['last_status']}" if r["last_period"] else "none yet"
        if r["unsubscribed_at"]:
            last += " (unsubscribed)"
        table.add_row(str(r["id"]), str(r["email"]), str(r["language"]), str(r["frequency"]),
                      str(r["when"]), last, str(r["last_error"] or ""))
    out.print(table)


@digest_app.command("unsubscribe")
def digest_unsubscribe(
    which: Annotated[str, typer.Argument(help="Subscription number (`digest list`) or "
                                         "address (all its subscriptions).")],
    authority: AuthorityOpt = None,
) -> None:
    """Stop sending digests to a subscription or an address."""
    from ecoute.digest.subscriptions import find, unsubscribe
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope

    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        owner = get_authority(session, authority or settings.default_authority)
        for sub in find(session, owner, which):
            unsubscribe(sub)
            out.print(f"subscription {sub.id} ({sub.email}, {sub.frequency}) ended",
                      highlight=False)


@digest_app.command("preview")
def digest_preview(
    subscription: Annotated[int | None, typer.Option(
        help="Subscription number; without it, the authority-wide digest.")] = None,
    period: Annotated[str | None, typer.Option(
        help="2026-W47 (a week) or 2026-11 (a month); default: the last complete one.")] = None,
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="Write the HTML there instead of printing it.")] = None,
    text: Annotated[bool, typer.Option("--text", help="The plain-text part instead of the "
                                       "HTML.")] = False,
    authority: AuthorityOpt = None,
    language: LanguageOpt = None,
    frequency: FrequencyOpt = "weekly",
) -> None:
    """The digest as it would be sent, charts included, without sending it."""
    from ecoute.digest.subscriptions import preview, preview_period, preview_spec
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope

    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        owner = get_authority(session, authority or settings.default_authority)
        spec = preview_spec(session, owner, subscription, locale=language, frequency=frequency)
        rendered = preview(session, settings, spec, preview_period(spec, period))
    content = rendered.text if text else rendered.html
    if out_file is None:
        print(content, end="")
        return
    out_file.write_text(content, encoding="utf-8")
    err.print(f"{rendered.subject} → {out_file}", highlight=False)


@digest_app.command("send")
def digest_send(authority: AuthorityOpt = None, as_json: JsonOpt = False) -> None:
    """Send the digests that are due and not sent yet (each one once), and retry deferred
    ones; `ecoute run` does this every hour."""
    from ecoute.digest.send import send_due
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope

    settings = get_settings()
    factory = session_factory(settings)
    authority_id = None
    if authority:
        with session_scope(factory) as session:
            authority_id = get_authority(session, authority).id
    report = send_due(factory, settings, authority_id=authority_id)
    if as_json:
        print_json({"sent": report.sent, "deferred": report.deferred, "failed": report.failed})
    else:
        out.print(f"{len(report.sent)} sent, {len(report.deferred)} deferred, "
                  f"{len(report.failed)} failed", highlight=False)
        for line in report.deferred:
            out.print(f"[yellow]deferred[/yellow]: {line}", highlight=False)
        for line in report.failed:
            out.print(f"[red]failed[/red]: {line}", highlight=False)
    if report.failed:
        raise EcouteError(f"{len(report.failed)} digest(s) could not be sent",
                          hint="`ecoute digest list` shows why")
