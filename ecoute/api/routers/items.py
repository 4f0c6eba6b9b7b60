from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from ecoute.api.deps import (
    AuthorityDep,
    OfficerKey,
    SessionDep,
    SettingsDep,
    WriterSessionDep,
    scoped_authority,
)
from ecoute.api.item_query import ItemFiltersDep
from ecoute.api.schemas import (
    COMMON_ERRORS,
    MAX_ID,
    Correction,
    SentimentCorrection,
    ItemOut,
    ItemPage,
    Tag,
    error_responses,
)
from ecoute.collectors.limits import nesting_depth
from ecoute.store.item_listing import list_items
from ecoute.store.authorities import place_names
from ecoute.store.items import get_item, latest_taggings, tags_for
from ecoute.domain import Determinant, Polarity
from ecoute.store.models import Item
from ecoute.store.taggings import correct_determinant, correct_sentiment, effective_tags

router = APIRouter(tags=["items"], responses=COMMON_ERRORS)

#: Deepest ``extra`` shown; the JSON encoder of answers gives up past 255 levels, and one such
#: item (stored before pushes were bounded) must not break the listing of all the others.
SHOWN_EXTRA_MAX_DEPTH = 200
ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="Id of the item")]


def _shown_extra(extra: dict[str, Any]) -> dict[str, Any]:
    if nesting_depth(extra, SHOWN_EXTRA_MAX_DEPTH) > SHOWN_EXTRA_MAX_DEPTH:
        return {"not_shown": f"nested more than {SHOWN_EXTRA_MAX_DEPTH} levels deep"}
    return extra


def _views(session: Session, items: list[Item]) -> list[ItemOut]:
    ids = [i.id for i in items]
    tags, taggings = tags_for(session, ids), latest_taggings(session, ids)
    departments, sites = place_names(session, items)
    out = []
    for item in items:
        tagging = taggings.get(item.id)
        out.append(ItemOut(
            id=item.id, source_id=item.source_id, external_id=item.external_id,
            channel=item.channel, url=item.url, title=item.title, text=item.text, lang=item.lang,
            published_at=item.published_at, collected_at=item.collected_at,
            rating_value=item.rating_value, rating_scale=item.rating_scale,
            rating_norm=item.rating_norm,
            department_id=item.department_id, department=departments.get(item.department_id or 0),
            site_id=item.site_id, site=sites.get(item.site_id or 0),
            sentiment=item.human_sentiment or (tagging.sentiment if tagging else None),
            sentiment_provenance="human" if item.human_sentiment else
            ("model" if tagging else None),
            sentiment_scores=({"negative": tagging.p_negative, "neutral": tagging.p_neutral,
                               "positive": tagging.p_positive} if tagging else None),
            determinants=[
                Tag(determinant=t.determinant, polarity=t.polarity, confidence=t.confidence,
                    provenance=t.provenance,
                    span=(t.span_start, t.span_end) if t.span_start is not None
                    and t.span_end is not None else None)
                for t in effective_tags(tags[item.id])
                if t.polarity != Polarity.NONE  # a determinant a human removed
            ],
            extra=_shown_extra(item.extra),
        ))
    return out


@router.get("/items", response_model=ItemPage)
def get_items(
    session: SessionDep,
    filters: ItemFiltersDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200,
                                        description="next_cursor of the previous page")] = None,
) -> ItemPage:
    """Items newest first, with their sentiment, determinant tags, department and site, one
    page at a time."""
    items, next_cursor = list_items(session, filters, limit=limit, cursor=cursor)
    return ItemPage(items=_views(session, items), next_cursor=next_cursor)


@router.get("/items/{item_id}", response_model=ItemOut, responses=error_responses(404))
def get_one_item(item_id: ItemId, session: SessionDep, authority: AuthorityDep) -> ItemOut:
    return _views(session, [get_item(session, item_id, authority.id)])[0]


@router.put("/items/{item_id}/determinants/{determinant}", response_model=ItemOut,
            responses=error_responses(404))
def correct_item_determinant(
    item_id: ItemId,
    determinant: Annotated[Determinant, Path(description="The determinant corrected")],
    correction: Correction, session: WriterSessionDep,
    settings: SettingsDep, key: OfficerKey,
) -> ItemOut:
    """A quality officer sets (or, with a null polarity, removes) a determinant of an item.

    The correction wins over the model, survives re-classification, updates the satisfaction
    figures at once and becomes a training example (`ecoute train --from-corrections`).
    """
    authority = scoped_authority(session, settings, key, None)
    item = get_item(session, item_id, authority.id if key.authority_id else None)
    correct_determinant(session, item, determinant=determinant.value,
                        polarity=correction.polarity,
                        user=f"key:{key.prefix}" + (f" ({key.label})" if key.label else ""))
    return _views(session, [item])[0]


@router.put("/items/{item_id}/sentiment", response_model=ItemOut,
            responses=error_responses(404))
def correct_item_sentiment(
    item_id: ItemId, correction: SentimentCorrection, session: WriterSessionDep,
    settings: SettingsDep, key: OfficerKey,
) -> ItemOut:
    """A quality officer sets (or, with null, removes) the sentiment of an item.

    The correction wins over the model, survives re-classification, updates the satisfaction
    figures at once and becomes a training example of the sentiment head
    (`ecoute train --from-corrections`).
    """
    authority = scoped_authority(session, settings, key, None)
    item = get_item(session, item_id, authority.id if key.authority_id else None)
    correct_sentiment(session, item, sentiment=correction.sentiment,
                      user=f"key:{key.prefix}" + (f" ({key.label})" if key.label else ""))
    return _views(session, [item])[0]
