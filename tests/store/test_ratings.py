"""Counting rated items of a period: the date-ordered reads of short periods and the
answer-ordered read of long ones agree, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import Item
from ecoute.store.ratings import LONG_PERIOD, RatingFilters, rating_counts
from ecoute.store.sources import add_source

START = datetime(2025, 1, 1, tzinfo=UTC)


def test_long_and_short_periods_count_the_same(factory: sessionmaker[Session]) -> None:
    rng = random.Random(7)
    expected: Counter[tuple[str, float]] = Counter()
    with session_scope(factory) as session:
        authority = ensure_authority(session, "demo")
        source = add_source(session, authority.id, name="s", kind="push", options={})
        rows = []
        for n in range(400):
            when = START + timedelta(hours=rng.randrange(0, 24 * 400))
            scale, top = rng.choice([("1-5", 5), ("0-10", 10), (None, 0)])
            value = float(rng.randint(1 if scale == "1-5" else 0, top)) if scale else None
            published = None if n % 5 == 0 else when
            rows.append({"authority_id": authority.id, "source_id": source.id,
                         "external_id": str(n), "content_hash": str(n), "text": "t",
                         "channel": "survey" if n % 2 else "review", "extra": {},
                         "published_at": published, "collected_at": when,
                         "rating_scale": scale, "rating_value": value,
                         "rating_norm": value / top if scale else None})
            if scale and n % 2:
                expected[(scale, value)] += 1  # type: ignore[index]
        session.execute(insert(Item), rows)
        end = START + timedelta(days=400)
        assert end - START > LONG_PERIOD
        survey = RatingFilters(channel="survey")
        whole = rating_counts(session, authority.id, START, end, survey)
        assert Counter({(r.scale, r.value): r.count for r in whole}) == expected
        pieces: Counter[tuple[str, float | None]] = Counter()
        step = START
        while step < end:
            for r in rating_counts(session, authority.id, step, step + timedelta(days=50),
                                   survey):
                pieces[(r.scale, r.value)] += r.count
            step += timedelta(days=50)
        assert pieces == expected
        other = ensure_authority(session, "autreville")
        assert rating_counts(session, other.id, START, end) == []
