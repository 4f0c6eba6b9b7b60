"""Writing classifications and keeping the rollups equal to what they say.

Invariant: the rollup is the sum, over items whose ``classified_version`` is set, of the
contributions of that version's tagging and of the item's effective determinant tags (human
tags of a determinant replace the model's). Every change goes retract → modify → apply, so
KPI queries never have to scan items. ``SatisfactionRollup`` (``store.rollups``) holds the same
sums keyed by one dimension at a time; :func:`_apply` writes both in one go.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ecoute.domain import Prediction, OVERALL, STATED, Polarity, Provenance
from ecoute.store.embeddings import forget_embeddings, store_embeddings
from ecoute.store.models import (
    Authority,
    DailyRollup,
    DeterminantTag,
    Item,
    SatisfactionRollup,
    Tagging,
)
from ecoute.store.rollups import COUNTS, KEY, dimension_rows

#: authority, day, determinant, channel, site, department, source, language ("" unknown)
RollupKey = tuple[int, date, str, str, int, int, int, str]
ROLLUP_KEY = ("authority_id", "day", "determinant", "channel", "site_id", "department_id")
ROLLUP_COUNTS = COUNTS


@dataclass
class Counts:
    pos: int = 0
    neg: int = 0
    neu: int = 0
    rating_sum: float = 0.0
    rating_count: int = 0

    def add(self, polarity: str, sign: int) -> None:
        if polarity == "positive":
            self.pos += sign
        elif polarity == "negative":
            self.neg += sign
        else:
            self.neu += sign


#: Tags no classifier run deletes or replaces; the first of them present for a determinant
#: replaces every other tag of that determinant.
KEPT = (Provenance.HUMAN, Provenance.AUDIT)


def effective_tags(tags: Iterable[DeterminantTag]) -> list[DeterminantTag]:
    """Human tags of a determinant replace every other tag of it; audit tags (stated by the
    source) replace the model's and the rules'."""
    tags = list(tags)
    rank: dict[str, int] = {p: i for i, p in enumerate(KEPT)}
    best: dict[str, int] = {}
    for t in tags:
        if t.provenance in rank:
            best[t.determinant] = min(best.get(t.determinant, len(KEPT)), rank[t.provenance])
    return [t for t in tags if t.determinant not in best
            or rank.get(t.provenance) == best[t.determinant]]


def item_polarities(tags: Iterable[DeterminantTag]) -> dict[str, str]:
    """One polarity per determinant per item: the one with the most confidence behind it."""
    weight: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for tag in effective_tags(tags):
        if tag.polarity == Polarity.NONE:
            continue
        weight[tag.determinant][tag.polarity] += max(tag.confidence, 1e-6)
    return {det: max(w, key=w.__getitem__) for det, w in weight.items()}


def _day(item: Item, zone: ZoneInfo) -> date:
    when = item.published_at or item.collected_at
    return when.astimezone(zone).date()


def _contributions(
    session: Session, items: Sequence[Item], sign: int, into: dict[RollupKey, Counts]
) -> None:
    counted = [i for i in items if i.classified_version is not None]
    if not counted:
        return
    ids = [i.id for i in counted]
    zones = {
        a.id: ZoneInfo(a.timezone)
        for a in session.scalars(select(Authority).where(
            Authority.id.in_({i.authority_id for i in counted})))
    }
    taggings = {
        (t.item_id, t.model_version): t
        for t in session.scalars(select(Tagging).where(Tagging.item_id.in_(ids)))
    }
    tags: dict[int, list[DeterminantTag]] = defaultdict(list)
    for tag in session.scalars(select(DeterminantTag).where(DeterminantTag.item_id.in_(ids))):
        tags[tag.item_id].append(tag)
    for item in counted:
        tagging = taggings.get((item.id, item.classified_version or ""))
        if tagging is None:
            continue
        base = (item.authority_id, _day(item, zones[item.authority_id]))
        rest = (item.channel, item.site_id or 0, item.department_id or 0, item.source_id,
                item.lang or "")
        overall = into.setdefault((*base, OVERALL, *rest), Counts())
        overall.add(item.human_sentiment or tagging.sentiment, sign)
        if item.rating_norm is not None:
            overall.rating_sum += sign * item.rating_norm
            overall.rating_count += sign
        for determinant, polarity in item_polarities(tags[item.id]).items():
            into.setdefault((*base, determinant, *rest), Counts()).add(polarity, sign)


def _upsert(session: Session, model: type[DailyRollup] | type[SatisfactionRollup],
            key: Sequence[str], rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = cast(Table, model.__table__)
    stmt = insert(table)
    # Increments in the database, so concurrent workers never lose each other's counts.
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={name: table.c[name] + stmt.excluded[name] for name in COUNTS},
    )
    # On the session's connection (the same transaction) but as a Core statement: the ORM's
    # bulk path cost more than the database did for a batch's thousands of rows.
    session.connection().execute(stmt, rows)


def _apply(session: Session, delta: dict[RollupKey, Counts]) -> None:
    """Add ``delta`` to the rollups: one upsert statement per table run over every key at
    once (executemany), in key order so that concurrent writers lock rows in the same order."""
    daily: dict[tuple[object, ...], Counts] = {}
    for key, c in delta.items():
        into = daily.setdefault(key[:len(ROLLUP_KEY)], Counts())
        into.pos += c.pos
        into.neg += c.neg
        into.neu += c.neu
        into.rating_sum += c.rating_sum
        into.rating_count += c.rating_count
    rows = [
        {**dict(zip(ROLLUP_KEY, key, strict=True)), "pos": c.pos, "neg": c.neg, "neu": c.neu,
         "rating_sum": c.rating_sum, "rating_count": c.rating_count}
        for key, c in sorted(daily.items())  # type: ignore[arg-type]
        if c.pos or c.neg or c.neu or c.rating_count
    ]
    _upsert(session, DailyRollup, ROLLUP_KEY, rows)
    _upsert(session, SatisfactionRollup, KEY, dimension_rows(delta))


def retract(session: Session, items: Sequence[Item]) -> dict[RollupKey, Counts]:
    """The rollup delta that removes ``items``' current contributions (not yet applied)."""
    delta: dict[RollupKey, Counts] = {}
    _contributions(session, items, -1, delta)
    return delta


