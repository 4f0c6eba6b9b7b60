"""The content hash: what makes two items the same feedback, stable across versions (stored
hashes are compared with new ones, so a faster way to compute it must give the same hash)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ecoute.collectors.base import RawItem
from ecoute.collectors.entries import content_hash, single_spaced

#: Every character ``str.split()`` splits on, and a few that it does not.
SPACES = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
TEXTS = st.text(alphabet=st.characters(), max_size=60) | st.text(
    alphabet=SPACES + "aéÉİ\u200b\x00", max_size=30)
#: What a stored record's strings can hold: normal form has no lone surrogate.
STORED_TEXTS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60) | \
    st.text(alphabet=SPACES + "aéÉİ\u200b", max_size=30)


def hashed_as_before(raw: RawItem) -> str:
    """The content hash as it was first written (stored hashes were made by it)."""
    published = raw.published_at.date().isoformat() if raw.published_at else ""
    basis = "\x1f".join(
        [" ".join((raw.title or "").lower().split()), " ".join(raw.text.lower().split()),
         (raw.author or "").lower().strip(), published]
    )
    if raw.version_key:
        basis += "\x1f" + raw.version_key
    return hashlib.sha256(basis.encode()).hexdigest()


@settings(max_examples=3000, deadline=None, database=None)
@given(TEXTS)
@example("deux  espaces")
@example(" devant")
@example("derrière ")
@example("sur\ndeux lignes")
@example("espace\xa0insécable")
@example("")
def test_single_spaced_is_split_and_join(text: str) -> None:
    assert single_spaced(text) == " ".join(text.split())
    assert single_spaced(text.lower()) == " ".join(text.lower().split())


def test_the_only_printable_separator_is_the_space() -> None:
    """What lets single_spaced return a printable text as it is, checked on every character."""
    separators = [c for c in map(chr, range(0x110000)) if len(f"a{c}b".split()) > 1]
    assert " " in separators and len(separators) > 20
    assert [c for c in separators if c.isprintable()] == [" "]


@settings(max_examples=1000, deadline=None, database=None)
@given(text=STORED_TEXTS, title=st.none() | STORED_TEXTS, author=st.none() | STORED_TEXTS,
       version=st.none() | st.text(max_size=10), day=st.none() | st.integers(1, 28))
def test_content_hash_is_the_one_stored_hashes_were_made_by(
    text: str, title: str | None, author: str | None, version: str | None, day: int | None,
) -> None:
    raw = RawItem(external_id="x", text=text, title=title, author=author, version_key=version,
                  published_at=datetime(2025, 3, day, 9, tzinfo=timezone.utc) if day else None)
    assert content_hash(raw) == hashed_as_before(raw)
