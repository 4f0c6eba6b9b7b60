"""The back-up volunteers' hours of a month, per volunteer and per department, as full-time
equivalents (``fte_hours_per_month``), and the same report as CSV or XLSX.

A call counts in the month (in the authority's time zone) it started. Its time is what the
volunteer declared, or else from the acceptance (the activation's start when accepted before
it) to the activation's end; a call of an activation still open counts until now.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from ecoute.config.settings import Settings
from ecoute.store.departments import department_names
from ecoute.store.models import Authority, BackupCall
from ecoute.store.volunteers import accepted_calls


@dataclass(frozen=True)
class VolunteerHours:
    volunteer_id: int
    name: str
    email: str
    department: str | None
    calls: int
    hours: float
    fte: float


@dataclass(frozen=True)
class DepartmentHours:
    department: str | None
    volunteers: int
    hours: float
    fte: float


@dataclass(frozen=True)
class HoursReport:
    month: date
    fte_hours_per_month: float
    volunteers: list[VolunteerHours]
    departments: list[DepartmentHours]
    hours: float
    fte: float


def month_bounds(month: date, timezone: str) -> tuple[datetime, datetime]:
    """The first instant of ``month`` and of the next one, in ``timezone``."""
    zone = ZoneInfo(timezone)
    first = month.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (datetime.combine(first, time(), zone), datetime.combine(following, time(), zone))


def call_minutes(call: BackupCall, now: datetime) -> float:
    """The minutes a call counts for (0 when it was accepted but has no start)."""
    if call.declared_minutes is not None:
        return float(call.declared_minutes)
    if call.started_at is None:
        return 0.0
    end = call.ended_at or now
    return max(0.0, (end - call.started_at).total_seconds() / 60)


def hours_report(session: Session, authority: Authority, settings: Settings, month: date,
                 now: datetime) -> HoursReport:
    start, end = month_bounds(month, authority.timezone)
    fte_hours = settings.fte_hours_per_month
    minutes: dict[int, float] = defaultdict(float)
    calls: dict[int, int] = defaultdict(int)
    people = {}
    for call, volunteer, activation in accepted_calls(session, authority.id, start, end):
        begun = call.started_at or activation.started_at
        if not start <= begun < end:
            continue
        minutes[volunteer.id] += call_minutes(call, now)
        calls[volunteer.id] += 1
        people[volunteer.id] = volunteer
    names = department_names(session, {v.department_id for v in people.values()
                                       if v.department_id is not None})
    rows = sorted((VolunteerHours(
        volunteer_id=v.id, name=v.name, email=v.email,
        department=names.get(v.department_id) if v.department_id else None,
        calls=calls[v.id], hours=round(minutes[v.id] / 60, 2),
        fte=round(minutes[v.id] / 60 / fte_hours, 4)) for v in people.values()),
        key=lambda r: (r.department or "", r.name))
    by_department: dict[str | None, list[VolunteerHours]] = defaultdict(list)
    for row in rows:
        by_department[row.department].append(row)
    departments = []
    for department, members in sorted(by_department.items(), key=lambda kv: kv[0] or ""):
        total = sum(minutes[m.volunteer_id] for m in members) / 60
        departments.append(DepartmentHours(department=department, volunteers=len(members),
                                           hours=round(total, 2),
                                           fte=round(total / fte_hours, 4)))
    total = sum(minutes.values()) / 60
    return HoursReport(month=month.replace(day=1), fte_hours_per_month=fte_hours,
                       volunteers=rows, departments=departments, hours=round(total, 2),
                       fte=round(total / fte_hours, 4))


VOLUNTEER_COLUMNS = ("volunteer", "email", "department", "calls", "hours", "fte")
DEPARTMENT_COLUMNS = ("department", "volunteers", "hours", "fte")
NO_DEPARTMENT = "(no department)"


def _volunteer_rows(report: HoursReport) -> list[list[object]]:
    return [[r.name, r.email, r.department or NO_DEPARTMENT, r.calls, r.hours, r.fte]
            for r in report.volunteers]


def _department_rows(report: HoursReport) -> list[list[object]]:
    rows: list[list[object]] = [[d.department or NO_DEPARTMENT, d.volunteers, d.hours, d.fte]
                                for d in report.departments]
    rows.append(["total", len(report.volunteers), report.hours, report.fte])
    return rows


def to_csv(report: HoursReport) -> str:
    """The volunteers, then a blank line and the departments with the total (``;``-separated,
    which spreadsheets set to French read as columns)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(VOLUNTEER_COLUMNS)
    writer.writerows(_volunteer_rows(report))
    writer.writerow([])
    writer.writerow(DEPARTMENT_COLUMNS)
    writer.writerows(_department_rows(report))
    return out.getvalue()


def to_xlsx(report: HoursReport) -> bytes:
    """Two sheets, ``volunteers`` and ``departments``; the second says the FTE hours used."""
    book = Workbook()
    sheets = [(book.active, "volunteers", VOLUNTEER_COLUMNS, _volunteer_rows(report)),
              (book.create_sheet(), "departments", DEPARTMENT_COLUMNS, _department_rows(report))]
    for sheet, title, columns, rows in sheets:
        assert sheet is not None
        sheet.title = title
        sheet.append(list(columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
    note = book["departments"]
    note.append([])
    note.append([f"month {report.month:%Y-%m}; one full-time equivalent = "
                 f"{report.fte_hours_per_month} hours"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
