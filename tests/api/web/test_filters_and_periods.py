"""The trends page's source and language filters, the departments page read per group in one
go, the calendar periods of the period selector, and the overview's alert backlog."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from html import unescape
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ecoute.api.app import create_app
from ecoute.classifiers.determinants import load_lexicon
from ecoute.classifiers.lexicon_tagger import LexiconSentenceClassifier
from ecoute.classifiers.pending import classify_pending
from ecoute.classifiers.transformer import TransformerSentiment
from ecoute.collectors.base import RawItem
from ecoute.collectors.runner import SourceRunner
from ecoute.api.web.alerts import SHOWN
from ecoute.api.web.figures import Filters, calendar_windows, compare, window_pair
from ecoute.assessment.satisfaction import authority_today, satisfaction
from ecoute.store.alerts import Finding, sync_alerts
from ecoute.store.authorities import get_authority, list_departments, list_sites
from ecoute.store.db import make_session_factory, session_scope
from ecoute.store.models import AlertKind, Department, Source
from tests.helpers.seed import AUTHORITY_ZONE
from tests.helpers.dashboard import Dashboard


@pytest.fixture
def client(dashboard: Dashboard) -> TestClient:
    return TestClient(create_app(dashboard.settings, dashboard.engine))


def _ids(dashboard: Dashboard) -> tuple[int, int]:
    """The id of the source "signalements" and of its department, Voirie (its only source)."""
    with session_scope(make_session_factory(dashboard.engine)) as session:
        source = session.scalar(select(Source.id).where(Source.name == "signalements"))
        department = session.scalar(select(Department.id).where(Department.name == "Voirie"))
        assert source and department
        return source, department


def _overall_counts(html: str) -> list[int]:
    """The n of every period of the overall sentiment's table on the trends page."""
    section = html.split('id="serie-overall"', 1)[1].split("</li>", 1)[0]
    return [int(n.replace("\u202f", "").replace(",", ""))
            for n in re.findall(r'<td class="num">([\d\u202f,]+)</td></tr>', section)]


def test_trends_by_source_match_the_department_it_alone_feeds(client: TestClient,
                                                              dashboard: Dashboard) -> None:
    source_id, department_id = _ids(dashboard)
    by_source = client.get("/trends", params={"source_id": source_id, "step": "week"})
    by_department = client.get("/trends", params={"department_id": department_id,
                                                  "step": "week"})
    assert by_source.status_code == 200 and by_department.status_code == 200
    counts = _overall_counts(by_source.text)
    assert len(counts) == 13 and sum(counts) > 0
    assert counts == _overall_counts(by_department.text)
    everything = _overall_counts(client.get("/trends", params={"step": "week"}).text)
    assert sum(everything) > sum(counts)
    # The chosen source is selected and kept in the links to the verbatims.
    assert f'<option value="{source_id}" selected>' in by_source.text
    assert f"source_id={source_id}" in by_source.text.split('id="serie-overall"', 1)[1]


def _add_languages(dashboard: Dashboard, tiny_model_dir: Path) -> None:
    """Items of the welcome source stated in English and French, classified: the feeds of
    the dashboard database say no language."""
    factory = make_session_factory(dashboard.engine)
    with session_scope(factory) as session:
        source_id = session.scalar(select(Source.id).where(Source.name == "avis-accueil"))
    now = datetime.now(timezone.utc) - timedelta(hours=3)
    texts = [("en", "friendly staff, very kind"), ("en", "rude staff at the desk"),
             ("en", "great welcome thank you"), ("fr", "Accueil chaleureux merci"),
             ("fr", "Personnel désagréable au guichet")]
    SourceRunner(factory, dashboard.settings).store_entries(source_id, [
        RawItem(external_id=f"lang-{i}", text=text, lang=lang, published_at=now,
                department="Accueil") for i, (lang, text) in enumerate(texts)])
    classify_pending(factory, LexiconSentenceClassifier(TransformerSentiment(tiny_model_dir),
                                                        load_lexicon()))


def test_trends_by_language_keep_the_page_language(client: TestClient, dashboard: Dashboard,
                                                   tiny_model_dir: Path) -> None:
    _add_languages(dashboard, tiny_model_dir)
    page = client.get("/trends", params={"lang": "en"}, headers={"accept-language": "fr"})
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text  # the filter is not the page's language
    assert '<select id="f-lang" name="lang">' in page.text
    assert '<option value="en" selected>' in page.text
    english = sum(_overall_counts(page.text))
    french = sum(_overall_counts(client.get("/trends", params={"lang": "fr"}).text))
    everything = sum(_overall_counts(client.get("/trends").text))
    assert 0 < english <= 3 and 0 < french <= 2 and english + french < everything


@pytest.mark.parametrize("language, said", [
    ("en", "These filters cannot be combined"), ("fr", "Ces filtres ne se combinent pas")])
def test_trends_say_which_filters_do_not_combine(client: TestClient, dashboard: Dashboard,
                                                 language: str, said: str) -> None:
    source_id, department_id = _ids(dashboard)
    client.cookies.set("ecoute_lang", language)
    page = client.get("/trends", params={"source_id": source_id,
                                         "department_id": department_id})
    assert page.status_code == 200
    assert said in page.text and 'role="alert" id="not-combined"' in page.text
    assert 'id="serie-overall"' not in page.text  # no series drawn from a filter left out
    alone = client.get("/trends", params={"source_id": source_id})
    assert 'id="not-combined"' not in alone.text and 'id="serie-overall"' in alone.text
    both = client.get("/trends", params={"channel": "review", "department_id": department_id})
    assert 'id="not-combined"' not in both.text


