"""Follow-ups on the dashboard: shown on their items in the verbatims page, changed there by
an officer (the same store functions as ``PUT /api/v1/items/{id}/followup`` and its notes), and
counted per department on the departments page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from ecoute.api.deps import WriterSessionDep
from ecoute.api.web.auth import CorrectorForm
from ecoute.api.web.rendering import local_path
from ecoute.assessment.followups import FollowupView, calendar_of, followup_views, view
from ecoute.assessment.satisfaction import authority_today
from ecoute.config.settings import Settings
from ecoute.store.followups import (
    NOTE_MAX_CHARS,
    TRANSITIONS,
    add_note,
    change_followup,
    events_of,
    followups_of,
    get_followup,
)
from ecoute.store.models import Authority, FollowupEvent, FollowupStatus, Item

router = APIRouter(include_in_schema=False)
ItemId = Annotated[int, Path(ge=1, le=2**62)]
BackField = Annotated[str, Form(max_length=2000)]


@dataclass(frozen=True)
class ItemFollowup:
    """An item's follow-up as the verbatims page shows it."""

    shown: FollowupView
    #: The statuses it can move to, in the order of the flow.
    next_statuses: tuple[str, ...]
    events: list[FollowupEvent]


def item_followups(session: Session, settings: Settings, authority: Authority,
                   items: Sequence[Item]) -> dict[int, ItemFollowup]:
    """The follow-ups of those ``items`` that have one, with due dates and history."""
    found = followups_of(session, [i.id for i in items])
    if not found:
        return {}
    zone, calendar = ZoneInfo(authority.timezone), calendar_of(settings)
    today = authority_today(authority)
    events = events_of(session, [f.id for f in found.values()])
    order = [s.value for s in FollowupStatus]
    out = {}
    for item in items:
        followup = found.get(item.id)
        if followup is None:
            continue
        nexts = tuple(sorted(TRANSITIONS[followup.status], key=order.index))
        out[item.id] = ItemFollowup(view(followup, item, zone, calendar, today), nexts,
                                    events[followup.id])
    return out


#: What the departments page counts and the verbatims page filters on.
FOLLOWUP_STATES = ("open", "overdue", "closed")
_CLOSED = (FollowupStatus.CLOSED, FollowupStatus.DISMISSED)
_OPEN = (FollowupStatus.NEW, FollowupStatus.ASSIGNED)


@dataclass
class DepartmentFollowups:
    """Follow-ups of one department (or of the whole authority), whenever received."""

    open: int = 0
    overdue: int = 0
    #: Closed or dismissed.
    closed: int = 0


def department_followups(session: Session, settings: Settings, authority: Authority
                         ) -> dict[int | None, DepartmentFollowups]:
    """Per department id (None: the whole authority) its open, overdue and closed
    follow-ups."""
    counts: dict[int | None, DepartmentFollowups] = {None: DepartmentFollowups()}
    for shown in followup_views(session, authority, settings):
        status = shown.followup.status
        for key in {None, shown.item.department_id}:
            row = counts.setdefault(key, DepartmentFollowups())
            if status in _OPEN:
                row.open += 1
                row.overdue += shown.overdue
            elif status in _CLOSED:
                row.closed += 1
    return counts


def followup_item_ids(session: Session, settings: Settings, authority: Authority, state: str,
                      department_id: int | None) -> list[int]:
    """The items whose follow-up is ``state`` (one of ``FOLLOWUP_STATES``)."""
    views = followup_views(session, authority, settings, department_id=department_id,
                           statuses=_CLOSED if state == "closed" else _OPEN,
                           overdue=True if state == "overdue" else None)
    return [v.item.id for v in views]


def _back(back: str, item_id: int) -> RedirectResponse:
    target = local_path(back, "/verbatims")
    path, _, query = target.partition("?")
    kept = [p for p in query.split("&") if p and not p.startswith(("corrected=", "followed="))]
    query = "&".join([*kept, f"followed={item_id}"])
    return RedirectResponse(f"{path}?{query}#item-{item_id}", status_code=303)


@router.post("/verbatims/{item_id}/followup")
def change_item_followup(
    item_id: ItemId, session: WriterSessionDep, viewer: CorrectorForm,
    status: Annotated[str, Form(max_length=16)],
    assignee: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    back: BackField = "/verbatims",
) -> RedirectResponse:
    followup = get_followup(session, item_id, viewer.authority_id)
    changes: dict[str, object] = {}
    if assignee.strip() != (followup.assignee or ""):
        changes["assignee"] = assignee
    if status != followup.status:
        changes["status"] = status
        changes["reason"] = reason
    change_followup(session, followup, changes, actor=f"user:{viewer.name}")
    return _back(back, item_id)


@router.post("/verbatims/{item_id}/followup/notes")
def add_item_followup_note(
    item_id: ItemId, session: WriterSessionDep, viewer: CorrectorForm,
    note: Annotated[str, Form(max_length=NOTE_MAX_CHARS + 1000)],
    back: BackField = "/verbatims",
) -> RedirectResponse:
    followup = get_followup(session, item_id, viewer.authority_id)
    add_note(session, followup, note, actor=f"user:{viewer.name}")
    return _back(back, item_id)

