"""Departments as the services that act on feedback: finding one, and moving items between
them while the satisfaction rollups follow (an item counts for the department it is in)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoute.errors import DepartmentNotFound
from ecoute.store.models import Department, Followup, FollowupEvent, Item, ItemRouting, utcnow
from ecoute.store.taggings import restate, retract


def get_department(session: Session, department_id: int, authority_id: int | None) -> Department:
    department = session.get(Department, department_id)
    if department is None or (authority_id is not None
                              and department.authority_id != authority_id):
        raise DepartmentNotFound(
            f"no department with id {department_id}",
            hint="departments are listed by `GET /api/v1/departments` (or `ecoute routing list`)")
    return department


def department_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Department.id, Department.name).where(
        Department.id.in_(ids))).all())


@dataclass(frozen=True)
class Placement:
    """Where an item goes and why."""

    department_id: int | None
    origin: str  # a RoutingOrigin
    rule_id: int | None = None


def routings_of(session: Session, item_ids: Sequence[int]) -> dict[int, ItemRouting]:
    if not item_ids:
        return {}
    return {r.item_id: r for r in session.scalars(
        select(ItemRouting).where(ItemRouting.item_id.in_(item_ids)))}


def place_items(
    session: Session, placements: Sequence[tuple[Item, Placement]], *, actor: str
) -> int:
    """Put each item in its department and record why; returns how many changed department.

    The first placement of an item keeps its department as the source's; a follow-up of an
    item that changes department records the move.
    """
    items = [item for item, _ in placements]
    routings = routings_of(session, [i.id for i in items])
    moving = [(item, p) for item, p in placements if item.department_id != p.department_id]
    delta = retract(session, [item for item, _ in moving]) if moving else {}
    followups = {f.item_id: f for f in session.scalars(select(Followup).where(
        Followup.item_id.in_([item.id for item, _ in moving])))} if moving else {}
    names = department_names(session, {d for item, p in moving
                                       for d in (item.department_id, p.department_id) if d})
    now = utcnow()
    for item, placement in placements:
        routing = routings.get(item.id)
        if routing is None:
            routing = ItemRouting(item_id=item.id, source_department_id=item.department_id)
            session.add(routing)
        routing.origin, routing.rule_id, routing.routed_at = (
            placement.origin, placement.rule_id, now)
    for item, placement in moving:
        followup = followups.get(item.id)
        if followup is not None:
            session.add(FollowupEvent(
                followup_id=followup.id, at=now, actor=actor, action="department",
                old_value=names.get(item.department_id or 0),
                new_value=names.get(placement.department_id or 0)))
            followup.updated_at = now
        item.department_id = placement.department_id
    if moving:
        restate(session, [item for item, _ in moving], delta)
    else:
        session.flush()
    return len(moving)
