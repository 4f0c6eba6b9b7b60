"""The determinant training and evaluation sets: consistent files, agreement as reported,
hand-checked kappa, no text shared with each other or with the dev gold."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from ecoute.classifiers.training.agreement import (
    Labels,
    agreement,
    cohen_kappa,
    markdown_table,
    read_labels,
)
from ecoute.classifiers.training.evaluation import read_labelled_csv
from ecoute.domain import DETERMINANTS
from tests.conftest import TEST_DATA, needs_test_data

FIXTURES = Path(__file__).parents[2] / "fixtures"
SET = FIXTURES / "determinants_train"
EVAL = FIXTURES / "determinants_eval"
#: each labelled set and the fewest items it may hold
SETS = pytest.mark.parametrize(("folder", "at_least"), [(SET, 2500), (EVAL, 800)],
                               ids=["train", "eval"])


def test_kappa_by_hand() -> None:
    # 10 items: both say yes on 4, both no on 4, they differ on 2.
    # observed 0.8; each says yes 5 times: expected 0.5 -> kappa 0.6
    first = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    second = [1, 1, 1, 1, 0, 1, 0, 0, 0, 0]
    assert cohen_kappa(first, second) == pytest.approx(0.6)
    assert cohen_kappa(["a"] * 5, ["a"] * 5) == 1.0
    assert cohen_kappa([1, 0], [0, 1]) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        cohen_kappa([1], [1, 0])


def test_agreement_counts_presence_and_polarity_apart() -> None:
    def labels(tags: dict[str, str]) -> Labels:
        return Labels("fr", "negative", "0", tags)

    one = {"a": labels({"courtesy": "positive"}), "b": labels({}), "c": labels({})}
    two = {"a": labels({"courtesy": "negative"}), "b": labels({}), "c": labels({})}
    result = agreement(one, two)
    assert result.presence["courtesy"] == 1.0
    assert result.with_polarity["courtesy"] < 1.0
    assert result.items_differing == 1


def _rows(name: str, folder: Path = SET) -> list[dict[str, str]]:
    with open(folder / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@SETS
def test_final_labels_are_the_common_or_the_settled_ones(folder: Path, at_least: int) -> None:
    items = {row["id"]: row for row in _rows("items.csv", folder)}
    first = read_labels(folder / "annotator_1.csv")
    second = read_labels(folder / "annotator_2.csv")
    settled = {row["id"]: row for row in _rows("adjudication.csv", folder)}
    assert len(items) >= at_least and items.keys() == first.keys() == second.keys()
    assert settled.keys() <= items.keys()
    final = read_labels(folder / "items.csv")
    for item_id, labels in final.items():
        if first[item_id] == second[item_id]:
            assert labels == first[item_id], item_id
            assert item_id not in settled
        else:
            row = settled[item_id]
            assert (labels.sentiment, labels.mixed, labels.lang) == (
                row["sentiment"],
                row["mixed"],
                row["lang"],
            ), item_id
            assert row["rationale"].strip(), item_id
    assert all(item["text"].strip() for item in items.values())
    # the evaluation reader (ecoute evaluate, training) takes the file as it is
    assert len(read_labelled_csv(folder / "items.csv")) == len(items)


@SETS
def test_readme_reports_the_computed_agreement(folder: Path, at_least: int) -> None:
    result = agreement(read_labels(folder / "annotator_1.csv"),
                       read_labels(folder / "annotator_2.csv"))
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert markdown_table(result) in readme
    assert re.search(rf"\b{result.items_differing} items labelled differently", readme)


def _texts(folder: Path) -> set[str]:
    return {" ".join(row["text"].split()) for row in _rows("items.csv", folder)}


def test_no_evaluation_item_is_trained_on() -> None:
    assert not _texts(SET) & _texts(EVAL)
    assert not {row["id"] for row in _rows("items.csv")} & {
        row["id"] for row in _rows("items.csv", EVAL)}


@needs_test_data
@SETS
def test_no_item_of_the_set_is_in_the_dev_gold(folder: Path, at_least: int) -> None:
    gold = TEST_DATA / "gold" / "determinants_dev.csv"
    with open(gold, encoding="utf-8", newline="") as fh:
        gold_texts = {" ".join(row["text"].split()) for row in csv.DictReader(fh)}
    assert not _texts(folder) & gold_texts
    assert set(DETERMINANTS) <= {
        tag.split(":")[0]
        for row in _rows("items.csv", folder)
        for tag in row["determinants"].split(";")
        if tag
    }