def record_predictions(
    session: Session,
    items: Sequence[Item],
    predictions: Sequence[Prediction],
    *,
    model_name: str,
    model_version: str,
) -> None:
    """Store one classification per item, replacing model tags but never human ones."""
    delta = retract(session, items)
    ids = [i.id for i in items]
    session.execute(
        delete(DeterminantTag)
        .where(DeterminantTag.item_id.in_(ids), DeterminantTag.provenance.not_in(KEPT))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(Tagging)
        .where(Tagging.item_id.in_(ids), Tagging.model_version == model_version)
        .execution_options(synchronize_session=False)
    )
    for item, prediction in zip(items, predictions, strict=True):
        s = prediction.sentiment
        session.add(
            Tagging(
                item_id=item.id, model_name=model_name, model_version=model_version,
                sentiment=s.label, p_negative=s.negative, p_neutral=s.neutral,
                p_positive=s.positive,
            )
        )
        for m in prediction.determinants:
            session.add(
                DeterminantTag(
                    item_id=item.id, span_start=m.start, span_end=m.end,
                    determinant=m.determinant, polarity=m.polarity, confidence=m.confidence,
                    provenance=m.provenance, model_version=model_version,
                )
            )
        if prediction.lang and not item.lang:
            item.lang = prediction.lang
        item.classified_version = model_version
    session.flush()
    _contributions(session, items, +1, delta)
    _apply(session, delta)
    _keep_embeddings(session, items, predictions)


def _keep_embeddings(session: Session, items: Sequence[Item],
                     predictions: Sequence[Prediction]) -> None:
    """The embeddings of the items read as negative (emerging topics cluster them)."""
    zones: dict[int, ZoneInfo] = {}
    rows = []
    for item, prediction in zip(items, predictions, strict=True):
        if prediction.embedding is None or prediction.sentiment.label != "negative":
            continue
        if item.authority_id not in zones:
            authority = session.get(Authority, item.authority_id)
            zones[item.authority_id] = ZoneInfo(authority.timezone if authority else "UTC")
        rows.append((item.id, item.authority_id, _day(item, zones[item.authority_id]),
                     prediction.embedding))
    forget_embeddings(session, [i.id for i in items])
    store_embeddings(session, rows)


