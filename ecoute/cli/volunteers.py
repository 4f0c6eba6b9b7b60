"""``ecoute volunteers ...``: the phone back-up team (volunteers, a team per phone queue,
their hours)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ecoute.cli._common import AuthorityOpt, JsonOpt, out, print_json, session_factory
from ecoute.config.settings import get_settings
from ecoute.errors import InvalidRequest

volunteers_app = typer.Typer(
    help="The phone back-up team: volunteers, a team per phone queue, their hours (add, list, "
    "remove, team, teams, hours, check).", no_args_is_help=True)

DAYS = {"mon": 0, "lun": 0, "tue": 1, "mar": 1, "wed": 2, "mer": 2, "thu": 3, "jeu": 3,
        "fri": 4, "ven": 4, "sat": 5, "sam": 5, "sun": 6, "dim": 6}
_SLOT = re.compile(r"^\s*(\w{3})\w*\s+(\d{1,2})[:hH](\d{2})\s*-\s*(\d{1,2})[:hH](\d{2})\s*$")


def parse_slot(text: str) -> dict[str, Any]:
    """``mon 08:30-12:00`` (or ``lundi 8h30-12h00``) as a weekly slot."""
    match = _SLOT.match(text.lower())
    if not match or match.group(1) not in DAYS:
        raise InvalidRequest(f"cannot read the slot {text!r}",
                             hint="write a day and hours, e.g. 'mon 08:30-12:00' or "
                             "'lundi 8h30-12h00'")
    day, h1, m1, h2, m2 = match.groups()
    start, end = f"{int(h1):02d}:{m1}", f"{int(h2):02d}:{m2}"
    if not "00:00" <= start < end <= "24:00":
        raise InvalidRequest(f"the slot {text!r} does not end after it starts",
                             hint="e.g. 'mon 08:30-12:00'")
    return {"weekday": DAYS[day], "start": start, "end": min(end, "23:59")}


@volunteers_app.command("add")
def volunteers_add(
    name: Annotated[str, typer.Argument(help="Name shown in the lists and e-mails.")],
    email: Annotated[str, typer.Argument(help="Where the calls for help are sent.")],
    phone: Annotated[str | None, typer.Option(help="Phone number.")] = None,
    skill: Annotated[list[str] | None, typer.Option(help="A skill (repeat the option).")]
    = None,
    slot: Annotated[list[str] | None, typer.Option(
        help="When they may be called, e.g. 'mon 08:30-12:00' (repeat; none: any time).")]
    = None,
    department: Annotated[str | None, typer.Option(help="Their department.")] = None,
    authority: AuthorityOpt = None,
) -> None:
    """Add a volunteer."""
    from ecoute.store.authorities import Places, get_authority
    from ecoute.store.db import session_scope
    from ecoute.store.volunteers import add_volunteer

    if "@" not in email:
        raise InvalidRequest(f"{email!r} is not an e-mail address", hint="e.g. anne@mairie.fr")
    slots = [parse_slot(s) for s in slot or []]
    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        owner = get_authority(session, authority or settings.default_authority)
        volunteer = add_volunteer(
            session, owner.id, name=name, email=email, phone=phone, skills=list(skill or []),
            availability=slots, active=True,
            department_id=Places(owner.id).department_id(session, department))
        out.print(f"volunteer {volunteer.id} added: {name} <{volunteer.email}>. Add them to a "
                  "team with `ecoute volunteers team QUEUE --member EMAIL`.", highlight=False)


@volunteers_app.command("list")
def volunteers_list(authority: AuthorityOpt = None, as_json: JsonOpt = False) -> None:
    """The volunteers, their availability and teams."""
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope
    from ecoute.store.departments import department_names
    from ecoute.store.volunteers import list_volunteers, team_ids_of

    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        owner = get_authority(session, authority or settings.default_authority)
        people = list_volunteers(session, owner.id)
        names = department_names(session, {v.department_id for v in people
                                           if v.department_id is not None})
        teams = team_ids_of(session, [v.id for v in people])
        rows: list[dict[str, Any]] = [{"id": v.id, "name": v.name, "email": v.email, "phone": v.phone,
                 "skills": v.skills, "availability": v.availability, "active": v.active,
                 "department": names.get(v.department_id) if v.department_id else None,
                 "team_ids": teams[v.id]} for v in people]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "name", "e-mail", "department", "when", "teams", "active")
    for r in rows:
        when = ", ".join(f"{list(DAYS)[2 * s['weekday']]} {s['start']}-{s['end']}"
                         for s in r["availability"]) or "any time"
        table.add_row(str(r["id"]), r["name"], r["email"], r["department"] or "", when,
                      ", ".join(map(str, r["team_ids"])), "yes" if r["active"] else "no")
    out.print(table)


@volunteers_app.command("remove")
def volunteers_remove(email: Annotated[str, typer.Argument(help="The volunteer's e-mail.")],
                      authority: AuthorityOpt = None) -> None:
    """Remove a volunteer with their calls and hours."""
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope
    from ecoute.store.volunteers import volunteer_by_email

    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        owner = get_authority(session, authority or settings.default_authority)
        session.delete(volunteer_by_email(session, owner.id, email))
    out.print(f"volunteer {email} removed.", highlight=False)


@volunteers_app.command("team")
def volunteers_team(
    queue: Annotated[str, typer.Argument(help="The phone queue, as named in the call "
                                         "statistics (`GET /api/v1/phone/queues`).")],
    name: Annotated[str | None, typer.Option(help="Team name (default: the queue's).")] = None,
    member: Annotated[list[str] | None, typer.Option(
        help="A volunteer's e-mail to add (repeat the option).")] = None,
    department: Annotated[str | None, typer.Option(help="The team's department.")] = None,
    abandon_rate: Annotated[float | None, typer.Option(
        min=0.01, max=1, help="This queue's abandon-rate threshold (0.25 for 25 %).")] = None,
    avg_wait: Annotated[float | None, typer.Option(
        min=1, help="This queue's average-wait threshold, seconds.")] = None,
    authority: AuthorityOpt = None,
) -> None:
    """Create the back-up team of QUEUE, or change it, and add members."""
    from ecoute.store.authorities import Places, get_authority
    from ecoute.store.db import session_scope
    from ecoute.store.volunteers import add_member, add_team, team_of_queue, volunteer_by_email

    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        owner = get_authority(session, authority or settings.default_authority)
        places = Places(owner.id)
        team = team_of_queue(session, owner.id, queue)
        if team is None:
            team = add_team(session, owner.id, name=name or queue, queue=queue,
                            department_id=places.department_id(session, department),
                            thresholds={})
        elif name:
            team.name = name
        if department:
            team.department_id = places.department_id(session, department)
        own = dict(team.thresholds)
        own.update({k: v for k, v in (("abandon_rate", abandon_rate),
                                      ("avg_wait_seconds", avg_wait)) if v is not None})
        team.thresholds = own
        for email in member or []:
            add_member(session, team, volunteer_by_email(session, owner.id, email))
        out.print(f"back-up team {team.id} ({team.name}) of the queue {queue!r} ready.",
                  highlight=False)


@volunteers_app.command("teams")
def volunteers_teams(authority: AuthorityOpt = None, as_json: JsonOpt = False) -> None:
    """The back-up teams, their members and whether their queue is overloaded."""
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope
    from ecoute.store.phone import list_overloads
    from ecoute.store.volunteers import list_teams, members

    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        owner = get_authority(session, authority or settings.default_authority)
        overloaded = {o.queue: o.started_at for o in list_overloads(session, owner.id,
                                                                     active=True)}
        rows: list[dict[str, Any]] = [{"id": t.id, "name": t.name, "queue": t.queue, "thresholds": t.thresholds,
                 "members": [v.email for v in members(session, t.id)],
                 "overloaded_since": overloaded[t.queue].isoformat()
                 if t.queue in overloaded else None} for t in list_teams(session, owner.id)]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "team", "queue", "members", "overloaded since")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["queue"], ", ".join(r["members"]),
                      r["overloaded_since"] or "")
    out.print(table)


@volunteers_app.command("hours")
def volunteers_hours(
    month: Annotated[str | None, typer.Option(help="YYYY-MM (default: this month).")] = None,
    csv: Annotated[Path | None, typer.Option(help="Write the report as CSV here.")] = None,
    xlsx: Annotated[Path | None, typer.Option(help="Write the report as XLSX here.")] = None,
    authority: AuthorityOpt = None, as_json: JsonOpt = False,
) -> None:
    """The volunteers' hours of a month, per volunteer and department, as full-time
    equivalents (ECOUTE_FTE_HOURS_PER_MONTH)."""
    from ecoute.assessment.volunteer_hours import hours_report, to_csv, to_xlsx
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope
    from ecoute.store.models import utcnow

    now = utcnow()
    try:
        first = date.fromisoformat(f"{month}-01") if month else now.date().replace(day=1)
        if not 1970 <= first.year <= 2199:
            raise ValueError("year out of range")
    except ValueError as exc:
        raise InvalidRequest(f"cannot read the month {month!r}", hint="e.g. 2026-03") from exc
    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        owner = get_authority(session, authority or settings.default_authority)
        report = hours_report(session, owner, settings, first, now)
    if csv:
        csv.write_text(to_csv(report), encoding="utf-8")
    if xlsx:
        xlsx.write_bytes(to_xlsx(report))
    if as_json:
        print_json({"month": f"{first:%Y-%m}", "hours": report.hours, "fte": report.fte,
                    "volunteers": [r.__dict__ for r in report.volunteers],
                    "departments": [d.__dict__ for d in report.departments]})
        return
    table = Table("department", "volunteers", "hours", "FTE")
    for d in report.departments:
        table.add_row(d.department or "(none)", str(d.volunteers), f"{d.hours:.2f}",
                      f"{d.fte:.3f}")
    table.add_row("total", str(len(report.volunteers)), f"{report.hours:.2f}",
                  f"{report.fte:.3f}")
    out.print(table)


@volunteers_app.command("check")
def volunteers_check(as_json: JsonOpt = False) -> None:
    """Run the overload detection on every phone queue now and send the calls not sent yet
    (`ecoute run` does it every ECOUTE_PHONE_CHECK_MINUTES)."""
    from ecoute.scheduler.phone import check_phone_queues

    settings = get_settings()
    outcome = check_phone_queues(session_factory(settings), settings)
    if as_json:
        print_json(outcome)
        return
    out.print(f"{outcome['opened']} overloads started, {outcome['closed']} ended, "
              f"{outcome['activated']} teams called in; {outcome['notified']} volunteers "
              f"notified, {outcome['deferred']} to try again, {outcome['failed']} notices "
              "failed.", highlight=False)
