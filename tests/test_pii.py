"""The cheap checks that decide which patterns run never skip a match of the full patterns."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ecoute import pii
from ecoute.privacy import _redact, redact

#: Pieces that make every pattern match now and then: digits and separators for numbers,
#: capitals (ASCII and not) for plates, IBANs and names, titles, sign-offs, contact blocks.
PIECES = st.sampled_from([
    "0", "1", "4", "6", "9", "12", "33", "2A", " ", ".", "-", "\n", "\t", ",", ":", ";", "(",
    ")", "+", "@", "'", "\u2019", "\u00a0", "a", "z", "é", "ü", "ß", "A", "B", "E", "H", "Z",
    "Q", "É", "Ö", "Ω", "Ж", "ǅ", "FR76", "AB-123-CD", "Mme ", "M. ", "Dr ", "madame ",
    "je m'appelle ", "Cordialement,\n", "Merci\n", "Best regards, ", "Jean", "Dupont", "de ",
    "d'", "x.y", "mail", ".fr", "06 12 34 56 78", "4970 1012 3456 7893", "1 85 05 78 006 084 36",
])
TEXTS = st.one_of(st.lists(PIECES, max_size=40).map("".join), st.text(max_size=200))


def _digits(data: bytes) -> int:
    return sum(ch in b"0123456789" for ch in data)


#: When each built-in pattern ran before the cheap checks on capitals were added (an @ for
#: e-mails, 8 digits for the numbers, 3 for plates): the checks these tests hold the new
#: ones against.
BEFORE = {"EMAIL": lambda d: b"@" in d, "IBAN": lambda d: _digits(d) >= 8,
          "NIR": lambda d: _digits(d) >= 8, "CARD": lambda d: _digits(d) >= 8,
          "PHONE": lambda d: _digits(d) >= 8, "PLATE": lambda d: _digits(d) >= 3,
          "NAME": lambda d: True}


#: Names without an ASCII capital, which only the check on capitals past ASCII lets through.
NON_ASCII_NAMES = ["madame Élodie", "je m'appelle Øystein", "merci\nÉmile Ørsted", "dr Ωmega"]


@settings(max_examples=2000, deadline=None, database=None)
@given(TEXTS)
@example(NON_ASCII_NAMES[0])
@example(NON_ASCII_NAMES[1])
@example(NON_ASCII_NAMES[2])
def test_no_pattern_matches_where_its_kind_was_ruled_out(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    possible = pii.possible_kinds(data)
    for kind, pattern, _confirm in pii._PATTERNS:
        if BEFORE[kind](data) and pattern.search(data) is not None:
            assert kind in possible, (kind, text)


@settings(max_examples=1000, deadline=None, database=None)
@given(TEXTS)
def test_spans_are_those_of_the_patterns_run_as_before(text: str) -> None:
    """find_spans with the new checks gives what running the patterns as before gives."""
    data = text.encode("utf-8", "surrogatepass")
    before: list[pii.Span] = []
    for kind, pattern, confirm in pii._PATTERNS:
        if BEFORE[kind](data):
            before += pii._spans(pattern, data, kind, confirm)
    assert pii.find_spans(data) == (pii._without_overlaps(before, ()) if before else [])


def test_names_without_an_ascii_capital_are_found() -> None:
    assert redact(NON_ASCII_NAMES[0]) == "madame [NAME]"
    assert redact(NON_ASCII_NAMES[2]) == "merci\n[NAME]"


def test_remembered_short_strings_are_redacted_as_the_first_time() -> None:
    for text in ["Mme Martine Leroy", "appelez le 06 12 34 56 78", "statut : clos", "x" * 100]:
        assert redact(text) == redact(text) == _redact(text, ())
    assert redact("réf CL-123456", {"CLIENT": r"CL-\d{6}"}) == "réf [CLIENT]"
    assert redact("réf CL-123456") == "réf CL-123456"  # another set of patterns, another memory


def test_every_capital_re2_knows_is_a_possible_name() -> None:
    """The name pattern needs a capital (``\\p{Lu}``): every character RE2 counts as one, in
    every plane, must let it run, or a name written with it would be stored unmasked."""
    capital = pii.compile_pattern(rb"\p{Lu}")
    everything = "\n".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    capitals = [m.group() for m in capital.finditer(everything.encode())]
    assert len(capitals) > 1000
    for found in capitals:
        assert "NAME" in pii.possible_kinds(b"madame " + found + b"x"), found
    assert "NAME" not in pii.possible_kinds("déjà vu à côté, très aimé ; ça".encode())


_CAPITALS_OR_PAST_LATIN1 = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(0xC4, 0x100))


def _kinds_by_scans(data: bytes) -> frozenset[str]:
    """``possible_kinds`` as it was written before the single byte translation: a scan per
    byte set, and a search for the Latin-1 capitals (C3 80 to C3 9E)."""
    kinds = {"EMAIL"} if b"@" in data else set()
    if len(data.translate(None, _CAPITALS_OR_PAST_LATIN1)) != len(data) or re.search(
            rb"\xc3[\x80-\x9e]", data):
        kinds.add("NAME")
    digits = _digits(data)
    if digits >= 3 and re.search(rb"[A-Z]", data):
        kinds |= {"PLATE", "IBAN"} if digits >= 8 else {"PLATE"}
    if digits >= 8:
        kinds |= {"NIR", "CARD", "PHONE"}
    return frozenset(kinds)


@settings(max_examples=2000, deadline=None, database=None)
@given(TEXTS)
@example("é\u0085")
@example("\u0080 \u009e")
def test_one_translation_rules_out_what_the_scans_ruled_out(text: str) -> None:
    """The same kinds as the scans, except that a control character U+0080 to U+009E (gone
    once the text is in the stored normal form) lets the name pattern run too."""
    data = text.encode("utf-8", "surrogatepass")
    before, now = _kinds_by_scans(data), pii.possible_kinds(data)
    if re.search("[\u0080-\u009e]", text):
        assert now - before <= {"NAME"}
        assert before <= now
    else:
        assert now == before