def record_verdicts(
    session: Session, verdicts: Sequence[tuple[Item, str, Sequence[str]]]
) -> None:
    """Store what the source itself says of each item: ``(item, polarity, determinants)``.

    The item's sentiment is the polarity and each determinant gets an audit tag with it,
    replacing its former audit tags; ``classified_version`` becomes :data:`STATED`, so no
    classifier reads the item (its text is a criterion's label, not an opinion).
    """
    items = [item for item, _polarity, _determinants in verdicts]
    delta = retract(session, items)
    ids = [i.id for i in items]
    session.execute(
        delete(DeterminantTag)
        .where(DeterminantTag.item_id.in_(ids), DeterminantTag.provenance != Provenance.HUMAN)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(Tagging).where(Tagging.item_id.in_(ids), Tagging.model_version == STATED)
                    .execution_options(synchronize_session=False))
    for item, polarity, determinants in verdicts:
        probability = {p: float(p == polarity) for p in ("negative", "neutral", "positive")}
        session.add(Tagging(
            item_id=item.id, model_name=Provenance.AUDIT, model_version=STATED,
            sentiment=polarity, p_negative=probability["negative"],
            p_neutral=probability["neutral"], p_positive=probability["positive"],
        ))
        for determinant in dict.fromkeys(determinants):
            session.add(DeterminantTag(
                item_id=item.id, span_start=None, span_end=None, determinant=determinant,
                polarity=polarity, confidence=1.0, provenance=Provenance.AUDIT,
            ))
        item.classified_version = STATED
    session.flush()
    _contributions(session, items, +1, delta)
    _apply(session, delta)


def restate(session: Session, items: Sequence[Item], delta: dict[RollupKey, Counts]) -> None:
    """Apply ``delta`` (what :func:`retract` returned before ``items`` changed) and their
    contributions as they are now: an item whose date, rating or status changed but not its
    text keeps its classification and moves in the rollups."""
    session.flush()
    _contributions(session, items, +1, delta)
    _apply(session, delta)


def correct_determinant(
    session: Session, item: Item, *, determinant: str, polarity: str | None, user: str
) -> None:
    """A human says ``item`` talks about ``determinant`` with ``polarity`` (None: it does not).

    Stored as a human tag, which wins over the model's tags and survives re-classification.
    """
    delta = retract(session, [item])
    session.execute(
        delete(DeterminantTag)
        .where(DeterminantTag.item_id == item.id, DeterminantTag.determinant == determinant,
               DeterminantTag.provenance == Provenance.HUMAN)
        .execution_options(synchronize_session=False)
    )
    session.add(
        DeterminantTag(
            item_id=item.id, span_start=None, span_end=None, determinant=determinant,
            polarity=polarity or Polarity.NONE, confidence=1.0, provenance=Provenance.HUMAN,
            corrected_by=user,
        )
    )
    restate(session, [item], delta)


def correct_sentiment(session: Session, item: Item, *, sentiment: str | None, user: str) -> None:
    """A human says what ``item``'s sentiment is (None: back to the model's).

    Kept on the item, so it wins over every model run and moves the rollups at once.
    """
    delta = retract(session, [item])
    item.human_sentiment = sentiment
    item.sentiment_corrected_by = user if sentiment is not None else None
    restate(session, [item], delta)


def forget_classification(session: Session, items: Sequence[Item]) -> None:
    """Take ``items`` out of the rollups and drop their model tags (their text changed)."""
    _apply(session, retract(session, items))
    session.execute(
        delete(DeterminantTag)
        .where(DeterminantTag.item_id.in_([i.id for i in items]),
               DeterminantTag.provenance.not_in(KEPT))
        .execution_options(synchronize_session=False)
    )
    forget_embeddings(session, [i.id for i in items])
    for item in items:
        item.classified_version = None
