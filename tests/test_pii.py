"""The cheap checks that decide which patterns run never skip a match of the full patterns."""

from __future__ import annotations

from hypothesis import given, settings
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


@settings(max_examples=3000, deadline=None, database=None)
@given(TEXTS)
def test_no_pattern_matches_where_its_kind_was_ruled_out(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    possible = pii.possible_kinds(data)
    for kind, pattern, _confirm in pii._PATTERNS:
        if pattern.search(data) is not None:
            assert kind in possible, (kind, text)


@settings(max_examples=1500, deadline=None, database=None)
@given(TEXTS)
def test_spans_are_those_of_every_pattern_run(text: str) -> None:
    """find_spans with the checks gives what running all the patterns gives."""
    data = text.encode("utf-8", "surrogatepass")
    everything: list[pii.Span] = []
    for kind, pattern, confirm in pii._PATTERNS:
        everything += pii._spans(pattern, data, kind, confirm)
    assert pii.find_spans(data) == (pii._without_overlaps(everything, ()) if everything else [])


def test_remembered_short_strings_are_redacted_as_the_first_time() -> None:
    for text in ["Mme Martine Leroy", "appelez le 06 12 34 56 78", "statut : clos", "x" * 100]:
        assert redact(text) == redact(text) == _redact(text, ())
    assert redact("réf CL-123456", {"CLIENT": r"CL-\d{6}"}) == "réf [CLIENT]"
    assert redact("réf CL-123456") == "réf CL-123456"  # another set of patterns, another memory
