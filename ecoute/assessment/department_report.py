"""The month of each department, per determinant: what it received and what was done.

Read by the cross-department quality meeting: for every department and determinant, the
items received in the month, how many were negative on it, the follow-ups they opened, how
many were answered and how fast (working days), how many within the promise, what is still
open or overdue, and a few examples quoted from the sentence that talks about it.
"""

from __future__ import annotations

import re
import statistics
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from importlib.resources import files
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoute.assessment.call_facts import CallFacts, call_facts, facts_by_department
from ecoute.assessment.followups import FollowupView, day_start, followup_views
from ecoute.assessment.satisfaction import authority_today
from ecoute.config.settings import Settings
from ecoute.domain import DETERMINANTS, Polarity
from ecoute.errors import InvalidRequest
from ecoute.store.departments import department_names
from ecoute.store.items import tags_for
from ecoute.store.models import Authority, DeterminantTag, FollowupStatus, Item
from ecoute.store.routing import items_in_range
from ecoute.store.taggings import effective_tags, item_polarities

#: Row of the items no determinant was found in.
NO_DETERMINANT = "_none"
#: Determinant of the rows counting every item once.
ALL = "_all"
#: Department name of the items no department follows up.
NO_DEPARTMENT = ""
EXAMPLE_CHARS = 240
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(spec: str) -> date:
    """``2026-11`` → its first day."""
    match = _MONTH.match(spec.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InvalidRequest(f"month {spec!r} is not understood",
                             hint="write the year and month, e.g. 2026-11")
    return date(int(match.group(1)), int(match.group(2)), 1)


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def determinant_labels(settings: Settings, locale: str) -> dict[str, str]:
    """Determinant names as the lexicon labels them in ``locale`` (the name otherwise)."""
    path = settings.determinants_file
    text = path.read_text(encoding="utf-8") if path else \
        (files("ecoute.config") / "determinants.toml").read_text(encoding="utf-8")
    try:
        lexicon = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        lexicon = {}
    labels = {}
    for name in DETERMINANTS:
        entry = lexicon.get(name, {})
        label = entry.get("label", {}) if isinstance(entry, dict) else {}
        labels[name] = label.get(locale) or label.get("en") or name
    return labels


@dataclass
class Row:
    """One department and determinant (or all determinants, or all departments)."""

    department: str
    determinant: str
    received: int = 0
    negative: int = 0
    followups: int = 0
    answered: int = 0
    within_promise: int = 0
    due: int = 0
    closed: int = 0
    dismissed: int = 0
    open: int = 0
    overdue: int = 0
    days_to_answer: list[int] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    @property
    def median_days_to_answer(self) -> float | None:
        return float(statistics.median(self.days_to_answer)) if self.days_to_answer else None

    @property
    def share_within_promise(self) -> float | None:
        return self.within_promise / self.due if self.due else None

    def count(self, negative: bool, followup: FollowupView | None, today: date) -> None:
        self.received += 1
        self.negative += negative
        if followup is None:
            return
        status = followup.followup.status
        self.followups += 1
        self.closed += status == FollowupStatus.CLOSED
        self.dismissed += status == FollowupStatus.DISMISSED
        self.open += status in (FollowupStatus.NEW, FollowupStatus.ASSIGNED)
        self.overdue += followup.overdue
        if followup.days_to_answer is not None:
            self.answered += 1
            self.days_to_answer.append(followup.days_to_answer)
        if status != FollowupStatus.DISMISSED and (
                followup.days_to_answer is not None or followup.due < today):
            self.due += 1
            self.within_promise += bool(followup.answered_in_time)


@dataclass
class DepartmentReport:
    authority: str
    month: date
    locale: str
    generated_on: date
    promise_days: int
    #: Determinant labels in the authority's locale.
    labels: dict[str, str]
    #: Per department (name; "" for none) and determinant, departments by name.
    rows: list[Row]
    #: Per department, every item once (determinant ``ALL``).
    departments: list[Row]
    #: Per determinant across the authority, then its total (determinant ``ALL``).
    authority_rows: list[Row]
    #: The month's phone figures, facts beside the mentions of accessibility and waiting
    #: time: the authority's first (name ``""``), then each department's with figures.
    call_facts: list[tuple[str, CallFacts]] = field(default_factory=list)


def _quote(item: Item, tags: list[DeterminantTag], determinant: str) -> str:
    """The sentence of ``item`` that talks about ``determinant`` (the text when unknown)."""
    for tag in tags:
        if tag.determinant == determinant and tag.span_start is not None \
                and tag.span_end is not None and tag.span_end > tag.span_start:
            text = item.text[tag.span_start:tag.span_end]
            break
    else:
        text = item.text
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS - 1] + "…"


