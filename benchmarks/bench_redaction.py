"""Redaction benchmark: recall and precision per kind on the labelled sets (the frame-filled
set, the hand-written set, and both together), speed per text
against the stdlib-regex redaction it replaced, and time on 10 MB adversarial strings.

    python benchmarks/bench_redaction.py [--adversarial-mb 10]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ecoute.privacy import redact  # noqa: E402
from tests.helpers.redaction_set import (  # noqa: E402
    HANDWRITTEN_PATH, SET_PATH, kinds_in, load_set, score)

# The previous redaction (stdlib re, digit counting for phones), kept as the speed baseline.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(?\d{1,4}\)?[\s.-]?){2,5}\d{2,4}(?!\w)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,4})?\b")


def naive_redact(text: str) -> str:
    text = _EMAIL.sub("[email]", text)
    text = _IBAN.sub("[iban]", text)
    return _PHONE.sub(lambda m: "[téléphone]" if sum(c.isdigit() for c in m.group()) >= 9
                      else m.group(), text)


ADVERSARIAL = {
    "a × n": "a", "digits": "1", "@ × n": "@", "spaces": " ", "'1 ' × n": "1 ",
    "'a@' × n": "a@", "'a.a@a' × n": "a.a@a", "'1234 ' × n": "1234 ", "'FR76 ' × n": "FR76 ",
    "'Mme ' × n": "Mme ", "'Merci\\n' × n": "Merci\n", "'06 12 34 56 78 ' × n": "06 12 34 56 78 ",
}


def per_text_us(fn, texts: list[str], rounds: int = 20) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            fn(text)
    return (time.perf_counter() - start) / (rounds * len(texts)) * 1e6


def print_scores(name: str, rows: list[dict[str, object]]) -> None:
    scores = score(rows)
    print(f"{name}: {len(rows)} sentences, {scores.survivors} survivors\n")
    print("| kind | labelled | recall | precision |\n|---|---|---|---|")
    for kind in kinds_in(scores):
        print(f"| {kind} | {scores.labelled[kind]} | {scores.recall(kind):.1%} "
              f"| {scores.precision(kind):.1%} |")
    print(f"\nsurvivors masked: {len(scores.survivors_lost)} of {scores.survivors}")
    for line in scores.misses + scores.false_alarms + scores.survivors_lost:
        print("  ", line)
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--adversarial-mb", type=float, default=10.0)
    args = parser.parse_args()
    framed, handwritten = load_set(SET_PATH), load_set(HANDWRITTEN_PATH)
    for name, rows in (("frame-filled set", framed), ("hand-written set", handwritten),
                       ("both sets", framed + handwritten)):
        print_scores(name, rows)
    rows = framed + handwritten
    texts = [str(r["text"]) for r in rows]
    plain = [t for t in texts if not any(ch.isdigit() for ch in t) and "@" not in t]
    redact(texts[0])  # compile and warm the caches out of the timing
    ours, naive = per_text_us(redact, texts), per_text_us(naive_redact, texts)
    print(f"\nspeed on both sets: {ours:.1f} µs per text (previous redaction: {naive:.1f} µs)")
    print(f"speed on texts without digits or @ ({len(plain)}): "
          f"{per_text_us(redact, plain):.1f} µs per text")
    size = int(args.adversarial_mb * 1_000_000)
    print(f"\n| adversarial string ({args.adversarial_mb:g} MB) | seconds |\n|---|---|")
    for name, unit in ADVERSARIAL.items():
        text = unit * (size // len(unit))
        start = time.perf_counter()
        redact(text)
        print(f"| {name} | {time.perf_counter() - start:.2f} |", flush=True)


if __name__ == "__main__":
    main()
