"""Repository functions for the handling of cases (service requests, complaints): the items
whose source tracks when they were received, answered and closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoute.store.models import Department, Item, Site


@dataclass(frozen=True)
class Case:
    """When one case was received, first answered and closed, and where it belongs."""

    item_id: int
    channel: str
    received_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None
    site_id: int | None
    department_id: int | None


def cases_received(
    session: Session, authority_id: int, since: datetime, until: datetime, *,
    channel: str | None = None,
) -> list[Case]:
    """Cases received in [``since``, ``until``) (read through the index on
    ``(authority_id, received_at)``)."""
    query = select(Item.id, Item.channel, Item.received_at, Item.answered_at, Item.closed_at,
                   Item.site_id, Item.department_id).where(
        Item.authority_id == authority_id, Item.received_at >= since,
        Item.received_at < until)
    if channel:
        query = query.where(Item.channel == channel)
    return [Case(item_id, item_channel, received, answered, closed, site_id, department_id)
            for item_id, item_channel, received, answered, closed, site_id, department_id
            in session.execute(query.order_by(Item.received_at, Item.id))
            if received is not None]


def place_names(session: Session, authority_id: int) -> tuple[dict[int, str], dict[int, str]]:
    """``(departments, sites)`` of the authority, id → name."""
    departments = {i: name for i, name in session.execute(
        select(Department.id, Department.name).where(Department.authority_id == authority_id))}
    sites = {i: name for i, name in session.execute(
        select(Site.id, Site.name).where(Site.authority_id == authority_id))}
    return departments, sites
