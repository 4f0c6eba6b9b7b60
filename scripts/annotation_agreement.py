"""Print the annotators' agreement on the determinant training set as Markdown tables.

    python scripts/annotation_agreement.py tests/fixtures/determinants_train
    python scripts/annotation_agreement.py tests/fixtures/determinants_eval

The whole set first, then the found texts and the texts written for the set apart: the
written ones were labelled by the people who wrote them to illustrate the guidelines, so they
agree more often than on found feedback, and the whole-set kappa alone would flatter the labels.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from ecoute.classifiers.training.agreement import Labels, agreement, markdown_table, read_labels

WRITTEN = "written_for_ecoute"


def _print_agreement(title: str, first: dict[str, Labels], second: dict[str, Labels]) -> None:
    result = agreement(first, second)
    print(
        f"{title}{result.items} items, {result.items_differing} labelled differently in any field\n"
    )
    print(markdown_table(result))


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/determinants_train")
    first = read_labels(folder / "annotator_1.csv")
    second = read_labels(folder / "annotator_2.csv")
    _print_agreement("", first, second)
    with (folder / "items.csv").open(encoding="utf-8", newline="") as fh:
        written = {row["id"] for row in csv.DictReader(fh) if row["source"] == WRITTEN}
    if not written or written == set(first):
        return  # one kind only: the split would repeat the table above
    for title, keep in (
        ("Found texts: ", lambda i: i not in written),
        ("Written for the set: ", lambda i: i in written),
    ):
        ids = [i for i in first if keep(i)]
        if ids:
            print()
            _print_agreement(title, {i: first[i] for i in ids}, {i: second[i] for i in ids})


if __name__ == "__main__":
    main()
