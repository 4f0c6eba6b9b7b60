"""Follow-ups: what is done about the items that call for action, and who did it when.

A follow-up goes new → assigned → answered → closed, or is dismissed with a reason; a closed,
answered or dismissed one can be reopened (assigned again). Every change, note and department
move is a ``FollowupEvent`` row that nothing updates or deletes: the history a quality meeting
or a mediator reads.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoute.config.settings import Settings
from ecoute.domain import Sentiment
from ecoute.errors import FollowupNotFound, InvalidRequest, InvalidTransition
from ecoute.store.departments import Placement, place_items
from ecoute.store.items import get_item
from ecoute.store.models import (
    Followup,
    FollowupEvent,
    FollowupStatus,
    Item,
    RoutingOrigin,
    utcnow,
)

S = FollowupStatus
#: The statuses each status can move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ASSIGNED, S.ANSWERED, S.DISMISSED}),
    S.ASSIGNED: frozenset({S.ANSWERED, S.DISMISSED}),
    S.ANSWERED: frozenset({S.CLOSED, S.ASSIGNED}),
    S.CLOSED: frozenset({S.ASSIGNED}),
    S.DISMISSED: frozenset({S.ASSIGNED}),
}
#: Statuses still waiting for an answer: the ones that can be overdue.
OPEN = (S.NEW, S.ASSIGNED)
NOTE_MAX_CHARS = 10_000


def calls_for_action(item: Item, sentiment: str | None, settings: Settings) -> bool:
    """Complaints and service requests always; reviews (by default) when negative."""
    if item.channel in settings.followup_channels:
        return True
    return item.channel in settings.followup_negative_channels \
        and sentiment == Sentiment.NEGATIVE


def received_at(item: Item) -> datetime:
    """When the authority got the item: its publication, or its collection when undated."""
    return item.published_at or item.collected_at


def open_followups(
    session: Session, candidates: Sequence[tuple[Item, str | None]], settings: Settings,
    slugs: Mapping[int, str], *, now: datetime | None = None,
) -> int:
    """Open a follow-up for each ``(item, sentiment)`` that calls for action and has none,
    unless it was received more than ``followup_max_age_days`` ago; returns how many."""
    now = now or utcnow()
    oldest = now - timedelta(days=settings.followup_max_age_days) \
        if settings.followup_max_age_days else None
    wanted = [item for item, sentiment in candidates
              if calls_for_action(item, sentiment, settings)
              and (oldest is None or received_at(item) >= oldest)]
    if not wanted:
        return 0
    existing = set(session.scalars(select(Followup.item_id).where(
        Followup.item_id.in_([i.id for i in wanted]))))
    opened = [
        Followup(item_id=item.id, authority_id=item.authority_id, status=S.NEW,
                 received_at=received_at(item), opened_at=now, updated_at=now,
                 promise_days=settings.response_promise(slugs[item.authority_id]))
        for item in wanted if item.id not in existing
    ]
    session.add_all(opened)
    session.flush()
    session.add_all([FollowupEvent(followup_id=f.id, at=now, actor="routing rules",
                                   action="opened", new_value=S.NEW) for f in opened])
    session.flush()
    return len(opened)


def open_followup(session: Session, item: Item, promise_days: int, *, actor: str,
                  now: datetime | None = None) -> Followup:
    """Open a follow-up an officer asked for on an item routing did not pick."""
    now = now or utcnow()
    followup = Followup(item_id=item.id, authority_id=item.authority_id, status=S.NEW,
                        received_at=received_at(item), opened_at=now, updated_at=now,
                        promise_days=promise_days)
    session.add(followup)
    session.flush()
    session.add(FollowupEvent(followup_id=followup.id, at=now, actor=actor[:200],
                              action="opened", new_value=S.NEW))
    session.flush()
    return followup


def find_followup(session: Session, item_id: int) -> Followup | None:
    return session.scalar(select(Followup).where(Followup.item_id == item_id))


def followups_of(session: Session, item_ids: Collection[int]) -> dict[int, Followup]:
    """The follow-ups of those of ``item_ids`` that have one, by item id."""
    if not item_ids:
        return {}
    return {f.item_id: f for f in session.scalars(
        select(Followup).where(Followup.item_id.in_(list(item_ids))))}


def get_followup(session: Session, item_id: int, authority_id: int | None) -> Followup:
    """The follow-up of an item (refused as not found for another authority's item)."""
    get_item(session, item_id, authority_id)
    followup = find_followup(session, item_id)
    if followup is None:
        raise FollowupNotFound(
            f"item {item_id} has no follow-up",
            hint="follow-ups are opened for complaints, service requests and negative reviews "
            "when they are routed; `ecoute routing apply --since DATE` routes older items")
    return followup


def _status_change(followup: Followup, status: str, reason: str | None, now: datetime) -> None:
    if status not in TRANSITIONS:
        raise InvalidRequest(f"unknown status {status!r}",
                             hint=f"statuses: {', '.join(TRANSITIONS)}")
    if status not in TRANSITIONS[followup.status]:
        nexts = ", ".join(sorted(TRANSITIONS[followup.status]))
        raise InvalidTransition(f"a {followup.status} follow-up cannot become {status}",
                                hint=f"from {followup.status} it can become {nexts}")
    if status == S.ASSIGNED and not followup.assignee:
        raise InvalidRequest("an assigned follow-up needs an assignee",
                             hint="give `assignee` (a name or a team) with the status")
    if status == S.DISMISSED and not (reason or "").strip():
        raise InvalidRequest("dismissing a follow-up needs a reason",
                             hint="say why in `reason` (a duplicate, not ours, spam...)")
    if status == S.ANSWERED:
        followup.answered_at = followup.answered_at or now  # the first answer is the one awaited
    elif status == S.CLOSED:
        followup.closed_at = now
    elif status == S.DISMISSED:
        followup.dismissed_reason = (reason or "").strip()
        followup.closed_at = now
    elif status == S.ASSIGNED:  # reopened
        followup.closed_at, followup.dismissed_reason = None, None
    followup.status = status


def change_followup(
    session: Session, followup: Followup, changes: Mapping[str, Any], *, actor: str,
    now: datetime | None = None,
) -> list[FollowupEvent]:
    """Apply ``changes`` (any of ``status``, ``assignee``, ``due_on``, ``department_id``,
    ``reason``; a key present with None clears assignee or due date) and record each."""
    now = now or utcnow()
    events: list[FollowupEvent] = []

    def record(action: str, old: object, new: object, note: str | None = None) -> None:
        events.append(FollowupEvent(
            followup_id=followup.id, at=now, actor=actor[:200], action=action, note=note,
            old_value=None if old is None else str(old)[:400],
            new_value=None if new is None else str(new)[:400]))

    status = changes.get("status")
    if "assignee" in changes:
        assignee = (changes["assignee"] or "").strip()[:200] or None
        if assignee != followup.assignee:
            record("assignee", followup.assignee, assignee)
            followup.assignee = assignee
        if assignee and followup.status == S.NEW and status is None:
            status = S.ASSIGNED  # naming who acts is assigning
    if status is not None and status != followup.status:
        old = followup.status
        _status_change(followup, status, changes.get("reason"), now)
        record("status", old, status, note=(changes.get("reason") or None))
    if "due_on" in changes and changes["due_on"] != followup.due_on:
        due: date | None = changes["due_on"]
        record("due", followup.due_on, due)
        followup.due_on = due
    if changes.get("department_id") is not None:
        item = session.get(Item, followup.item_id)
        assert item is not None
        if item.department_id != changes["department_id"]:
            session.add_all(events)
            place_items(session, [(item, Placement(changes["department_id"],
                                                   RoutingOrigin.MANUAL))], actor=actor)
    if events:
        followup.updated_at = now
        session.add_all(events)
    session.flush()
    return events


def add_note(session: Session, followup: Followup, note: str, *, actor: str,
             now: datetime | None = None) -> FollowupEvent:
    text = note.strip()
    if not text:
        raise InvalidRequest("the note is empty")
    if len(text) > NOTE_MAX_CHARS:
        raise InvalidRequest(f"the note is {len(text)} characters long",
                             hint=f"keep it under {NOTE_MAX_CHARS} characters")
    event = FollowupEvent(followup_id=followup.id, at=now or utcnow(), actor=actor[:200],
                          action="note", note=text)
    followup.updated_at = event.at
    session.add(event)
    session.flush()
    return event


def events_of(session: Session, followup_ids: Collection[int]) -> dict[int, list[FollowupEvent]]:
    out: dict[int, list[FollowupEvent]] = {i: [] for i in followup_ids}
    if followup_ids:
        for event in session.scalars(select(FollowupEvent).where(
                FollowupEvent.followup_id.in_(list(followup_ids))).order_by(FollowupEvent.id)):
            out[event.followup_id].append(event)
    return out


def list_followups(
    session: Session, authority_id: int, *, department_id: int | None = None,
    statuses: Collection[str] | None = None, received_since: datetime | None = None,
    received_until: datetime | None = None,
) -> list[tuple[Followup, Item]]:
    """An authority's follow-ups with their items, oldest received first."""
    query = select(Followup, Item).join(Item, Item.id == Followup.item_id).where(
        Followup.authority_id == authority_id)
    if department_id is not None:
        query = query.where(Item.department_id == department_id)
    if statuses:
        query = query.where(Followup.status.in_(list(statuses)))
    if received_since is not None:
        query = query.where(Followup.received_at >= received_since)
    if received_until is not None:
        query = query.where(Followup.received_at < received_until)
    return [(f, i) for f, i in session.execute(query.order_by(Followup.received_at,
                                                              Followup.id))]
