"""One normal form for every string ecoute stores, applied once before storage.

PostgreSQL refuses U+0000 in text (the whole statement fails, so one such character used to
fail a batch and every retry of it); SQLite stores it and every later reader chokes. Other
control characters and lone surrogates are noise of broken exports and encodings, and the
same words written in two Unicode forms would count as two texts. So every string of a record
(its title, text, author, ids, the strings of its ``extra``, a quarantine payload) loses its
control characters except newline and tab (a carriage return becomes a newline), is put in
Unicode NFC and is cut at ``text_max_chars`` characters. A cut is never silent: the original
length is recorded in the record's ``extra["truncated"]`` (field name → original length), or,
for records without ``extra`` (a quarantine entry), at the end of its ``reason``.

The module knows no record class: it reads the fields of any dataclass, so the store keeps
knowing nothing of collectors.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from functools import lru_cache
from typing import Any, TypeVar

from ecoute.domain import TRUNCATED_KEY

# Single-character classes only: the substitutions are linear in the length of the text.
_NEWLINES = re.compile("\r\n?")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


Record = TypeVar("Record")


#: Strings up to this length are remembered in their normal form (the last ``REMEMBERED``):
#: the keys and short values of ``extra`` (a status, a category) repeat on every record.
SHORT = 100


REMEMBERED = 16384
_remembered: dict[str, str] = {}


def clean_text(value: str) -> str:
    """``value`` without control characters (except ``\\n`` and ``\\t``), in NFC."""
    if len(value) > SHORT:
        return _clean(value)
    clean = _remembered.get(value)
    if clean is None:
        if len(_remembered) >= REMEMBERED:
            _remembered.clear()
        clean = _remembered[value] = _clean(value)
    return clean


def _clean(value: str) -> str:
    # Printable means no control character, surrogate or carriage return: nothing to
    # remove, one scan instead of two substitutions.
    if not value.isprintable():
        value = _CONTROL.sub("", _NEWLINES.sub("\n", value))
    # NFC of plain ASCII is itself: skip the work for most texts.
    return value if value.isascii() else unicodedata.normalize("NFC", value)


def normalise_text(value: str, max_chars: int) -> tuple[str, int | None]:
    """(clean text cut at ``max_chars``, its length before the cut or None when not cut)."""
    value = clean_text(value)
    if len(value) <= max_chars:
        return value, None
    return value[:max_chars], len(value)


def normalise_json(value: Any, max_chars: int, path: str, cuts: dict[str, int]) -> Any:
    """A JSON-like value with every string (keys too) normalised; a string cut is recorded in
    ``cuts`` under its dotted ``path``. A dict or list that changes is copied, never
    modified; one already in normal form is returned as it is (a list as a list)."""
    if isinstance(value, str):
        text, original = normalise_text(value, max_chars)
        if original is not None:
            cuts[path] = original
        return text
    if isinstance(value, dict):
        out = {}
        changed = False
        for key, item in value.items():
            new_key = clean_text(key) if isinstance(key, str) else key
            # Strings and scalars inline: extra holds mostly those, on every record.
            if isinstance(item, str):
                new = clean_text(item)
                if len(new) > max_chars:
                    cuts[f"{path}.{key}"] = len(new)
                    new = new[:max_chars]
            elif isinstance(item, dict | list | tuple):
                new = normalise_json(item, max_chars, f"{path}.{key}", cuts)
            else:
                new = item
            changed = changed or new_key != key or new is not item and new != item
            out[new_key] = new
        # Two keys equal once normalised leave one: a change too.
        return out if changed or len(out) != len(value) else value
    if isinstance(value, list | tuple):
        items = [normalise_json(v, max_chars, f"{path}[{i}]", cuts) for i, v in enumerate(value)]
        return value if isinstance(value, list) and all(
            new is old or new == old for new, old in zip(items, value, strict=True)) else items
    return value


@lru_cache(maxsize=64)
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))


def normalise_record(record: Record, max_chars: int) -> Record:
    """Dataclass ``record`` with its strings all in the stored normal form: a copy when one
    changes, the record itself when all already are.

    Bytes are kept as they are (a quarantined file is evidence, and binary columns take any
    byte); strings and the strings inside dicts and lists are normalised.
    """
    if not dataclasses.is_dataclass(record) or isinstance(record, type):
        raise TypeError(f"normalise_record takes a dataclass instance, not {record!r}")
    changes: dict[str, Any] = {}
    cuts: dict[str, int] = {}
    for name in _field_names(type(record)):
        value = getattr(record, name)
        # Nones first and strings inline, as in normalise_json: a record is mostly Nones and
        # strings, and this loop runs for every field of every record stored.
        if value is None:
            continue
        if isinstance(value, str):
            new: Any = clean_text(value)
            if len(new) > max_chars:
                cuts[name] = len(new)
                new = new[:max_chars]
        elif isinstance(value, (dict, list)):
            new = normalise_json(value, max_chars, name, cuts)
        else:
            continue
        if new is not value and new != value:
            changes[name] = new
    if cuts:
        extra = changes.get("extra", getattr(record, "extra", None))
        if isinstance(extra, dict):
            prior = extra.get(TRUNCATED_KEY)
            changes["extra"] = {
                **extra, TRUNCATED_KEY: {**(prior if isinstance(prior, dict) else {}), **cuts}}
        elif isinstance(changes.get("reason", getattr(record, "reason", None)), str):
            told = ", ".join(f"{name} cut at {max_chars} of {n} characters"
                             for name, n in cuts.items())
            changes["reason"] = f"{changes.get('reason', getattr(record, 'reason'))} ({told})"
    return dataclasses.replace(record, **changes) if changes else record  # type: ignore[type-var]
