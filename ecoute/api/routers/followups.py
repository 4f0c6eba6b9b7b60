"""Follow-ups of the items that call for action: read by every reading key, changed by
officers and admins of the item's authority; each change is recorded with the key."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from ecoute.api.deps import (
    AuthorityDep,
    OfficerKey,
    SessionDep,
    SettingsDep,
    WriterSessionDep,
    key_actor,
)
from ecoute.api.filter_params import DepartmentFilter
from ecoute.api.followup_schemas import (
    FollowupChange,
    FollowupEventOut,
    FollowupOut,
    FollowupPage,
    NoteIn,
    StatusIn,
    followup_out,
)
from ecoute.api.schemas import COMMON_ERRORS, MAX_ID, error_responses
from ecoute.assessment.followups import authority_today, calendar_of, followup_views, view
from ecoute.config.settings import Settings
from ecoute.store.departments import department_names, get_department
from ecoute.store.followups import (
    add_note,
    change_followup,
    events_of,
    find_followup,
    get_followup,
    open_followup,
)
from ecoute.store.items import get_item
from ecoute.store.models import Authority, Followup, Item

router = APIRouter(tags=["follow-ups"], responses=COMMON_ERRORS)
ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="Id of the item")]


def _one(session: Session, settings: Settings, followup: Followup) -> FollowupOut:
    item = session.get(Item, followup.item_id)
    authority = session.get(Authority, followup.authority_id)
    assert item is not None and authority is not None
    shown = view(followup, item, ZoneInfo(authority.timezone), calendar_of(settings),
                 authority_today(authority))
    names = department_names(session, {item.department_id} if item.department_id else set())
    return followup_out(shown, names, events_of(session, [followup.id])[followup.id])


@router.get("/followups", response_model=FollowupPage)
def get_followups(
    session: SessionDep, settings: SettingsDep, authority: AuthorityDep,
    department_id: DepartmentFilter = None,
    overdue: Annotated[bool | None, Query(description="true: only overdue ones (open past "
                                          "their due date); false: the others")] = None,
    status: Annotated[StatusIn | None, Query(description="Only this status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> FollowupPage:
    """The authority's follow-ups, the earliest due first."""
    views = followup_views(session, authority, settings, department_id=department_id,
                           statuses=[status] if status else None, overdue=overdue)
    views.sort(key=lambda v: (v.due, v.followup.received_at, v.followup.id))
    page = views[offset:offset + limit]
    names = department_names(session, {v.item.department_id for v in page
                                       if v.item.department_id})
    return FollowupPage(followups=[followup_out(v, names) for v in page], total=len(views))


@router.get("/items/{item_id}/followup", response_model=FollowupOut,
            responses=error_responses(404))
def get_item_followup(item_id: ItemId, session: SessionDep, settings: SettingsDep,
                      authority: AuthorityDep) -> FollowupOut:
    """An item's follow-up with its due date and its history."""
    return _one(session, settings, get_followup(session, item_id, authority.id))


@router.put("/items/{item_id}/followup", response_model=FollowupOut,
            responses=error_responses(404, 409))
def put_item_followup(item_id: ItemId, change: FollowupChange, session: WriterSessionDep,
                      settings: SettingsDep, key: OfficerKey) -> FollowupOut:
    """Change an item's follow-up: status, assignee, due date or department (officer or admin
    keys). An item without one gets one: an officer may judge that it calls for action."""
    item = get_item(session, item_id, key.authority_id)
    actor = key_actor(key)
    followup = find_followup(session, item.id)
    if followup is None:
        authority = session.get(Authority, item.authority_id)
        assert authority is not None
        followup = open_followup(session, item, settings.response_promise(authority.slug),
                                 actor=actor)
    if change.department_id is not None:
        get_department(session, change.department_id, item.authority_id)
    change_followup(session, followup, change.model_dump(exclude_unset=True), actor=actor)
    return _one(session, settings, followup)


@router.post("/items/{item_id}/followup/notes", response_model=FollowupEventOut,
             status_code=201, responses=error_responses(404))
def post_followup_note(item_id: ItemId, body: NoteIn, session: WriterSessionDep,
                       key: OfficerKey) -> FollowupEventOut:
    """Add an internal note to an item's follow-up (officer or admin keys); notes are never
    shown outside the API and go with the item when it is erased."""
    followup = get_followup(session, item_id, key.authority_id)
    event = add_note(session, followup, body.note, actor=key_actor(key))
    return FollowupEventOut.model_validate(event, from_attributes=True)
