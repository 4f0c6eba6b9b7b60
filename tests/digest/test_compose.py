"""What a digest says, from feedback classified into the store: figures and their changes,
quotes, silent and failing sources, an empty week; and how it renders (escaping included)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session, sessionmaker

from ecoute.config.settings import Settings
from ecoute.digest.charts import charts
from ecoute.digest.compose import DigestSpec, compose
from ecoute.digest.periods import parse_period
from ecoute.digest.render import render
from ecoute.store.authorities import Places
from ecoute.store.db import session_scope
from tests.helpers.digest_data import authority, feedback, source

HOSTILE = "<script>alert('x')</script> Accueil odieux <img src=x onerror=alert(1)>"
#: Wednesday of ISO week 2026-W47, noon in Paris.
W47 = datetime(2026, 11, 18, 11, tzinfo=timezone.utc)


def week(n: int) -> datetime:
    """Wednesday noon of the week ``n`` weeks before 2026-W47."""
    return W47 - timedelta(weeks=n)


@pytest.fixture
def seeded(factory: sessionmaker[Session]) -> None:
    """Courtesy falls from 80 % to 30 % (n = 50 both weeks); waiting time swings from 10/0
    to 0/10 (under the minimum n); a hostile text; a silent and a failing source."""
    with session_scope(factory) as session:
        owner = authority(session)
        reviews = source(session, owner, "avis")
        complaints = source(session, owner, "registre")
        silent = source(session, owner, "enquete")
        source(session, owner, "facebook", consecutive_failures=3,
               last_error="HTTP 500 from the server")
        feedback(session, reviews, week(1), [("courtesy", "positive")], times=40)
        feedback(session, reviews, week(1), [("courtesy", "negative")], times=10)
        feedback(session, reviews, week(1), [("waiting_time", "positive")], times=10)
        feedback(session, reviews, W47, [("courtesy", "positive")], times=15)
        feedback(session, reviews, W47, [("courtesy", "negative")], times=20, confidence=0.8)
        feedback(session, complaints, W47, [("courtesy", "negative")], times=14,
                 channel="complaint", confidence=0.7)
        feedback(session, complaints, W47, [("courtesy", "negative")], text=HOSTILE,
                 channel="complaint", confidence=0.99)
        feedback(session, reviews, W47, [("waiting_time", "negative")], times=10)
        feedback(session, silent, week(3), [("accessibility", "positive")], times=4,
                 channel="survey")


def _digest(factory: sessionmaker[Session], settings: Settings, period: str = "2026-W47",
            **spec: object):  # type: ignore[no-untyped-def]
    with session_scope(factory) as session:
        owner = authority(session)
        return compose(session, settings, DigestSpec(owner, "fr", "weekly", **spec),  # type: ignore[arg-type]
                       parse_period(period))


def test_figures_changes_and_the_four_week_average(
        seeded: None, factory: sessionmaker[Session], settings: Settings) -> None:
    digest = _digest(factory, settings)
    lines = {f.determinant: f for f in digest.figures}
    courtesy = lines["courtesy"]
    assert (courtesy.positive, courtesy.n, courtesy.share) == (15, 50, pytest.approx(0.3))
    assert courtesy.interval is not None and courtesy.interval.low < 0.3 < courtesy.interval.high
    assert courtesy.previous_share == pytest.approx(0.8) and courtesy.change == "down"
    assert courtesy.p_value is not None and courtesy.p_value < 0.001
    assert courtesy.delta_points == pytest.approx(-50)
    # The four weeks before: only W46 has courtesy mentions (40 of 50 positive).
    assert (courtesy.average, courtesy.average_n) == (pytest.approx(0.8), 50)
    # 10/0 then 0/10 is a swing, not a change: both weeks are under the minimum n (30).
    waiting = lines["waiting_time"]
    assert (waiting.n, waiting.previous_n, waiting.sufficient) == (10, 10, False)
    assert waiting.change is None and waiting.p_value is None and waiting.average is None
    assert digest.overall.n == 60 and not digest.empty


def test_volume_quotes_and_sources(seeded: None, factory: sessionmaker[Session],
                                   settings: Settings) -> None:
    digest = _digest(factory, settings)
    assert [(v.channel, v.items, v.previous_items) for v in digest.volumes] == [
        ("review", 45, 60), ("complaint", 15, 0)]
    quoted = {q.determinant: q for q in digest.quotes}
    courtesy = quoted["courtesy"]
    assert courtesy.polarity == "negative" and digest.quotes[0] is courtesy
    # The most confident first, one per source before a second from the same source.
    assert [m.source for m in courtesy.mentions] == ["registre", "avis", "avis"]
    assert courtesy.mentions[0].text == HOSTILE
    assert all(m.confidence >= settings.digest_verbatim_confidence for m in courtesy.mentions)
    # waiting time's 10 negative mentions are quoted too (most criticised after courtesy).
    assert quoted["waiting_time"].polarity == "negative"
    notes = {(n.kind, n.source.name) for n in digest.sources}
    assert notes == {("failed", "facebook"), ("silent", "enquete")}
    assert digest.dashboard_url == "http://127.0.0.1:8000/?authority=valmont&window=2026-W47"


def test_the_html_escapes_every_text_and_has_no_script(
        seeded: None, factory: sessionmaker[Session], settings: Settings) -> None:
    digest = _digest(factory, settings)
    rendered = render(digest, charts(digest), unsubscribe_url="https://e.example/unsubscribe/1.x")
    assert "<script" not in rendered.html.lower() and "<img src=x" not in rendered.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in rendered.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered.html
    assert HOSTILE in rendered.text  # plain text is shown as text by every client
    assert "Courtoisie" in rendered.html and "30 %" in rendered.html
    assert "en baisse (-50 pts, p = &lt; 0.001)" in rendered.html
    assert rendered.subject == "Valmont : ce que disent les usagers, semaine du 16 novembre 2026"
    assert [c.name for c in rendered.charts] == ["determinants", "volume"]
    assert rendered.charts[0].png.startswith(b"\x89PNG")
    assert "Courtoisie 30 %" in rendered.charts[0].alt
    assert 'src="cid:determinants@digest.ecoute"' in rendered.html
    assert "facebook : la collecte échoue (3 échecs de suite) — HTTP 500" in rendered.html


def test_an_empty_week_says_not_enough_data(seeded: None, factory: sessionmaker[Session],
                                            settings: Settings) -> None:
    digest = _digest(factory, settings, "2026-W30")
    assert digest.empty and digest.items == 0 and digest.quotes == []
    assert charts(digest) == []
    rendered = render(digest, [], unsubscribe_url=None)
    assert "Pas assez de données pour cette période : 0 avis classés" in rendered.html
    assert "pas assez de données" in rendered.text


def test_a_department_digest_counts_only_its_feedback(
        factory: sessionmaker[Session], settings: Settings) -> None:
    with session_scope(factory) as session:
        owner = authority(session)
        library_id = Places(owner.id).department_id(session, "Médiathèque")
        origin = source(session, owner, "avis")
        feedback(session, origin, W47, [("courtesy", "positive")], times=30,
                 department_id=library_id)
        feedback(session, origin, W47, [("courtesy", "negative")], times=30)
    digest = _digest(factory, settings, department_id=library_id)
    courtesy = {f.determinant: f for f in digest.figures}["courtesy"]
    assert (courtesy.n, courtesy.share) == (30, 1.0)
    assert digest.scope == "Médiathèque" and "department_id=" in digest.dashboard_url
    # A share of exactly 1 draws its interval too (the bound equals the share, rounded).
    assert [c.name for c in charts(digest)] == ["determinants", "volume"]


def test_english_digest(seeded: None, factory: sessionmaker[Session],
                        settings: Settings) -> None:
    with session_scope(factory) as session:
        owner = authority(session)
        digest = compose(session, settings, DigestSpec(owner, "en", "monthly"),
                         parse_period("2026-11"))
    rendered = render(digest, charts(digest), unsubscribe_url=None)
    assert rendered.subject == "Valmont: what users said, November 2026"
    assert "Courtesy" in rendered.html and "Overall sentiment" in rendered.text


def test_the_alerts_raised_in_the_period_are_in_the_digest(
    factory: sessionmaker[Session], settings: Settings, seeded: None,
) -> None:
    from sqlalchemy import select

    from ecoute.store.alerts import Finding, resolve_alert, sync_alerts
    from ecoute.store.models import Alert, AlertKind

    with session_scope(factory) as session:
        owner = authority(session)
        for when, kind, key in ((week(1), AlertKind.DETERMINANT_DROP, "determinant_drop:x"),
                                (W47, AlertKind.SOURCE_SILENT, "source_silent:7"),
                                (W47 + timedelta(hours=1), AlertKind.VOLUME_SPIKE,
                                 "volume_spike:all")):
            sync_alerts(session, owner.id, [kind], [Finding(kind, key, f"Alert {key}")],
                        now=when)
        spike = session.scalars(select(Alert).where(Alert.key == "volume_spike:all")).one()
        resolve_alert(session, spike.id, owner.id, by="officer", now=W47 + timedelta(days=1))
    digest = _digest(factory, settings)
    # The drop of the week before is not this week's; the spike was resolved the next day.
    assert [(a.title, a.detail) for a in digest.alerts] == [
        ("Alert source_silent:7", "2026-11-18"),
        ("Alert volume_spike:all", "2026-11-18 → 2026-11-19")]
    assert "Alert source_silent:7" in render(digest, [], unsubscribe_url=None).text
