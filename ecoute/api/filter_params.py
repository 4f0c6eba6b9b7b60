"""The query parameters the figures endpoints share (satisfaction, ratings, exports,
follow-ups, items): one definition each, so that they are checked and documented alike."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from ecoute.api.schemas import MAX_ID
from ecoute.domain import Channel

RollingWindow = Annotated[
    str,
    Query(
        json_schema_extra={"pattern": r"^[1-9][0-9]{0,3}d$"},
        description="Rolling window in days: 7d, 30d, 90d... (1d to 9999d)",
    ),
]
ChannelFilter = Annotated[Channel | None, Query(description="Only this channel")]
SiteFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this site")]
DepartmentFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this department")]
SourceFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this source")]
