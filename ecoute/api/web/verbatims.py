"""The verbatims page: the items behind a figure, their tagged sentences highlighted, and an
officer's corrections in place (the same store functions as ``PUT /api/v1/items/...``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from ecoute.api.deps import SessionDep, SettingsDep, WriterSessionDep
from ecoute.api.web.auth import CorrectorForm, ReaderDep, Viewer, viewer_authority
from ecoute.api.web.followups import followup_item_ids, item_followups
from ecoute.api.web.figures import (
    DEFAULT_WINDOW,
    WINDOWS,
    Filters,
    calendar_windows,
    figure_of,
    window_pair,
)
from ecoute.api.web.i18n import Translator, negotiate
from ecoute.api.web.overview import AuthoritySlug, IdQuery, places
from ecoute.api.web.rendering import link, local_path, page
from ecoute.assessment.satisfaction import Window, authority_today
from ecoute.config.settings import Settings
from ecoute.domain import DETERMINANTS, Channel, Polarity, Sentiment
from ecoute.errors import InvalidRequest
from ecoute.store.item_listing import ItemFilters, list_items
from ecoute.store.items import get_item, latest_taggings, tags_for
from ecoute.store.models import Authority, DeterminantTag, Item
from ecoute.store.sources import list_sources
from ecoute.store.taggings import correct_determinant, correct_sentiment, effective_tags

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25


@dataclass(frozen=True)
class Segment:
    text: str
    polarity: str | None  # None: not part of a tagged sentence
    determinants: tuple[str, ...] = ()


def segments(text: str, tags: list[DeterminantTag], focus: str | None) -> list[Segment]:
    """``text`` cut into plain pieces and tagged sentences (of ``focus`` only, when given);
    overlapping spans are drawn as one."""
    spans = sorted(
        (int(t.span_start), int(t.span_end), t.polarity, t.determinant) for t in tags
        if t.span_start is not None and t.span_end is not None and t.polarity != Polarity.NONE
        and 0 <= t.span_start < t.span_end <= len(text)
        and (focus is None or t.determinant == focus))
    merged: list[tuple[int, int, str, tuple[str, ...]]] = []
    for start, end, polarity, determinant in spans:
        if merged and start < merged[-1][1]:
            first, last, shown, names = merged[-1]
            merged[-1] = (first, max(last, end), shown, (*names, determinant))
        else:
            merged.append((start, end, polarity, (determinant,)))
    out, pos = [], 0
    for start, end, polarity, names in merged:
        if start > pos:
            out.append(Segment(text[pos:start], None))
        out.append(Segment(text[start:end], polarity, names))
        pos = end
    if pos < len(text):
        out.append(Segment(text[pos:], None))
    return out


def _instant(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(timezone.utc)


def _window(authority: Authority, spec: str, since: date | None, until: date | None) -> Window:
    if since or until:
        today = authority_today(authority)
        start, end = since or date(2000, 1, 1), until or today
        if end < start:
            raise InvalidRequest("the period ends before it starts",
                                 hint="choose an end date after the start date")
        return Window(start, end)
    return window_pair(spec, authority_today(authority))[0]


def _views(session: Session, items: list[Item], focus: str | None) -> list[dict[str, object]]:
    ids = [i.id for i in items]
    tags, taggings = tags_for(session, ids), latest_taggings(session, ids)
    views = []
    for item in items:
        kept = [t for t in effective_tags(tags[item.id]) if t.polarity != Polarity.NONE]
        tagging = taggings.get(item.id)
        views.append({
            "item": item, "tags": kept,
            "segments": segments(item.text, kept, focus if any(
                t.determinant == focus and t.span_start is not None for t in kept) else None),
            "sentiment": item.human_sentiment or (tagging.sentiment if tagging else None),
            "sentiment_by": "human" if item.human_sentiment else ("model" if tagging else None),
        })
    return views


@router.get("/verbatims", response_class=HTMLResponse)
def verbatims_page(
    request: Request, session: SessionDep, settings: SettingsDep, viewer: ReaderDep,
    authority: AuthoritySlug = None,
    window: Annotated[str, Query(max_length=10)] = DEFAULT_WINDOW,
    since: date | None = None, until: date | None = None,
    determinant: Annotated[str | None, Query(max_length=64)] = None,
    polarity: Polarity | None = None, sentiment: Sentiment | None = None,
    channel: Channel | None = None, source_id: IdQuery = None, site_id: IdQuery = None,
    department_id: IdQuery = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    corrected: IdQuery = None,
    followup: Annotated[Literal["open", "overdue", "closed"] | None, Query()] = None,
    followed: IdQuery = None,
) -> HTMLResponse:
    owner = viewer_authority(session, settings, viewer, authority)
    if determinant and determinant not in DETERMINANTS:
        raise InvalidRequest(f"{determinant!r} is not a determinant",
                             hint=f"choose one of {', '.join(DETERMINANTS)}")
    span = _window(owner, window, since, until)
    zone = ZoneInfo(owner.timezone)
    # Follow-ups are listed whenever their items came, unless a period is asked for.
    dated = not followup or bool(since or until)
    filters = ItemFilters(
        authority_id=owner.id, source_id=source_id, channel=channel.value if channel else None,
        determinant=determinant or None, polarity=polarity.value if polarity else None,
        since=_instant(span.start, zone) if dated else None,
        until=_instant(span.end + timedelta(days=1), zone) if dated else None,
        site_id=site_id, department_id=department_id, lang=lang or None,
        text=(q or "").strip() or None, sentiment=sentiment.value if sentiment else None,
        ids=followup_item_ids(session, settings, owner, followup, department_id)
        if followup else None,
    )
    items, next_cursor = list_items(session, filters, limit=PAGE_SIZE, cursor=cursor)
    figure = figure_of(session, owner, span, determinant or None,
                       min_sample_size=settings.min_sample_size,
                       filters=Filters(channel=filters.channel, site_id=site_id,
                                       department_id=department_id))
    known = places(session, owner)
    t = Translator(negotiate(request, owner.locale))
    params = {"authority": authority, "window": window if not (since or until) else None,
              "since": since.isoformat() if since else None,
              "until": until.isoformat() if until else None, "determinant": determinant,
              "polarity": polarity.value if polarity else None, "channel": filters.channel,
              "source_id": source_id, "site_id": site_id, "department_id": department_id,
              "lang": lang, "q": q, "sentiment": filters.sentiment, "followup": followup}
    return page(request, "verbatims.html", viewer=viewer, authority=owner, nav="verbatims",
                views=_views(session, items, determinant), figure=figure, span=span,
                params=params, window=window, windows=WINDOWS,
                calendar=calendar_windows(authority_today(owner)), corrected=corrected,
                followups=item_followups(session, settings, owner, items), followed=followed,
                next_link=link("/verbatims", params, cursor=next_cursor) if next_cursor
                else None,
                sources=[(s.id, s.name) for s, _n in list_sources(session, owner.id)],
                polarity_options=[(p.value, t(f"polarity.{p.value}")) for p in Polarity
                                  if p != Polarity.NONE],
                sentiments=[s.value for s in Sentiment],
                sentiment_options=[(s.value, t(f"sentiment.{s.value}")) for s in Sentiment],
                site_names=dict(known["sites"]),
                department_names=dict(known["departments"]), **known)


ItemId = Annotated[int, Path(ge=1, le=2**62)]
BackField = Annotated[str, Form(max_length=2000)]


def _back(back: str, item_id: int) -> RedirectResponse:
    target = local_path(back, "/verbatims")
    path, _, query = target.partition("?")
    kept = "&".join(p for p in query.split("&")
                    if p and not p.startswith(("corrected=", "followed=")))
    joined = f"{path}?{kept}&corrected={item_id}" if kept else f"{path}?corrected={item_id}"
    return RedirectResponse(f"{joined}#item-{item_id}", status_code=303)


def _item(session: Session, settings: Settings, viewer: Viewer, item_id: int) -> Item:
    scope = None
    if viewer.authority_id is not None:
        scope = viewer_authority(session, settings, viewer, None).id
    return get_item(session, item_id, scope)


@router.post("/verbatims/{item_id}/determinant")
def correct_item_determinant(
    item_id: ItemId, session: WriterSessionDep, settings: SettingsDep, viewer: CorrectorForm,
    determinant: Annotated[str, Form(max_length=64)],
    polarity: Annotated[str, Form(max_length=16)], back: BackField = "/verbatims",
) -> RedirectResponse:
    if determinant not in DETERMINANTS:
        raise InvalidRequest(f"{determinant!r} is not a determinant",
                             hint=f"choose one of {', '.join(DETERMINANTS)}")
    if polarity not in {p.value for p in Polarity}:
        raise InvalidRequest(f"{polarity!r} is not a polarity",
                             hint="positive, negative, neutral, or none to remove it")
    item = _item(session, settings, viewer, item_id)
    correct_determinant(session, item, determinant=determinant,
                        polarity=None if polarity == Polarity.NONE else polarity,
                        user=f"user:{viewer.name}")
    return _back(back, item_id)


@router.post("/verbatims/{item_id}/sentiment")
def correct_item_sentiment(
    item_id: ItemId, session: WriterSessionDep, settings: SettingsDep, viewer: CorrectorForm,
    sentiment: Annotated[str, Form(max_length=16)], back: BackField = "/verbatims",
) -> RedirectResponse:
    if sentiment not in {*(s.value for s in Sentiment), "model"}:
        raise InvalidRequest(f"{sentiment!r} is not a sentiment",
                             hint="positive, neutral, negative, or model to use the model's")
    item = _item(session, settings, viewer, item_id)
    correct_sentiment(session, item, sentiment=None if sentiment == "model" else sentiment,
                      user=f"user:{viewer.name}")
    return _back(back, item_id)
