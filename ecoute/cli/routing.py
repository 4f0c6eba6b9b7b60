"""``ecoute routing ...``: which department follows up which feedback."""

from __future__ import annotations

import getpass
from datetime import datetime, time, timezone
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from ecoute.cli._common import AuthorityOpt, JsonOpt, out, print_json, session_factory
from ecoute.config.settings import get_settings

routing_app = typer.Typer(
    help="Routing rules: which department follows up which feedback (add, list, move, "
    "remove, apply).", no_args_is_help=True)

RuleArg = Annotated[int, typer.Argument(help="Rule id (`ecoute routing list`).")]
CRITERIA = ("source", "channel", "site", "determinant", "polarity", "lang", "keyword",
            "category")


def _user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in some containers
        return "cli"


def _criteria_text(rule: Any, sources: dict[int, str], sites: dict[int, str]) -> str:
    parts = []
    if rule.source_id is not None:
        parts.append(f"source = {sources.get(rule.source_id, rule.source_id)}")
    if rule.site_id is not None:
        parts.append(f"site = {sites.get(rule.site_id, rule.site_id)}")
    for name in ("channel", "determinant", "polarity", "lang", "category"):
        if getattr(rule, name):
            parts.append(f"{name} = {getattr(rule, name)}")
    if rule.keyword:
        parts.append(f"keyword: {rule.keyword}")
    return ", ".join(parts)


@routing_app.command("add")
def routing_add(
    department: Annotated[str, typer.Argument(help="Department the matching items go to "
                                              "(created when new).")],
    source: Annotated[str | None, typer.Option(help="Items of this source (its name).")] = None,
    channel: Annotated[str | None, typer.Option(help="Items of this channel (complaint, "
                                                "review, service_request...).")] = None,
    site: Annotated[str | None, typer.Option(help="Items of this site (its name).")] = None,
    determinant: Annotated[str | None, typer.Option(
        help="Items talking about this determinant (waiting_time, courtesy...).")] = None,
    polarity: Annotated[str | None, typer.Option(
        help="positive, negative or neutral: with --determinant its polarity, alone the "
        "item's sentiment.")] = None,
    lang: Annotated[str | None, typer.Option(help="Items in this language (fr, en...).")]
    = None,
    keyword: Annotated[str | None, typer.Option(
        help="Words or phrases separated by commas; any of them as whole words, case and "
        "accents ignored.")] = None,
    category: Annotated[str | None, typer.Option(
        help="The item's category or service code (complaint logs, Open311).")] = None,
    position: Annotated[int | None, typer.Option(
        min=1, help="Where the rule is tried (1 first; default: last).")] = None,
    authority: AuthorityOpt = None,
) -> None:
    """Add a rule: items matching every criterion given go to DEPARTMENT."""
    from sqlalchemy import select

    from ecoute.errors import SiteNotFound
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope
    from ecoute.store.models import Site
    from ecoute.store.routing import RuleCriteria, add_rule
    from ecoute.store.sources import get_source_by_name

    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        owner = get_authority(session, authority or settings.default_authority)
        site_id = None
        if site is not None:
            site_id = session.scalar(select(Site.id).where(Site.authority_id == owner.id,
                                                           Site.name == site))
            if site_id is None:
                raise SiteNotFound(f"no site named {site!r} in {owner.slug}",
                                   hint="sites come from the sources' items and options")
        criteria = RuleCriteria(
            source_id=get_source_by_name(session, owner.id, source).id if source else None,
            channel=channel, site_id=site_id, determinant=determinant, polarity=polarity,
            lang=lang, keyword=keyword, category=category)
        rule = add_rule(session, owner, department, criteria, position=position,
                        created_by=_user())
        out.print(f"rule {rule.id} added at position {rule.position}: {department}. It "
                  "applies to items classified from now on; `ecoute routing apply --since "
                  "DATE` routes earlier ones.", highlight=False)


@routing_app.command("list")
def routing_list(authority: AuthorityOpt = None, as_json: JsonOpt = False) -> None:
    """The rules in the order they are tried, and where the other items go."""
    from sqlalchemy import select

    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope
    from ecoute.store.departments import department_names
    from ecoute.store.models import Site, Source
    from ecoute.store.routing import list_rules

    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        owner = get_authority(session, authority or settings.default_authority)
        rules = list_rules(session, owner.id)
        names = department_names(session, {r.department_id for r in rules})
        sources = dict(session.execute(select(Source.id, Source.name).where(
            Source.authority_id == owner.id)).all())
        sites = dict(session.execute(select(Site.id, Site.name).where(
            Site.authority_id == owner.id)).all())
        rows = [{"id": r.id, "position": r.position, "department": names[r.department_id],
                 "criteria": _criteria_text(r, sources, sites), "created_by": r.created_by}
                for r in rules]
        default = settings.default_department(owner.slug)
        promise = settings.response_promise(owner.slug)
    if as_json:
        print_json({"rules": rows, "default_department": default,
                    "response_promise_working_days": promise})
        return
    table = Table("#", "id", "department", "when")
    for r in rows:
        table.add_row(str(r["position"]), str(r["id"]), str(r["department"]),
                      str(r["criteria"]))
    out.print(table)
    out.print(f"Other items: {default or 'no department (set ECOUTE_ROUTING_DEFAULT_DEPARTMENT)'}"
              f". Response promise: {promise} working days.", highlight=False)


@routing_app.command("move")
def routing_move(rule_id: RuleArg, position: Annotated[int, typer.Argument(
        min=1, help="New position (1 is tried first).")]) -> None:
    """Try a rule at another position."""
    from ecoute.store.db import session_scope
    from ecoute.store.routing import change_rule, get_rule

    with session_scope(session_factory()) as session:
        rule = change_rule(session, get_rule(session, rule_id, None), position=position)
        out.print(f"rule {rule.id} is now tried at position {rule.position}", highlight=False)


@routing_app.command("remove")
def routing_remove(rule_id: RuleArg) -> None:
    """Remove a rule; the items it routed keep their department until `routing apply`."""
    from ecoute.store.db import session_scope
    from ecoute.store.routing import get_rule, remove_rule

    with session_scope(session_factory()) as session:
        remove_rule(session, get_rule(session, rule_id, None))
    out.print(f"rule {rule_id} removed", highlight=False)


def _day_start(day: datetime | None, zone: ZoneInfo) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day.date(), time(), zone).astimezone(timezone.utc)


@routing_app.command("apply")
def routing_apply(
    since: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="First day of the items "
                                            "routed again (received that day or later).")],
    until: Annotated[datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="Day after the last one (default: up to now).")] = None,
    authority: AuthorityOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Route again the items received from SINCE (after rules changed).

    Departments follow the rules; follow-ups open for the items that call for action and are
    recent enough (setting followup_max_age_days)."""
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope
    from ecoute.store.routing import apply_routing

    settings = get_settings()
    factory = session_factory(settings)
    with session_scope(factory) as session:
        owner = get_authority(session, authority or settings.default_authority)
        owner_id, zone = owner.id, ZoneInfo(owner.timezone)
    with out.status("routing"):
        report = apply_routing(factory, owner_id, settings, since=_day_start(since, zone),
                               until=_day_start(until, zone))
    if as_json:
        print_json({"routed": report.routed, "moved": report.moved,
                    "followups_opened": report.followups_opened})
        return
    out.print(f"{report.routed} items routed: {report.moved} changed department, "
              f"{report.followups_opened} follow-ups opened", highlight=False)
