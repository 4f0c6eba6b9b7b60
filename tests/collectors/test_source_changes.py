"""Changing and removing sources: checked like `sources add`, and removal keeps the figures
equal to the items that remain."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.classifiers.determinants import load_lexicon
from ecoute.classifiers.lexicon_tagger import LexiconSentenceClassifier
from ecoute.classifiers.transformer import TransformerSentiment
from ecoute.classifiers.pending import classify_pending
from ecoute.collectors.service import add_source, change_source, find_source, remove_source
from ecoute.config.settings import Settings
from ecoute.errors import InvalidOptions, InvalidSchedule, SourceNotFound, SourceRemoved
from ecoute.store.db import session_scope
from ecoute.store.models import (
    CollectionRun,
    DeterminantTag,
    Item,
    Quarantine,
    Source,
    Tagging,
)
from ecoute.store.scheduling import schedule_rows
from ecoute.store.sources import list_sources
from ecoute.store.taggings import correct_determinant
from tests.classifiers.test_pending import rollup_totals
from tests.helpers.seed import seed, write_feed


def _add(factory: sessionmaker[Session], name: str, kind: str, options: dict[str, object],
         **kwargs: object) -> int:
    with session_scope(factory) as session:
        return add_source(session, authority="demo", name=name, kind=kind, options=options,
                          **kwargs).id  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "options", "schedule", "named"), [
    ("rss", {"url": "htps://example.org/feed"}, None, "url: 'htps://example.org/feed' is "
     "neither"),
    ("rss", {"url": "https:///feed"}, None, "url: 'https:///feed' is not a valid https"),
    ("rss", {"url": "http://example.org:99999/feed"}, None, "url: 'http://example.org:99999/feed'"
     " has an invalid port"),
    ("rss", {"url": "/nowhere/feed.xml"}, None, "url: '/nowhere/feed.xml' does not exist"),
    ("html_reviews", {"url": ["https://example.org/a", "ftp://example.org/b"]}, None,
     "url: 'ftp://example.org/b' is neither"),
    ("documents", {"path": "/nowhere/minutes"}, None, "path: '/nowhere/minutes' does not exist"),
    ("rss", {"url": "https://example.org/feed"}, "every blue moon", "schedule: cannot read"),
])
def test_add_refuses_what_cannot_be_read_naming_the_field(
    factory: sessionmaker[Session], kind: str, options: dict[str, object],
    schedule: str | None, named: str,
) -> None:
    with pytest.raises((InvalidOptions, InvalidSchedule)) as caught:
        _add(factory, "x", kind, options, schedule=schedule)
    assert named in str(caught.value)
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 0


def test_a_file_may_appear_later_in_a_folder_that_exists(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """An export dropped each night: the file is not there yet, its folder is."""
    assert _add(factory, "nightly", "complaint_log", {"path": str(tmp_path / "export.csv")})


def test_set_merges_options_checks_them_and_the_schedule(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    feed = write_feed(tmp_path / "a.rss", ["Accueil aimable"])
    source_id = _add(factory, "avis", "rss", {"url": str(feed), "channel": "review"})
    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None
        source.etag = '"v1"'
        for bad in ({"url": str(tmp_path / "no-folder" / "missing.rss")}, {"colour": "red"}):
            with pytest.raises(InvalidOptions):
                change_source(session, source, options=bad)
        with pytest.raises(InvalidSchedule, match="schedule"):
            change_source(session, source, schedule="each tuesday-ish")
        other = write_feed(tmp_path / "b.rss", ["Attente"])
        change_source(session, source, options={"url": str(other)}, schedule="every 2 hours")
    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None
        assert source.options == {"url": str(other), "channel": "review"}
        assert source.schedule == "every 2 hours"
        assert source.etag is None  # the old address's validator is no use for the new one
        change_source(session, source, options={"channel": None})
        assert source.options == {"url": str(other)}  # back to the default channel


def test_disable_and_enable(factory: sessionmaker[Session], tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "a.rss", ["Accueil aimable"])
    source_id = _add(factory, "avis", "rss", {"url": str(feed)})
    with session_scope(factory) as session:
        change_source(session, find_source(session, "demo", "avis"), enabled=False)
    with session_scope(factory) as session:
        assert [r[3] for r in schedule_rows(session) if r[0] == source_id] == [False]
        change_source(session, find_source(session, "demo", "avis"), enabled=True)
    with session_scope(factory) as session:
        assert [r[3] for r in schedule_rows(session) if r[0] == source_id] == [True]


@pytest.fixture(scope="module")
def classifier(tiny_model_dir: Path) -> LexiconSentenceClassifier:
    return LexiconSentenceClassifier(TransformerSentiment(tiny_model_dir), load_lexicon())


KEPT = ["Accueil chaleureux merci", "Attente interminable au guichet."]
GONE = ["Personnel très aimable.", "Impossible de joindre la mairie, nul et lent.",
        "Friendly staff but 40 minutes of waiting."]


def _two_classified_sources(factory: sessionmaker[Session], settings: Settings,
                            tmp_path: Path, classifier: LexiconSentenceClassifier
                            ) -> tuple[dict[str, tuple[int, int, int]], int]:
    """Two classified sources, one with a human correction; the figures of the first alone,
    and the id of the second."""
    seed(factory, settings, tmp_path, KEPT, name="kept", prefix="k")
    classify_pending(factory, classifier)
    with session_scope(factory) as session:
        before = rollup_totals(session)
    gone = seed(factory, settings, tmp_path, GONE, name="gone", prefix="g")
    classify_pending(factory, classifier)
    with session_scope(factory) as session:
        assert rollup_totals(session) != before
        item = session.scalar(select(Item).where(Item.source_id == gone))
        assert item is not None
        correct_determinant(session, item, determinant="reliability", polarity="negative",
                            user="test")
    return before, gone


def test_remove_deletes_items_tags_and_their_figures(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
    classifier: LexiconSentenceClassifier,
) -> None:
    before, gone = _two_classified_sources(factory, settings, tmp_path, classifier)
    with session_scope(factory) as session:
        session.add(Quarantine(source_id=gone, payload_text="x", error_class="ParseError",
                               message="bad"))
    with session_scope(factory) as session:
        assert remove_source(session, find_source(session, "demo", "gone")) == 3
    with session_scope(factory) as session:
        # The figures are exactly those of the remaining source, as if the other never was.
        assert rollup_totals(session) == before
        for model in (Item, CollectionRun, Quarantine):
            assert session.scalar(select(func.count()).select_from(model)
                                  .where(model.source_id == gone)) == 0
        assert session.scalar(select(func.count()).select_from(Tagging)) == 2
        assert session.scalar(select(func.count()).select_from(DeterminantTag)
                              .where(DeterminantTag.provenance == "human")) == 0
        assert session.get(Source, gone) is None
        with pytest.raises(SourceNotFound):
            find_source(session, "demo", "gone")


def test_remove_keeping_items_keeps_figures_and_frees_the_name(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
    classifier: LexiconSentenceClassifier,
) -> None:
    _before, gone = _two_classified_sources(factory, settings, tmp_path, classifier)
    with session_scope(factory) as session:
        totals = rollup_totals(session)
        assert remove_source(session, find_source(session, "demo", "gone"),
                             keep_items=True) == 0
    with session_scope(factory) as session:
        assert rollup_totals(session) == totals
        assert session.scalar(select(func.count()).select_from(Item)
                              .where(Item.source_id == gone)) == 3
        kept = session.get(Source, gone)
        assert kept is not None and not kept.enabled and kept.removed_at is not None
        assert [s.name for s, _n in list_sources(session, kept.authority_id)] == ["kept"]
        assert [r[3] for r in schedule_rows(session) if r[0] == gone] == [False]
        with pytest.raises(SourceRemoved):
            change_source(session, kept, enabled=True)
    # The name is free for a new source.
    feed = write_feed(tmp_path / "new.rss", ["Bien"])
    assert _add(factory, "gone", "rss", {"url": str(feed)}) != gone
