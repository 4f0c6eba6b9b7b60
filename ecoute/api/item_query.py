"""The item filters of the API, read once from the query string: ``GET /api/v1/items`` and
the item exports take the same ones, documented in one place."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Query

from ecoute.api.deps import AuthorityDep
from ecoute.api.filter_params import ChannelFilter
from ecoute.api.schemas import DETERMINANT_ENUM, MAX_ID, known_determinant
from ecoute.domain import Polarity, Sentiment
from ecoute.errors import InvalidRequest
from ecoute.store.item_listing import ItemFilters
from ecoute.store.models import Authority


def instant(value: datetime | None, authority: Authority, name: str) -> datetime | None:
    """A UTC instant; a date or time written without an offset is read in the authority's
    time zone (``since=2026-01-01`` starts at its midnight)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(authority.timezone))
    try:
        return value.astimezone(timezone.utc)
    except OverflowError as exc:  # 0001-01-01 east of Greenwich, 9999-12-31 west of it
        raise InvalidRequest(f"{name} is out of the range of dates",
                             hint="use a date between years 1 and 9999") from exc


def _item_filters(
    authority: AuthorityDep,
    source_id: Annotated[int | None, Query(ge=1, le=MAX_ID,
                                           description="Only items of this source")] = None,
    channel: ChannelFilter = None,
    determinant: Annotated[str | None, Query(json_schema_extra=DETERMINANT_ENUM,
                                             description="Only items tagged with it")] = None,
    polarity: Annotated[Polarity | None, Query(description="With `determinant`: only this "
                                               "polarity; alone: any determinant")] = None,
    sentiment: Annotated[Sentiment | None, Query(
        description="Only items of this sentiment (an officer's correction, else the "
        "model's)")] = None,
    department_id: Annotated[int | None, Query(
        ge=1, le=MAX_ID, description="Only items of this department (ids: "
        "`GET /api/v1/departments`)")] = None,
    site_id: Annotated[int | None, Query(
        ge=1, le=MAX_ID, description="Only items of this site (ids: `GET /api/v1/sites`)")]
    = None,
    lang: Annotated[str | None, Query(max_length=16, description="Only items in this "
                                      "language (ISO 639-1 code: fr, en...)")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words the title or text "
                                   "contains, whatever their case and accents")] = None,
    since: Annotated[datetime | None, Query(
        description="Published at or after (ISO 8601 date or date-time; without an offset, "
        "in the authority's time zone)")] = None,
    until: Annotated[datetime | None, Query(
        description="Published before (ISO 8601, as `since`)")] = None,
) -> ItemFilters:
    return ItemFilters(
        authority_id=authority.id, source_id=source_id,
        channel=channel.value if channel else None,
        determinant=known_determinant(determinant) if determinant else None,
        polarity=polarity.value if polarity else None,
        sentiment=sentiment.value if sentiment else None,
        since=instant(since, authority, "since"), until=instant(until, authority, "until"),
        site_id=site_id, department_id=department_id, lang=(lang or "").strip() or None,
        text=(q or "").strip() or None,
    )


ItemFiltersDep = Annotated[ItemFilters, Depends(_item_filters)]
