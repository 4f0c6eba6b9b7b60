"""The one normal form of stored strings: no control characters, NFC, a recorded cut."""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ecoute.store.text_normalise import clean_text, normalise_record, normalise_text


@dataclass
class Record:
    external_id: str
    text: str
    title: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Refusal:
    payload: str | bytes
    position: str
    reason: str


def test_control_characters_go_newlines_and_tabs_stay() -> None:
    assert clean_text("a\x00b\x07c\x1bd\x7fe\x85f\tg\nh") == "abcdef\tg\nh"
    assert clean_text("one\r\ntwo\rthree") == "one\ntwo\nthree"
    assert clean_text("\x00" * 50) == ""
    assert clean_text("lone \ud800 surrogate") == "lone  surrogate"


def test_unicode_is_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Très bien, l'accueil à la mairie")
    assert decomposed != "Très bien, l'accueil à la mairie"
    assert clean_text(decomposed) == "Très bien, l'accueil à la mairie"


def test_a_cut_says_how_long_the_text_was() -> None:
    assert normalise_text("x" * 10, 10) == ("x" * 10, None)
    assert normalise_text("x" * 25, 10) == ("x" * 10, 25)


def test_every_string_of_a_record_and_its_extra_is_normalised() -> None:
    record = Record("id\x00-1", "Bon\x00jour " + "a" * 2000, "Ti\x00tle",
                    extra={"no\x00te": "x\x00y", "list": ["\x01z", 3], "long": "b" * 1500,
                           "nested": {"k": "v\x00"}})
    out = normalise_record(record, 1000)
    assert out.external_id == "id-1" and out.title == "Title"
    assert out.text == ("Bonjour " + "a" * 2000)[:1000]
    assert out.extra["note"] == "xy" and out.extra["list"] == ["z", 3]
    assert out.extra["nested"] == {"k": "v"} and out.extra["long"] == "b" * 1000
    assert out.extra["truncated"] == {"text": 2008, "extra.long": 1500}
    assert record.text.startswith("Bon\x00jour")  # a copy: the collector's record is untouched


def test_a_record_without_extra_tells_the_cut_in_its_reason() -> None:
    out = normalise_record(Refusal("p\x00" * 800, "line 3", "line 3: not JSON"), 1000)
    assert out.payload == "p" * 800
    out = normalise_record(Refusal("q" * 1200, "line 3", "line 3: not JSON"), 1000)
    assert out.payload == "q" * 1000
    assert out.reason == "line 3: not JSON (payload cut at 1000 of 1200 characters)"
    assert normalise_record(Refusal(b"\x00raw", "f", "r"), 1000).payload == b"\x00raw"


def test_linear_on_long_adversarial_strings() -> None:
    hostile = ("\x00a\r" * 3_000_000) + "é" * 1_000_000
    started = time.perf_counter()
    text, original = normalise_text(hostile, 100_000)
    assert time.perf_counter() - started < 10
    assert original == 7_000_000 and len(text) == 100_000


def test_only_dataclass_instances() -> None:
    with pytest.raises(TypeError):
        normalise_record({"text": "x"}, 1000)


def _reference_clean(value: str) -> str:
    """The normal form as first written: two substitutions, then NFC."""
    value = re.sub("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]", "",
                   re.sub("\r\n?", "\n", value))
    return unicodedata.normalize("NFC", value)


@hypothesis_settings(max_examples=2000, deadline=None, database=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=300))
def test_the_fast_paths_give_the_reference_form(value: str) -> None:
    assert clean_text(value) == clean_text(value) == _reference_clean(value)


def test_an_unchanged_record_is_kept_and_a_changed_one_copied() -> None:
    extra = {"status": "clos", "tags": ["a", "b"]}
    record = Record("r-1", "Très bien", extra=extra)
    assert normalise_record(record, 100) is record
    dirty = Record("r-2", "x" * 150, extra=extra)
    clean = normalise_record(dirty, 100)
    assert clean.extra == {**extra, "truncated": {"text": 150}}
    assert extra == {"status": "clos", "tags": ["a", "b"]}  # the original is not modified
    nested = Record("r-3", "ok", extra={"notes": ["a\x00b"]})
    assert normalise_record(nested, 100).extra == {"notes": ["ab"]}
    assert nested.extra == {"notes": ["a\x00b"]}
