"""What a digest reads besides the satisfaction figures: the volume by channel (rollups),
representative mentions of a determinant (through the item and tag indexes, never a scan),
and how much each source brought in a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, aliased

from ecoute.domain import OVERALL, Provenance
from ecoute.store.models import DailyRollup, DeterminantTag, Item, Source


def channel_volumes(
    session: Session, authority_id: int, start: date, end: date, *,
    department_id: int | None = None, site_id: int | None = None,
) -> dict[str, int]:
    """Classified items per channel with a local day in [start, end] (one rollup row per
    item and day, under the overall sentiment)."""
    query = (
        select(DailyRollup.channel,
               func.sum(DailyRollup.pos + DailyRollup.neg + DailyRollup.neu))
        .where(DailyRollup.authority_id == authority_id, DailyRollup.determinant == OVERALL,
               DailyRollup.day >= start, DailyRollup.day <= end)
        .group_by(DailyRollup.channel)
    )
    if department_id is not None:
        query = query.where(DailyRollup.department_id == department_id)
    if site_id is not None:
        query = query.where(DailyRollup.site_id == site_id)
    return {channel: int(total or 0) for channel, total in session.execute(query)}


@dataclass(frozen=True)
class Mention:
    item_id: int
    text: str  # the tagged sentence when its span is known, else the item's text
    source: str
    source_id: int
    channel: str
    published_at: datetime | None
    confidence: float
    url: str | None


def representative_mentions(
    session: Session, authority_id: int, since: datetime, until: datetime, *,
    determinant: str, polarity: str, min_confidence: float, candidates: int = 60,
    department_id: int | None = None, site_id: int | None = None,
) -> list[Mention]:
    """The most confident mentions of ``determinant`` with ``polarity`` in items published in
    [since, until), best first. A model's tag that a person overruled (a human tag of the
    same determinant on the item) is left out. Texts are stored redacted."""
    human = aliased(DeterminantTag)
    overruled = select(human.id).where(
        human.item_id == DeterminantTag.item_id, human.determinant == determinant,
        human.provenance == Provenance.HUMAN).exists()
    query = (
        select(DeterminantTag.item_id, DeterminantTag.span_start, DeterminantTag.span_end,
               DeterminantTag.confidence, Item.text, Item.channel, Item.published_at,
               Item.url, Source.id, Source.name)
        .join(Item, Item.id == DeterminantTag.item_id)
        .join(Source, Source.id == Item.source_id)
        .where(Item.authority_id == authority_id, Item.published_at >= since,
               Item.published_at < until, DeterminantTag.determinant == determinant,
               DeterminantTag.polarity == polarity, DeterminantTag.confidence >= min_confidence,
               or_(DeterminantTag.provenance == Provenance.HUMAN, ~overruled))
        .order_by(DeterminantTag.confidence.desc(), Item.published_at.desc(), Item.id.desc())
        .limit(candidates)
    )
    if department_id is not None:
        query = query.where(Item.department_id == department_id)
    if site_id is not None:
        query = query.where(Item.site_id == site_id)
    mentions = []
    for item_id, start, end, confidence, text, channel, published, url, source_id, name \
            in session.execute(query):
        sentence = text[start:end].strip() if start is not None and end is not None else ""
        mentions.append(Mention(item_id, sentence or text.strip(), name, source_id, channel,
                                published, confidence, url))
    return mentions


@dataclass(frozen=True)
class SourceActivity:
    source_id: int
    name: str
    kind: str
    items: int  # published in the period
    baseline_items: int  # published in the periods before it
    last_success_at: datetime | None
    last_error: str | None
    consecutive_failures: int


def source_activity(
    session: Session, authority_id: int, baseline_since: datetime, since: datetime,
    until: datetime, *, department_id: int | None = None, site_id: int | None = None,
) -> list[SourceActivity]:
    """Every enabled source of the authority with its items published in [since, until) and
    in [baseline_since, since), and its collection health."""
    in_period = func.sum(case((Item.published_at >= since, 1), else_=0))
    counts = dict(
        (source_id, (int(now or 0), int(total or 0) - int(now or 0)))
        for source_id, now, total in session.execute(
            select(Item.source_id, in_period, func.count())
            .where(Item.authority_id == authority_id, Item.published_at >= baseline_since,
                   Item.published_at < until)
            .group_by(Item.source_id))
    )
    query = select(Source).where(Source.authority_id == authority_id, Source.enabled.is_(True),
                                 Source.removed_at.is_(None)).order_by(Source.name)
    if department_id is not None:
        query = query.where(or_(Source.department_id == department_id,
                                Source.department_id.is_(None)))
    if site_id is not None:
        query = query.where(or_(Source.site_id == site_id, Source.site_id.is_(None)))
    return [
        SourceActivity(s.id, s.name, s.kind, counts.get(s.id, (0, 0))[0],
                       counts.get(s.id, (0, 0))[1], s.last_success_at, s.last_error,
                       s.consecutive_failures)
        for s in session.scalars(query)
    ]

