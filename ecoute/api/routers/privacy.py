"""Erasure requests over the API (``POST /privacy/erasure``): admin keys only, limited to the
key's authority (an installation-wide admin key may name one, or erase everywhere)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from ecoute.api.deps import SettingsDep, WriterSessionDep, require_key, scoped_authority
from ecoute.api.schemas import COMMON_ERRORS, MAX_ID, error_responses
from ecoute.data_requests import erase_request
from ecoute.store.authorities import get_authority
from ecoute.store.models import ApiKey, Authority, Role

router = APIRouter(tags=["privacy"], responses=COMMON_ERRORS)
AdminKey = Annotated[ApiKey, Depends(require_key(Role.ADMIN))]


class ErasureIn(BaseModel):
    """One of ``email``, ``phone``, ``author`` or ``item_id``."""

    email: str | None = Field(None, description="The person's e-mail address.")
    phone: str | None = Field(None, description="The person's phone number (a volunteer of "
                              "the phone back-up team).")
    author: str | None = Field(None, description="The author name as a source showed it.")
    item_id: int | None = Field(None, ge=1, le=MAX_ID, description="One item's id.")
    authority: str | None = Field(
        None, description="Authority slug; a scoped key always acts on its own. Empty with an "
        "installation-wide key: every authority.")
    dry_run: bool = Field(False, description="Only count what would be removed.")


class ErasureOut(BaseModel):
    """The receipt: what was removed, never the person's data."""

    matched_by: str
    authority: str | None
    dry_run: bool
    started_at: datetime
    finished_at: datetime | None
    items: list[int]
    items_removed: int
    taggings: int
    determinant_tags: int
    corrections: int
    rollup_cells: int
    quarantine: int
    run_errors: int
    source_errors: int
    volunteers: int = Field(description="Volunteers anonymised (their hours kept).")
    other_cells: dict[str, int]


@router.post("/privacy/erasure", response_model=ErasureOut, responses=error_responses(404))
def post_erasure(
    body: ErasureIn, key: AdminKey, session: WriterSessionDep, settings: SettingsDep
) -> ErasureOut:
    """Erase a person's data and take it out of the figures; answers the receipt."""
    scope: Authority | None
    if key.authority_id is not None:
        scope = scoped_authority(session, settings, key, body.authority)
    else:
        scope = get_authority(session, body.authority) if body.authority else None
    receipt = erase_request(session, settings, email=body.email, author=body.author,
                            item_id=body.item_id, authority=scope, dry_run=body.dry_run,
                            phone=body.phone)
    return ErasureOut(**receipt.__dict__, items_removed=len(receipt.items))
