"""Personal data kept out of the store: authors become keyed pseudonyms, personal data in free
text is replaced by typed placeholders before anything is written.

``redact`` masks e-mail addresses ``[EMAIL]``, phone numbers ``[PHONE]``, IBANs ``[IBAN]``,
French social-security numbers ``[NIR]``, payment cards ``[CARD]``, French licence plates
``[PLATE]``, person names after a title or in a signature ``[NAME]``, and the patterns an
installation configures (``redact_patterns``: ``{"CLIENT": "CL-\\d{6}"}`` gives ``[CLIENT]``).
What is found and how is in ``ecoute.pii``; docs/privacy.md is the reader's version.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, TypeVar

import re2

from ecoute.pii import compile_pattern, find_spans


def placeholder(kind: str) -> str:
    """What replaces personal data of ``kind`` in stored text: ``[EMAIL]``, ``[PHONE]``..."""
    return f"[{kind}]"


@lru_cache(maxsize=16)
def _compiled(patterns: tuple[tuple[str, str], ...]) -> tuple[tuple[str, re2._Regexp], ...]:
    return tuple((kind.upper(), compile_pattern(pattern)) for kind, pattern in patterns)


#: Strings up to this length are remembered with their redaction (the last ``REMEMBERED``
#: of them, per set of configured patterns): the keys and short values of ``extra`` (a
#: status, a category, a file name) repeat on every record of a source.
SHORT = 100
REMEMBERED = 16384
_remembered: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
K = TypeVar("K")


def redact(text: str, patterns: Mapping[str, str] | None = None) -> str:
    """``text`` with its personal data replaced by typed placeholders.

    ``patterns`` maps a placeholder name to an extra RE2 pattern (the ``redact_patterns``
    setting). Runs in time linear in the length of ``text``."""
    return _redact_text(text, _configured(patterns))


def _configured(patterns: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(patterns.items())) if patterns else ()


def _redact_text(text: str, configured: tuple[tuple[str, str], ...]) -> str:
    if len(text) > SHORT:
        return _redact(text, configured)
    return _recall(_remembered, configured, text, _redact)


def _recall(
    tables: dict[K, dict[str, str]], key: K, value: str, compute: Callable[[str, K], str]
) -> str:
    """``compute(value, key)``, remembered in ``key``'s table, which is emptied when it is
    full (short texts and authors repeat: a bounded table keeps the memory flat). Nothing is
    allocated when the value is known: this runs for every stored item."""
    remembered = tables.get(key)
    if remembered is None:
        remembered = tables.setdefault(key, {})
    found = remembered.get(value)
    if found is None:
        if len(remembered) >= REMEMBERED:
            remembered.clear()
        found = remembered[value] = compute(value, key)
    return found


def _redact(text: str, configured: tuple[tuple[str, str], ...]) -> str:
    data = text.encode("utf-8", "surrogatepass")
    spans = find_spans(data, _compiled(configured) if configured else ())
    if not spans:
        return text
    pieces: list[bytes] = []
    pos = 0
    for span in spans:
        pieces += (data[pos:span.start], placeholder(span.kind).encode())
        pos = span.end
    pieces.append(data[pos:])
    return b"".join(pieces).decode("utf-8", "surrogatepass")


def redact_value(value: Any, patterns: Mapping[str, str] | None = None) -> Any:
    """``value`` (an ``extra`` mapping, a list, a string) with every string in it redacted,
    mapping keys included; other values as they are."""
    return _redact_any(value, _configured(patterns))


def _redact_any(value: Any, configured: tuple[tuple[str, str], ...]) -> Any:
    if isinstance(value, str):
        return _redact_text(value, configured)
    if isinstance(value, dict):
        return {
            _redact_text(k, configured) if isinstance(k, str) else k:
            _redact_text(v, configured) if isinstance(v, str)
            else _redact_any(v, configured) if isinstance(v, dict | list | tuple) else v
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_any(v, configured) for v in value]
    return value


def pseudonym(author: str | None, key: str) -> str | None:
    """A stable, non-reversible pseudonym of ``author`` (HMAC-SHA256 with the installation key).

    The same author gets the same pseudonym for as long as the key stays the same; after a
    key rotation, new items of an author no longer share the pseudonym of their older ones."""
    if not author or not author.strip():
        return None
    if len(author) > SHORT:
        return _pseudonym(author, key)
    # The same people write again and again: their pseudonyms are remembered like short
    # redacted strings (per key, so that a rotated key gives new ones).
    return _recall(_pseudonyms, key, author, _pseudonym)


_pseudonyms: dict[str, dict[str, str]] = {}


def _pseudonym(author: str, key: str) -> str:
    normalized = " ".join(author.lower().split())
    keyed = _keyed(key).copy()  # the key's padding is computed once, not per author
    keyed.update(normalized.encode())
    return keyed.hexdigest()[:32]


@lru_cache(maxsize=8)
def _keyed(key: str) -> hmac.HMAC:
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


def redact_payload(payload: str | bytes, patterns: Mapping[str, str] | None = None) -> str | bytes:
    """A quarantined record as it may be kept: its personal data masked, its type unchanged.

    Bytes stay bytes (the text column refused them, NULs for instance): UTF-8 is read as such;
    anything else is read byte for byte as Latin-1, which masks what is readable (e-mails,
    numbers, names in a Windows-1252 export) and leaves every other byte as it was. Compressed
    files (XLSX, DOCX, ODT, PDF streams) cannot be searched and are kept as received, for the
    quarantine's retention period only (docs/privacy.md)."""
    if isinstance(payload, str):
        return redact(payload, patterns)
    try:
        return redact(payload.decode("utf-8"), patterns).encode("utf-8")
    except UnicodeDecodeError:
        return redact(payload.decode("latin-1"), patterns).encode("latin-1", "replace")