def department_report(
    session: Session, authority: Authority, settings: Settings, month: date, *,
    examples: int = 2, today: date | None = None,
) -> DepartmentReport:
    zone = ZoneInfo(authority.timezone)
    today = today or authority_today(authority)
    end = next_month(month)
    ids = items_in_range(session, authority.id, day_start(month, zone), day_start(end, zone))
    views = {v.item.id: v for v in followup_views(
        session, authority, settings, received_from=month,
        received_to=date.fromordinal(end.toordinal() - 1), today=today)}
    cells: dict[tuple[int, str], Row] = {}
    per_department: dict[int, Row] = {}
    per_determinant: dict[str, Row] = {}
    total = Row(department="", determinant=ALL)
    candidates: dict[tuple[int, str], list[tuple[bool, str]]] = defaultdict(list)
    departments: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        items = list(session.scalars(select(Item).where(Item.id.in_(chunk)).order_by(Item.id)))
        tags = tags_for(session, chunk)
        for item in items:
            department = item.department_id or 0
            departments.add(department)
            followup = views.get(item.id)
            polarities = item_polarities(tags[item.id]) or {NO_DETERMINANT: Polarity.NEUTRAL}
            kept = effective_tags(tags[item.id])
            negative_item = Polarity.NEGATIVE in polarities.values()
            per_department.setdefault(department, Row("", ALL)).count(
                negative_item, followup, today)
            total.count(negative_item, followup, today)
            for determinant, polarity in polarities.items():
                negative = polarity == Polarity.NEGATIVE
                cells.setdefault((department, determinant), Row("", determinant)).count(
                    negative, followup, today)
                per_determinant.setdefault(determinant, Row("", determinant)).count(
                    negative, followup, today)
                if len(candidates[department, determinant]) < 20 * examples:
                    candidates[department, determinant].append(
                        (not negative, _quote(item, kept, determinant)))
    names = department_names(session, departments - {0})
    order = sorted(departments, key=lambda d: (d == 0, names.get(d, "").casefold()))
    determinant_order = {name: n for n, name in enumerate((*DETERMINANTS, NO_DETERMINANT))}
    rows = []
    for department in order:
        per_department[department].department = names.get(department, NO_DEPARTMENT)
        for (dept, determinant), row in sorted(
                cells.items(), key=lambda kv: determinant_order[kv[0][1]]):
            if dept != department:
                continue
            row.department = names.get(department, NO_DEPARTMENT)
            # Negative examples first: the meeting is about what to improve.
            row.examples = [text for _, text in sorted(candidates[dept, determinant],
                                                       key=lambda c: c[0])[:examples]]
            rows.append(row)
    authority_rows = [per_determinant[d] for d in determinant_order if d in per_determinant]
    last_day = date.fromordinal(end.toordinal() - 1)
    whole = call_facts(session, authority, month, last_day)
    by_department = facts_by_department(session, authority, month, last_day)
    phone_names = department_names(session, set(by_department))
    facts = [("", whole)] if whole is not None else []
    facts += sorted(((phone_names.get(d, NO_DEPARTMENT), f) for d, f in by_department.items()),
                    key=lambda nf: nf[0].casefold())
    return DepartmentReport(
        authority=authority.name, month=month, locale=authority.locale, generated_on=today,
        promise_days=settings.response_promise(authority.slug),
        labels=determinant_labels(settings, authority.locale),
        rows=rows, departments=[per_department[d] for d in order],
        authority_rows=[*authority_rows, total], call_facts=facts,
    )