@pytest.mark.parametrize("by", ["department", "site"])
def test_departments_read_all_groups_at_once_with_the_same_figures(dashboard: Dashboard,
                                                                   by: str) -> None:
    with session_scope(make_session_factory(dashboard.engine)) as session:
        demo = get_authority(session, "demo")
        listed = list_departments if by == "department" else list_sites
        groups = [(g.id, g.name) for g in listed(session, demo.id)]
        assert len(groups) >= 2
        today = authority_today(demo)
        statements = _statements(session, lambda: compare(
            session, demo, "90d", today, min_sample_size=5, by=by, groups=groups))
        columns = compare(session, demo, "90d", today, min_sample_size=5, by=by, groups=groups)
        fewer = _statements(session, lambda: compare(
            session, demo, "90d", today, min_sample_size=5, by=by, groups=groups[:1]))
        assert statements == fewer  # not one query per group
        window = window_pair("90d", today)[0]
        for column in columns[1:]:
            one = Filters(department_id=column.group_id) if by == "department" else \
                Filters(site_id=column.group_id)
            assert column.report == satisfaction(session, demo, window, min_sample_size=5,
                                                 filters=one)
        assert columns[0].report == satisfaction(session, demo, window, min_sample_size=5)
        assert sum(c.report.overall.n for c in columns[1:]) > 0


def _statements(session: Session, run: object) -> int:
    seen: list[str] = []
    engine = session.get_bind()

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        run()  # type: ignore[operator]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_calendar_periods_are_offered_and_read(client: TestClient, dashboard: Dashboard
                                               ) -> None:
    # The authority's today: around midnight Paris is a day (and a month) ahead of UTC.
    today = datetime.now(AUTHORITY_ZONE).date()
    names = calendar_windows(today)
    assert names[2] == f"{today:%Y-%m}" and names[6] == str(today.year)
    last_month = (today.replace(day=1) - timedelta(days=1))
    assert names[3] == f"{last_month:%Y-%m}"
    page = client.get("/", headers={"accept-language": "en"}).text
    for name in names:
        assert f'href="/?window={name}"' in page
    quarter = names[4]
    chosen = client.get("/", params={"window": quarter}, headers={"accept-language": "en"})
    assert chosen.status_code == 200
    assert f'href="/?window={quarter}" aria-current="true"' in chosen.text
    number, year = quarter.split("-Q")[1], quarter.split("-")[0]
    assert f">Q{number} {year}</a>" in chosen.text
    assert f">T{number} {year}</a>" in client.get("/", params={"window": quarter},
                                                   headers={"accept-language": "fr"}).text
    # The previous whole month is compared with the one before it.
    start = last_month.replace(day=1)
    before = (start - timedelta(days=1)).replace(day=1)
    month = client.get("/", params={"window": names[3]}, headers={"accept-language": "en"})
    assert f"{start:%b} 1, {start.year}" in month.text
    assert f"{before:%b} 1, {before.year}" in month.text
    for path in ("/verbatims", "/departments"):
        assert client.get(path, params={"window": names[1]}).status_code == 200
    for wrong in ("2026-13", "365d", "month-ish"):
        refused = client.get("/", params={"window": wrong})
        assert refused.status_code == 400
        assert f"such as {names[0]}, {names[2]}" in unescape(refused.text)


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)))
def test_calendar_periods_are_the_current_and_previous_whole_ones(today: date) -> None:
    names = calendar_windows(today)
    assert len(names) == 8 == len(set(names))
    for current_name, previous_name in zip(names[::2], names[1::2], strict=True):
        current, compared = window_pair(current_name, today)
        previous = window_pair(previous_name, today)[0]
        assert current.start <= today <= current.end
        assert previous.end == current.start - timedelta(days=1)
        assert compared == previous  # what a whole period is compared with


def test_overview_says_when_more_alerts_are_active_than_listed(client: TestClient,
                                                               dashboard: Dashboard) -> None:
    client.cookies.set("ecoute_lang", "en")
    assert "alerts-more" not in client.get("/").text
    extra = SHOWN + 5
    with session_scope(make_session_factory(dashboard.engine)) as session:
        demo = get_authority(session, "demo")
        findings = [Finding(AlertKind.VOLUME_SPIKE, f"volume_spike:test{i}", f"spike {i}",
                            {"items": 40 + i, "channel": "review",
                             "day": date.today().isoformat(), "ratio": 3.0,
                             "baseline_mean": 10.0}) for i in range(extra)]
        sync_alerts(session, demo.id, {AlertKind.VOLUME_SPIKE}, findings)
    total = extra + 2  # and the two alerts of the dashboard database
    page = client.get("/").text
    section = page.split('id="alerts"', 1)[1].split("</section>", 1)[0]
    assert section.count('class="alert"') == SHOWN
    assert f"The {SHOWN} newest of {total} active alerts are listed." in section
    assert f'href="/?window=30d&amp;alerts=all#alerts">Show all {total}</a>' in section
    every = client.get("/", params={"alerts": "all"}).text
    listed = every.split('id="alerts"', 1)[1].split("</section>", 1)[0]
    assert listed.count('class="alert"') == total and "alerts-more" not in listed
    assert client.get("/", params={"alerts": "some"}).status_code in (400, 422)
    with session_scope(make_session_factory(dashboard.engine)) as session:
        sync_alerts(session, get_authority(session, "demo").id, {AlertKind.VOLUME_SPIKE}, [])


def test_overview_has_one_ratings_presentation(client: TestClient) -> None:
    for language, old in (("en", "Average rating"), ("fr", "Note moyenne")):
        client.cookies.set("ecoute_lang", language)
        assert old not in client.get("/", params={"window": "90d"}).text
