"""Case- and accent-insensitive search in stored text, the same on SQLite and PostgreSQL.

Neither database folds accents out of the box (SQLite's ``lower`` and ``LIKE`` know ASCII
only; PostgreSQL's ``unaccent`` is an extension an authority's database may not have), and a
quality officer typing ``reclamation`` expects to find "Réclamation". So the fold is one
character-for-character table, applied by Python to the words searched and by the database to
the stored text: ``translate()`` on PostgreSQL, the same Python function registered on every
SQLite connection (``store.db.make_engine``). Both sides map exactly the same characters, so
what matches does not depend on the database or its locale.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, and_, false, func, literal, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.functions import FunctionElement

#: Letters without a decomposition that readers still see as accented forms of a base letter.
_EXTRA = {"ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "ı": "i", "ħ": "h",
          "Ħ": "h", "ŧ": "t", "Ŧ": "t"}


def _fold_table() -> dict[str, str]:
    table = {chr(c): chr(c).lower() for c in range(ord("A"), ord("Z") + 1)}
    # Latin-1 Supplement and Latin Extended-A and B: the letters of the languages served.
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFD", char)
        if len(base) > 1 and base[0].isascii() and base[0].isalpha() and all(
                unicodedata.combining(mark) for mark in base[1:]):
            table[char] = base[0].lower()
    table.update(_EXTRA)
    return table


FOLD_TABLE = _fold_table()
_FROM = "".join(FOLD_TABLE)
_TO = "".join(FOLD_TABLE.values())
_TRANSLATION = str.maketrans(FOLD_TABLE)

#: The name of the SQLite function doing :func:`fold`.
SQLITE_FOLD = "ecoute_fold"


def fold(value: str | None) -> str | None:
    """``value`` in lower case without accents (only the letters of ``FOLD_TABLE`` change)."""
    return value.translate(_TRANSLATION) if value is not None else None


class folded(FunctionElement[str]):  # noqa: N801 - an SQL function, named as one
    """SQL: the :func:`fold` of a text expression."""

    type = String()
    inherit_cache = True
    name = "folded"


@compiles(folded, "postgresql")
def _folded_postgresql(element: folded, compiler: Any, **kw: Any) -> str:
    (text,) = element.clauses
    return str(compiler.process(func.translate(text, literal(_FROM), literal(_TO)), **kw))


@compiles(folded)
def _folded_sqlite(element: folded, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_FOLD}({compiler.process(element.clauses, **kw)})"


def words_of(query: str) -> list[str]:
    """The folded words of what was typed (at most 10: a page of text is not a query)."""
    return [w for w in (fold(query) or "").split() if w][:10]


def contains_words(columns: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
                   query: str) -> ColumnElement[bool]:
    """Every word of ``query`` appears, folded, in one of ``columns`` (a null column matches
    nothing). % and _ typed by a person are letters to find, not wildcards."""
    words = words_of(query)
    if not words:
        return ~false()
    conditions = []
    for word in words:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(or_(*(folded(c).like(f"%{escaped}%", escape="\\") for c in columns)))
    return and_(*conditions)
