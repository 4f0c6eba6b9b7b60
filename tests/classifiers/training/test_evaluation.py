"""``ecoute evaluate``: metrics checked against values computed by hand."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from ecoute.domain import DeterminantMention, Prediction, SentimentScores
from ecoute.classifiers.training.evaluation import evaluate_file, read_labelled, read_labelled_csv
from ecoute.errors import ConfigError
from tests.cli.test_commands import ecoute

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "classification" / "evaluate_small.csv"

# What the fake classifier answers for each text of the fixture.
ANSWERS = {
    "Very friendly staff.": ("positive", [("courtesy", "positive")]),
    "Rude agent, and we waited an hour.": ("negative", [("waiting_time", "positive")]),
    "Le formulaire est nul.": ("negative", [("accessibility", "negative")]),
    "Toujours pas de réponse, bon.": ("positive", [("responsiveness", "negative")]),
    "Accueil agréable.": ("negative", []),
}


class Scripted:
    name = "scripted"
    version = "1"

    def predict(
        self, texts: Sequence[str], channels: Sequence[str | None] | None = None,
    ) -> list[Prediction]:
        out = []
        for text in texts:
            label, dets = ANSWERS[text]
            probs = {"negative": 0.1, "neutral": 0.1, "positive": 0.1, label: 0.8}
            out.append(Prediction(
                sentiment=SentimentScores(**probs),
                determinants=[DeterminantMention(d, p, 0.9, 0, len(text)) for d, p in dets],
            ))
        return out


def test_metrics_equal_the_hand_computed_ones() -> None:
    result = evaluate_file(Scripted(), FIXTURE, batch_size=2)
    assert result["n"] == 5
    sentiment = result["sentiment"]
    # gold pos,neg,neg,neu,pos vs predicted pos,neg,neg,pos,neg: 3 right of 5;
    # F1 positive 2/4, negative 4/5, neutral 0 -> macro (0.5 + 0.8 + 0) / 3.
    assert sentiment["accuracy"] == 0.6
    assert sentiment["macro_f1"] == pytest.approx(1.3 / 3, abs=1e-4)
    assert sentiment["per_lang"]["en"]["macro_f1"] == 1.0
    # fr: neg right, neu->pos, pos->neg: negative 2/3, neutral 0, positive 0.
    assert sentiment["per_lang"]["fr"]["accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert sentiment["per_lang"]["fr"]["macro_f1"] == pytest.approx(2 / 9, abs=1e-4)
    assert sentiment["macro_f1_mean_of_langs"] == pytest.approx((1 + 2 / 9) / 2, abs=1e-4)
    dets = result["determinants"]
    # presence: TP courtesy#1, waiting#2, responsiveness#4; FP accessibility#3;
    # FN courtesy#2, courtesy#5 -> 2*3 / (2*3 + 1 + 2).
    assert dets["micro_f1"] == pytest.approx(6 / 9, abs=1e-4)
    # pairs: TP 2 (#1, #4); FP waiting:positive, accessibility:negative; FN waiting:negative,
    # courtesy:negative, courtesy:positive#5 -> 4 / (4 + 2 + 3).
    assert dets["polarity_micro_f1"] == pytest.approx(4 / 9, abs=1e-4)
    assert dets["per_determinant"]["courtesy"] == {
        "precision": 1.0, "recall": pytest.approx(1 / 3, abs=1e-4), "f1": 0.5, "support": 3}
    assert dets["per_determinant"]["accessibility"] == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_bad_rows_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,determinants\nok,courtesy:positive\nnope,queue:negative\n",
                   encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.csv, line 3.*queue"):
        read_labelled_csv(bad)
    (tmp_path / "channel.csv").write_text("text,channel\nok,review\nhm,fax\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"channel.csv, line 3.*'fax'"):
        read_labelled_csv(tmp_path / "channel.csv")
    (tmp_path / "none.csv").write_text("body\nx\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no `text` column"):
        read_labelled_csv(tmp_path / "none.csv")
    with pytest.raises(ConfigError, match="cannot read"):
        read_labelled_csv(tmp_path / "missing.csv")


def test_evaluate_command_prints_json_and_a_table(tmp_path: Path, tiny_model_dir: Path) -> None:
    env = {"ECOUTE_MODEL_DIR": str(tiny_model_dir)}
    result = json.loads(ecoute(tmp_path, "evaluate", str(FIXTURE), "--json", env=env).stdout)
    assert result["n"] == 5
    assert set(result["sentiment"]) == {"accuracy", "macro_f1", "macro_f1_mean_of_langs",
                                        "per_lang"}
    assert set(result["determinants"]) == {"micro_f1", "polarity_micro_f1", "per_determinant"}
    assert set(result["determinants"]["per_determinant"]["courtesy"]) == {
        "precision", "recall", "f1", "support"}
    assert result["channels"] == {"none": 5}
    table = ecoute(tmp_path, "evaluate", str(FIXTURE), env=env).stdout
    assert "macro-F1" in table and "courtesy" in table
    # The fixture has no channel column: the table says how its rows were read, and how not to.
    assert "5 item(s) have no channel" in table and "`channel` column" in table


def _xlmt(root: Path, lang: str, texts: list[str], labels: list[str]) -> Path:
    folder = root / lang
    folder.mkdir(parents=True)
    (folder / "val_text.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    (folder / "val_labels.txt").write_text("\n".join(labels) + "\n", encoding="utf-8")
    return folder


def test_xlmt_folders_are_read_with_their_language_and_labels(tmp_path: Path) -> None:
    french = _xlmt(tmp_path, "french", ["Accueil agréable.", "Le formulaire est nul."],
                   ["2", "0"])
    _xlmt(tmp_path, "english", ["Very friendly staff."], ["2"])
    items = read_labelled(french)
    assert [(it.text, it.lang, it.sentiment) for it in items] == [
        ("Accueil agréable.", "fr", "positive"), ("Le formulaire est nul.", "fr", "negative")]
    assert sorted(it.lang or "" for it in read_labelled(tmp_path)) == ["en", "fr", "fr"]
    result = evaluate_file(Scripted(), tmp_path)
    # en: 1 right of 1; fr: positive->negative, negative->negative: F1 neg 2/3, pos 0.
    assert result["sentiment"]["per_lang"]["en"]["macro_f1"] == 1.0
    assert result["sentiment"]["per_lang"]["fr"]["macro_f1"] == pytest.approx(1 / 3, abs=1e-4)
    assert result["sentiment"]["macro_f1_mean_of_langs"] == pytest.approx(2 / 3, abs=1e-4)
    (french / "val_labels.txt").write_text("2\n7\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"val_labels.txt, line 2.*'7'"):
        read_labelled(french)
    with pytest.raises(ConfigError, match="no train_text.txt"):
        read_labelled(tmp_path, split="train")


class Channels(Scripted):
    """Remembers the channels it was given with each text."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []

    def predict(
        self, texts: Sequence[str], channels: Sequence[str | None] | None = None,
    ) -> list[Prediction]:
        self.seen += zip(texts, channels or [None] * len(texts), strict=True)
        return super().predict(texts, channels)


def test_the_classifier_is_told_each_rows_channel_and_tweets_are_social(tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.csv"
    labelled.write_text("text,sentiment,channel\nVery friendly staff.,positive,Complaint\n"
                        "Accueil agréable.,positive,\n", encoding="utf-8")
    scripted = Channels()
    result = evaluate_file(scripted, labelled)
    assert scripted.seen == [("Very friendly staff.", "complaint"), ("Accueil agréable.", None)]
    assert result["channels"] == {"complaint": 1, "none": 1}
    _xlmt(tmp_path / "xlmt", "english", ["Very friendly staff."], ["2"])
    scripted = Channels()
    evaluate_file(scripted, tmp_path / "xlmt")
    assert scripted.seen == [("Very friendly staff.", "social")]
