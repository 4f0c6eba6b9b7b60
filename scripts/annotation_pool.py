"""Draw the items of the determinant training set from the development data sets.

Reproducible (fixed seed): Helsinki feedback of the development half that the dev gold does
not use, and sentences of the SemEval-2016 French restaurant *train* split. The texts written
for the purpose (source ``written_for_ecoute``) live only in
``tests/fixtures/determinants_train/items.csv``.

    python scripts/annotation_pool.py --data ../shared/data --out pool.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path

HELSINKI = "citizen/helsinki_issue_reporting/real_feedbacks_half.json"
HELSINKI_REF = "6aika/issue-reporting@d977f11b32b9f01249f4661e8d7a960f9eb35ac3:real_feedbacks.json#pk={}"
SEMEVAL = "sentiment/semeval2016_fr/yangheng95_apc/restaurants_train_french.xml.dat"
SEMEVAL_REF = ("yangheng95/ABSADatasets:datasets/apc_datasets/120.SemEval2016Task5/125.french/"
               "restaurants_train_french.xml.dat#sentence={}")
FIELDS = ("id", "lang", "source", "source_ref", "channel", "text")


def _dev_gold(data: Path) -> tuple[set[str], set[str]]:
    """The record locators and the texts of the dev gold, which the set must not repeat."""
    with open(data / "gold/determinants_dev.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return ({row["source_ref"].split("#")[-1] for row in rows},
            {" ".join(row["text"].split()) for row in rows})


def helsinki(data: Path, exclude: set[str]) -> list[dict[str, str]]:
    records = json.loads((data / HELSINKI).read_text(encoding="utf-8"))
    out, seen = [], set()
    for record in records:
        if record["model"] != "api.feedback" or f"pk={record['pk']}" in exclude:
            continue
        text = " ".join((record["fields"]["description"] or "").split())[:1200]
        if len(text) < 25 or text in seen:
            continue
        seen.add(text)
        out.append({"lang": "fi", "source": "helsinki_feedback", "channel": "service_request",
                    "source_ref": HELSINKI_REF.format(record["pk"]), "text": text})
    return out


def semeval_fr(data: Path) -> list[dict[str, str]]:
    lines = (data / SEMEVAL).read_text(encoding="utf-8").split("\n")
    sentences: dict[str, int] = {}
    for i in range(0, len(lines) - 2, 3):
        if "$T$" in lines[i]:
            sentences.setdefault(lines[i].replace("$T$", lines[i + 1]).strip(), i // 3)
    return [{"lang": "fr", "source": "semeval2016_absa_restaurants_fr_train", "channel": "review",
             "source_ref": SEMEVAL_REF.format(record), "text": text}
            for text, record in sentences.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--helsinki", type=int, default=520)
    parser.add_argument("--semeval", type=int, default=380)
    parser.add_argument("--top-up", type=int, default=10,
                        help="items drawn after the first draw, numbered after it")
    args = parser.parse_args()
    rng = random.Random(2026)
    refs, gold_texts = _dev_gold(args.data)
    h = helsinki(args.data, refs)
    s = semeval_fr(args.data)
    chosen = rng.sample(h, min(args.helsinki, len(h))) + rng.sample(s, min(args.semeval, len(s)))
    rng.shuffle(chosen)
    numbered = [(f"tr-{number:04d}", row) for number, row in enumerate(chosen, 1)]
    # The first draw did not look at the dev gold's French sentences: the ones it repeats
    # are dropped (their numbers stay unused) and replaced by a second draw numbered after it.
    kept = [(i, row) for i, row in numbered if " ".join(row["text"].split()) not in gold_texts]
    taken = {row["text"] for row in chosen}
    rest = [row for row in h + s
            if row["text"] not in taken and " ".join(row["text"].split()) not in gold_texts]
    extra = rng.sample(rest, min(args.top_up, len(rest)))
    kept += [(f"tr-{len(chosen) + n:04d}", row) for n, row in enumerate(extra, 1)]
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        for item_id, row in kept:
            writer.writerow({"id": item_id, **row})
    print(f"{len(kept)} items written to {args.out}")


if __name__ == "__main__":
    main()
