"""Print the annotators' agreement on the determinant training set as a Markdown table.

    python scripts/annotation_agreement.py tests/fixtures/determinants_train
"""

from __future__ import annotations

import sys
from pathlib import Path

from ecoute.classifiers.training.agreement import agreement, markdown_table, read_labels


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/determinants_train")
    result = agreement(read_labels(folder / "annotator_1.csv"),
                       read_labels(folder / "annotator_2.csv"))
    print(f"{result.items} items, {result.items_differing} labelled differently in any field\n")
    print(markdown_table(result))


if __name__ == "__main__":
    main()
