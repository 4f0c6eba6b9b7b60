"""Classifying stored items: taggings, determinant tags, rollups, human corrections."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.classifiers.determinants import load_lexicon
from ecoute.classifiers.lexicon_tagger import LexiconSentenceClassifier
from ecoute.classifiers.transformer import TransformerSentiment
from ecoute.classifiers.pending import Batch, classify_batch, classify_pending, model_version
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope
from ecoute.domain import OVERALL
from ecoute.store.models import DailyRollup, DeterminantTag, Item, Tagging
from ecoute.store.taggings import correct_determinant
from tests.helpers.seed import seed

TEXTS = [
    "Friendly staff but 40 minutes of waiting.",
    "Accueil chaleureux merci",
    "Attente interminable au guichet.",
    "The office is on main street",
    "Personnel très aimable. Impossible de joindre. Nul et lent.",
]


@pytest.fixture(scope="module")
def classifier(tiny_model_dir: Path) -> LexiconSentenceClassifier:
    return LexiconSentenceClassifier(TransformerSentiment(tiny_model_dir), load_lexicon())


def rollup_totals(session: Session) -> dict[str, tuple[int, int, int]]:
    rows = session.execute(
        select(DailyRollup.determinant, func.sum(DailyRollup.pos), func.sum(DailyRollup.neg),
               func.sum(DailyRollup.neu)).group_by(DailyRollup.determinant)
    )
    return {d: (int(p), int(n), int(u)) for d, p, n, u in rows if (p, n, u) != (0, 0, 0)}


def test_classify_tags_every_item_once_and_rolls_up(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
    classifier: LexiconSentenceClassifier,
) -> None:
    seed(factory, settings, tmp_path, TEXTS)
    report = classify_pending(factory, classifier, batch_size=2)
    assert (report.classified, report.batches) == (5, 3)
    assert classify_pending(factory, classifier).classified == 0  # nothing left to do
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(Tagging)) == 5
        version = model_version(classifier)
        assert set(session.scalars(select(Item.classified_version))) == {version}
        assert set(session.scalars(select(Tagging.model_name))) == {classifier.name}
        first = session.scalar(select(Item).where(Item.external_id == "fb-0"))
        assert first is not None
        tags = session.scalars(select(DeterminantTag).where(DeterminantTag.item_id == first.id))
        assert {(t.determinant, t.polarity) for t in tags} == {
            ("courtesy", "positive"), ("waiting_time", "negative")}
        totals = rollup_totals(session)
    assert totals["courtesy"] == (3, 0, 0)
    assert totals["waiting_time"] == (0, 3, 0)  # "lent" in the last text counts too
    assert totals["accessibility"] == (0, 1, 0)
    assert sum(totals[OVERALL]) == 5


def test_human_correction_wins_and_survives_reclassification(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
    classifier: LexiconSentenceClassifier, tiny_model_dir: Path,
) -> None:
    seed(factory, settings, tmp_path, TEXTS)
    classify_pending(factory, classifier)
    with session_scope(factory) as session:
        item = session.scalar(select(Item).where(Item.external_id == "fb-2"))
        assert item is not None
        correct_determinant(session, item, determinant="waiting_time", polarity="positive",
                            user="officer@valmont.fr")
        correct_determinant(session, item, determinant="courtesy", polarity="negative",
                            user="officer@valmont.fr")
    with session_scope(factory) as session:
        assert rollup_totals(session)["waiting_time"] == (1, 2, 0)
        assert rollup_totals(session)["courtesy"] == (3, 1, 0)

    class NewVersion(LexiconSentenceClassifier):
        pass

    retrained = NewVersion(TransformerSentiment(tiny_model_dir), load_lexicon())
    retrained.version = "v2"
    assert classify_pending(factory, retrained).classified == 5
    with session_scope(factory) as session:
        item = session.scalar(select(Item).where(Item.external_id == "fb-2"))
        assert item is not None
        human = session.scalars(select(DeterminantTag).where(
            DeterminantTag.item_id == item.id, DeterminantTag.provenance == "human")).all()
        assert {(t.determinant, t.polarity, t.corrected_by) for t in human} == {
            ("waiting_time", "positive", "officer@valmont.fr"),
            ("courtesy", "negative", "officer@valmont.fr")}
        totals = rollup_totals(session)
        # Counted once, with the humans' polarities, after the model changed.
        assert totals["waiting_time"] == (1, 2, 0)
        assert totals["courtesy"] == (3, 1, 0)
        assert sum(totals[OVERALL]) == 5
        assert session.scalar(select(func.count()).select_from(Tagging)) == 10


def test_removing_a_determinant_by_hand(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
    classifier: LexiconSentenceClassifier,
) -> None:
    seed(factory, settings, tmp_path, TEXTS[:1])
    classify_pending(factory, classifier)
    with session_scope(factory) as session:
        item = session.scalars(select(Item)).one()
        correct_determinant(session, item, determinant="courtesy", polarity=None, user="u")
        assert "courtesy" not in rollup_totals(session)
        assert rollup_totals(session)["waiting_time"] == (0, 1, 0)


def test_changed_item_is_reclassified_and_recounted(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
    classifier: LexiconSentenceClassifier,
) -> None:
    from ecoute.collectors.service import run_source
    from tests.helpers.seed import write_feed

    source_id = seed(factory, settings, tmp_path, ["Attente interminable au guichet."],
                     name="f")
    classify_pending(factory, classifier)
    write_feed(tmp_path / "f.rss", ["Accueil chaleureux merci"])
    report = run_source(factory, settings, source_id)
    assert (report.new, report.updated) == (0, 1)
    with session_scope(factory) as session:
        assert "waiting_time" not in rollup_totals(session)
    assert classify_pending(factory, classifier).classified == 1
    with session_scope(factory) as session:
        assert rollup_totals(session)["courtesy"] == (1, 0, 0)
        item = session.scalars(select(Item)).one()
        assert len(item.extra["versions"]) == 1


def test_each_authority_is_classified_with_its_own_classifier_once(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path, tiny_model_dir: Path,
) -> None:
    from ecoute.classifiers.pending import classify_each_authority
    from ecoute.collectors.service import add_source, run_source
    from ecoute.store.models import Authority
    from tests.helpers.seed import write_feed

    seed(factory, settings, tmp_path, TEXTS[:2])
    feed = write_feed(tmp_path / "other.rss", TEXTS[2:4], prefix="o")
    with session_scope(factory) as session:
        source_id = add_source(session, authority="lyon", name="o", kind="rss",
                               options={"url": str(feed)}).id
    run_source(factory, settings, source_id)
    default = LexiconSentenceClassifier(TransformerSentiment(tiny_model_dir), load_lexicon())
    own = LexiconSentenceClassifier(TransformerSentiment(tiny_model_dir), load_lexicon())
    own.version = "lyon-corrections-1"
    chosen = {"lyon": own}
    report = classify_each_authority(factory, lambda slug: chosen.get(slug, default),
                                     batch_size=1)
    assert report.classified == 4
    # Each authority keeps its version: a second pass finds nothing to re-tag.
    assert classify_each_authority(factory, lambda slug: chosen.get(slug, default)).classified \
        == 0
    with session_scope(factory) as session:
        versions = dict(session.execute(
            select(Authority.slug, func.min(Item.classified_version))
            .join(Item, Item.authority_id == Authority.id).group_by(Authority.slug)).all())
    assert versions == {"demo": model_version(default), "lyon": model_version(own)}


def test_pool_uses_the_heads_an_authority_stored_in_its_own_database_only(
    factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ecoute.classifiers import loader
    from ecoute.store.authorities import ensure_authority
    from ecoute.store.db import make_engine, make_session_factory, upgrade
    from ecoute.store.heads import save_authority_head

    built: list[dict[str, bytes] | None] = []
    monkeypatch.setattr(loader, "build_classifier",
                        lambda settings, own=None: built.append(own) or object())
    settings = Settings(cache_dir=tmp_path / "shared-cache")
    with session_scope(factory) as session:
        lyon = ensure_authority(session, "lyon")
        save_authority_head(session, lyon.id, loader.DETERMINANT_TASK, b"head-1", {})
    pool = loader.ClassifierPool(settings, factory)
    assert pool.for_authority("demo") is pool.for_authority("paris")
    assert pool.for_authority("lyon") is not pool.for_authority("demo")
    assert built == [None, {"determinants": b"head-1"}]
    with session_scope(factory) as session:  # a newer refit replaces the classifier
        save_authority_head(session, lyon.id, loader.DETERMINANT_TASK, b"head-2", {})
    pool.for_authority("lyon")
    assert built[-1] == {"determinants": b"head-2"}

    # Another installation with the same cache folder and the same slug: nothing of Lyon's.
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other)
    other_factory = make_session_factory(other)
    with session_scope(other_factory) as session:
        ensure_authority(session, "lyon")
    built.clear()
    loader.ClassifierPool(settings, other_factory).for_authority("lyon")
    assert built == [None]
    assert not (settings.cache_dir / "heads").exists()
    other.dispose()


@pytest.mark.parametrize("path", ["classify_pending", "classify_batch"])
def test_spans_index_the_stored_text_of_titled_items(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path, engine: Engine,
    classifier: LexiconSentenceClassifier, path: str,
) -> None:
    """The classifier reads "title. text"; the spans it gives are moved onto item.text, and a
    mention found in the title keeps its tag without a span."""
    seed(factory, settings, tmp_path, ["Attente interminable au guichet. Accueil chaleureux merci"])
    with session_scope(factory) as session:
        item = session.scalars(select(Item)).one()
        item.title = "Personnel désagréable"
    if path == "classify_pending":
        classify_pending(factory, classifier)
    else:
        assert classify_batch(factory, classifier, size=10) == Batch(1, 1)
    with session_scope(factory) as session:
        text = session.scalars(select(Item.text)).one()
        tags = {(t.determinant, t.polarity): (t.span_start, t.span_end)
                for t in session.scalars(select(DeterminantTag))}
    assert tags[("waiting_time", "negative")] == (0, len("Attente interminable au guichet."))
    start, end = tags[("courtesy", "positive")]
    assert text[start:end] == "Accueil chaleureux merci"
    assert tags[("courtesy", "negative")] == (None, None)


def test_the_classifier_is_told_each_items_channel(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
    classifier: LexiconSentenceClassifier, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Feedback is judged otherwise than social posts: the classifier must know which is which."""
    seed(factory, settings, tmp_path, TEXTS[:2], name="reviews", channel="review")
    seed(factory, settings, tmp_path, TEXTS[2:3], name="posts", channel="social")
    seen: list[tuple[str, str | None]] = []
    original = classifier.predict

    def predict(texts, channels=None):  # type: ignore[no-untyped-def]
        seen.extend(zip(texts, channels, strict=True))
        return original(texts, channels)

    monkeypatch.setattr(classifier, "predict", predict)
    assert classify_pending(factory, classifier).classified == 3
    assert sorted(channel for _, channel in seen) == ["review", "review", "social"]
    assert {channel for text, channel in seen if "interminable" in text} == {"social"}
