"""``SatisfactionRollup`` stays the sum of what the classified items say, per dimension and
grain, through classification, re-classification, corrections, moves and erasure; the
migration fills it from existing data the same way."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from alembic import command
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.domain import DETERMINANTS, OVERALL, DeterminantMention, Prediction, SentimentScores
from ecoute.store.authorities import Places, ensure_authority
from ecoute.store.db import alembic_config, session_scope, upgrade
from ecoute.store.erasure import Subject, erase
from ecoute.store.items import tags_for
from ecoute.store.models import DailyRollup, Item, SatisfactionRollup, Source, Tagging
from ecoute.store.rollups import DAY, MONTH, rollup_sums, values_seen, Span
from ecoute.store.taggings import (
    correct_determinant,
    correct_sentiment,
    item_polarities,
    record_predictions,
    restate,
    retract,
)

PARIS = ZoneInfo("Europe/Paris")
CHANNELS = ("review", "complaint", "phone")
LANGS = ("fr", "en", None)
# Around both changes of time in 2026 (29 March, 25 October) and a month's end.
INSTANTS = [datetime(2026, 3, 28, 23, 30, tzinfo=timezone.utc),  # 29 March 00:30 CET
            datetime(2026, 3, 29, 21, 59, tzinfo=timezone.utc),  # 29 March 23:59 CEST
            datetime(2026, 3, 29, 22, 0, tzinfo=timezone.utc),  # 30 March 00:00 CEST
            datetime(2026, 3, 31, 22, 30, tzinfo=timezone.utc),  # 1 April 00:30 CEST
            datetime(2026, 10, 24, 22, 30, tzinfo=timezone.utc),  # 25 October 00:30 CEST
            datetime(2026, 10, 25, 23, 30, tzinfo=timezone.utc)]  # 26 October 00:30 CET


def _prediction(rng: random.Random) -> Prediction:
    label = rng.choice(("positive", "negative", "neutral"))
    scores = {"positive": SentimentScores(0.1, 0.1, 0.8), "negative": SentimentScores(0.8, 0.1, 0.1),
              "neutral": SentimentScores(0.1, 0.8, 0.1)}[label]
    mentions = [DeterminantMention(rng.choice(DETERMINANTS),
                                   rng.choice(("positive", "negative", "neutral")),
                                   rng.choice((0.4, 0.7, 0.9)), 0, 5)
                for _ in range(rng.randrange(4))]
    return Prediction(sentiment=scores, determinants=mentions, lang=rng.choice(("fr", "en")))


def _fill(factory: sessionmaker[Session], count: int = 60, seed: int = 7) -> None:
    rng = random.Random(seed)
    with session_scope(factory) as session:
        authority = ensure_authority(session, "valmont", timezone="Europe/Paris")
        places = Places(authority.id)
        sites = [places.site_id(session, f"site {n}") for n in range(3)] + [None]
        departments = [places.department_id(session, f"dept {n}") for n in range(2)] + [None]
        sources = []
        for n in range(2):
            source = Source(authority_id=authority.id, kind="push", name=f"source {n}")
            session.add(source)
            session.flush()
            sources.append(source.id)
        items = []
        for n in range(count):
            when = rng.choice(INSTANTS) if n % 3 == 0 else \
                datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(hours=rng.randrange(9000))
            items.append(Item(
                authority_id=authority.id, source_id=rng.choice(sources), external_id=str(n),
                content_hash=str(n), channel=rng.choice(CHANNELS), text="t",
                lang=rng.choice(LANGS), published_at=when if n % 5 else None, collected_at=when,
                site_id=rng.choice(sites), department_id=rng.choice(departments),
                rating_norm=rng.choice((None, 0.25, 1.0))))
        session.add_all(items)
        session.flush()
        record_predictions(session, items, [_prediction(rng) for _ in items],
                           model_name="m", model_version="1")


def expected(session: Session) -> dict[tuple[Any, ...], tuple[float, ...]]:
    """The rollup rows recomputed from the items, as the invariant states them."""
    sums: dict[tuple[Any, ...], list[float]] = defaultdict(lambda: [0, 0, 0, 0.0, 0])
    for item in session.scalars(select(Item).where(Item.classified_version.is_not(None))):
        tagging = session.scalars(select(Tagging).where(
            Tagging.item_id == item.id, Tagging.model_version == item.classified_version)).one()
        day = (item.published_at or item.collected_at).astimezone(PARIS).date()
        polarities = {OVERALL: item.human_sentiment or tagging.sentiment,
                      **item_polarities(tags_for(session, [item.id]).get(item.id, []))}
        for determinant, polarity in polarities.items():
            counts = [polarity == "positive", polarity == "negative",
                      polarity not in ("positive", "negative"), 0.0, 0]
            if determinant == OVERALL and item.rating_norm is not None:
                counts[3:] = [item.rating_norm, 1]
            for dimension, value in (
                    ("all", ""), ("channel", item.channel), ("site", str(item.site_id or 0)),
                    ("department", str(item.department_id or 0)),
                    ("source", str(item.source_id)), ("lang", item.lang or "")):
                for grain, first in ((DAY, day), (MONTH, day.replace(day=1))):
                    acc = sums[(grain, dimension, value, determinant, first)]
                    for i, c in enumerate(counts):
                        acc[i] += c
    return {k: (v[0], v[1], v[2], round(v[3], 6), v[4]) for k, v in sums.items()}


def stored(session: Session) -> dict[tuple[Any, ...], tuple[float, ...]]:
    r = SatisfactionRollup
    return {(row.grain, row.dimension, row.value, row.determinant, row.day):
            (row.pos, row.neg, row.neu, round(row.rating_sum, 6), row.rating_count)
            for row in session.scalars(select(r))
            if row.pos or row.neg or row.neu or row.rating_count}


def _assert_consistent(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        want = expected(session)
        assert stored(session) == want
        # The dimensions DailyRollup also holds give the same totals there.
        daily = {(d, det): (p, n, u) for d, det, p, n, u in session.execute(
            select(DailyRollup.day, DailyRollup.determinant, func.sum(DailyRollup.pos),
                   func.sum(DailyRollup.neg), func.sum(DailyRollup.neu))
            .group_by(DailyRollup.day, DailyRollup.determinant))
            if p or n or u}
    assert daily == {(k[4], k[3]): v[:3] for k, v in want.items()
                     if k[0] == DAY and k[1] == "all"}


def test_rollups_follow_every_change(factory: sessionmaker[Session]) -> None:
    _fill(factory)
    _assert_consistent(factory)
    rng = random.Random(3)
    with session_scope(factory) as session:
        items = list(session.scalars(select(Item).order_by(Item.id)))
        # A new model version re-classifies half of them (human tags stay).
        correct_determinant(session, items[1], determinant="courtesy", polarity="negative",
                            user="officer")
        correct_determinant(session, items[2], determinant="waiting_time", polarity=None,
                            user="officer")
        correct_sentiment(session, items[3], sentiment="positive", user="officer")
        half = items[::2]
        record_predictions(session, half, [_prediction(rng) for _ in half],
                           model_name="m", model_version="2")
    _assert_consistent(factory)
    with session_scope(factory) as session:
        items = list(session.scalars(select(Item).order_by(Item.id)))
        moving = items[5:15]
        delta = retract(session, moving)
        for item in moving:  # another day, department and language
            item.published_at = datetime(2026, 2, 28, 23, 30, tzinfo=timezone.utc)
            item.department_id = None
            item.lang = "de"
        restate(session, moving, delta)
        correct_sentiment(session, items[3], sentiment=None, user="officer")
    _assert_consistent(factory)
    with session_scope(factory) as session:
        first = session.scalars(select(Item).order_by(Item.id)).first()
        assert first is not None
        erase(session, Subject(item_id=first.id), authority_id=first.authority_id,
              matched_by="item")
    _assert_consistent(factory)


def test_the_migration_fills_the_table_from_existing_data(
        engine: Engine, factory: sessionmaker[Session]) -> None:
    _fill(factory, count=40, seed=11)
    with session_scope(factory) as session:
        before = stored(session)
    assert before
    command.downgrade(alembic_config(engine), "followup")
    upgrade(engine)
    with session_scope(factory) as session:
        assert stored(session) == before


def test_sums_over_days_and_months_and_values(factory: sessionmaker[Session]) -> None:
    _fill(factory, count=80, seed=5)
    with session_scope(factory) as session:
        authority_id = session.scalars(select(Item.authority_id)).first()
        assert authority_id is not None
        want = expected(session)
        # March from day rows equals March's month row, for every site.
        sites = values_seen(session, authority_id, "site")
        by_days = rollup_sums(session, authority_id, "site", sites, (OVERALL, *DETERMINANTS),
                              [Span(DAY, date(2026, 3, 1), date(2026, 3, 31))])
        by_month = rollup_sums(session, authority_id, "site", sites, (OVERALL, *DETERMINANTS),
                               [Span(MONTH, date(2026, 3, 1), date(2026, 3, 1))])
    assert by_days == by_month
    assert {k[2] for k in want if k[1] == "site"} == set(sites)
    march = {(k[2], k[3]): v for k, v in want.items()
             if k[0] == MONTH and k[1] == "site" and k[4] == date(2026, 3, 1)}
    assert {k: (v[0], v[1], v[2], round(v[3], 6), v[4]) for k, v in by_month.items()} == march
