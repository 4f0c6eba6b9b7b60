"""Very long entries as an attacker or a broken export would send them: long unbroken runs of
one letter, of digits, of '@', of spaces and of markup, with a little real feedback and
personal data between them, as a feed entry, a pushed record or a CSV row."""

from __future__ import annotations

import html
import json
from pathlib import Path

#: Runs that made pattern-based redaction or HTML reduction slow on some implementation.
RUNS = (
    "a", "7", "@", " ", "<b>", "x@y.", "06 12 34 56 78 ", "Madame ", "&amp;",
    "<p>Accueil très aimable, 40 minutes d'attente</p>",
)
OPENING = "Accueil très aimable à la mairie, écrivez à jean.dupont@example.org. "


def adversarial_text(size: int, *, markup: bool = True, run: int = 200_000) -> str:
    """``size`` characters: OPENING, then runs of ``run`` characters of each of RUNS in turn
    (without the markup ones when ``markup`` is false)."""
    kinds = [r for r in RUNS if markup or "<" not in r and "&" not in r]
    parts, length, turn = [OPENING], len(OPENING), 0
    while length < size:
        unit = kinds[turn % len(kinds)]
        piece = unit * max(1, min(run, size - length) // len(unit))
        parts.append(piece)
        length += len(piece)
        turn += 1
    return "".join(parts)[:size]


def feed_with_entry(body: str, guid: str = "big") -> bytes:
    """An RSS 2.0 feed of one entry whose description is the HTML ``body``, escaped once."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Avis</title>'
        f"<item><guid isPermaLink=\"false\">{guid}</guid><title>Un très long avis</title>"
        f"<description>{html.escape(body, quote=False)}</description></item>"
        "</channel></rss>"
    ).encode()


def csv_with_row(path: Path, body: str) -> None:
    """A complaint log of two rows: a short one, then row ``big`` with ``body`` as one quoted
    field."""
    quoted = body.replace('"', '""')
    path.write_text(f'id,text\n1,Premier signalement\nbig,"{quoted}"\n', encoding="utf-8")


def push_body(body: str) -> bytes:
    """A JSON array of one pushed record whose text is ``body``."""
    return json.dumps([{"external_id": "big", "text": body}], ensure_ascii=False).encode()
