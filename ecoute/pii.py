"""Finding personal data in free text, as typed spans.

Every pattern runs on RE2, which matches in time linear in the text (no backtracking): a 10 MB
run of one character costs what 10 MB of ordinary feedback costs. The text is searched as
UTF-8 bytes because RE2's Python binding re-encodes a ``str`` at every search call, which would
make a search per candidate quadratic on long texts.

A pattern only proposes candidates; a checksum or numbering plan confirms them (IBAN mod 97,
NIR key, card Luhn and issuer ranges, phone numbers through Google's libphonenumber metadata),
so that case numbers, dates, prices, durations and times survive.

Kinds, from the most to the least specific (an overlap goes to the more specific one):
EMAIL, IBAN, NIR, CARD, PHONE, PLATE, configured patterns, NAME.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
import re2
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.fr import nir as stdnum_nir

KINDS = ("EMAIL", "IBAN", "NIR", "CARD", "PHONE", "PLATE", "NAME")

_OPTIONS = re2.Options()
_OPTIONS.max_mem = 64 << 20  # room for the DFA of the bounded repetitions on long texts


def compile_pattern(pattern: str | bytes) -> re2._Regexp:
    """An RE2 pattern searched over UTF-8 bytes; raises ``re2.error`` when invalid."""
    raw = pattern.encode() if isinstance(pattern, str) else pattern
    return re2.compile(raw, options=_OPTIONS)


@dataclass(frozen=True, slots=True)
class Span:
    """Personal data at ``data[start:end]`` (byte offsets in the UTF-8 text)."""

    start: int
    end: int
    kind: str


# A separator inside a written number: space, dot, dash, no-break and narrow no-break spaces.
_SEP = rb"[ .\-\x{a0}\x{202f}]"
_EMAIL = compile_pattern(rb"[\w.+'\-]+@[\w\-]+(?:\.[\w\-]+)+")
_IBAN = compile_pattern(rb"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
# Sex (1, 2; 3, 4, 7, 8 for temporary numbers), year, month (or 20-99 for unknown), department
# (2A/2B in Corsica), commune, order number, then the optional two-digit key.
_NIR = compile_pattern(
    rb"\b[1234789]S?\d{2}S?\d{2}S?(?:\d{2}|2[ABab])S?\d{3}S?\d{3}(?:S?\d{2})?\b"
    .replace(b"S", _SEP)
)
_CARD = compile_pattern(
    rb"\b\d{4}(?:S?\d{4}){2,3}(?:S?\d{1,3})?\b|\b3[47]\d{2}S?\d{6}S?\d{5}\b".replace(b"S", _SEP)
)
_PHONE = compile_pattern(
    (  # international (+33 6 12 34 56 78, 0033 (0)6..., +1 (212) 555-0123)
        rb"(?:\+|\b00)[1-9]\d{0,2}S?(?:\(0\)S?)?(?:\(\d{1,4}\)S?)?\d{1,4}(?:S?\d{1,4}){1,6}\b"
        # national with a trunk 0 (06 12 34 56 78, 0800 123 456, 020 7946 0958)
        rb"|\b0\d(?:S?\d){7,11}\b"
        # North American ((212) 555-0123, 212-555-0123)
        rb"|\(\d{3}\)S?\d{3}[ .\-]\d{4}\b|\b\d{3}[.\-]\d{3}[.\-]\d{4}\b"
    ).replace(b"S", _SEP)
)
# New plates (AB-123-CD, never I, O or U) and the old departmental ones (123 ABC 75, 2A/2B,
# 971-976).
_PLATE = compile_pattern(
    rb"\b[A-HJ-NP-TV-Z]{2}[ \-]?\d{3}[ \-]?[A-HJ-NP-TV-Z]{2}\b"
    rb"|\b\d{1,4}[ \-][A-Z]{1,3}[ \-](?:\d{2}|2[AB]|97[1-6])\b"
)

# A capitalised word or an initial ("J.", "J.-P."); a name is one to three of them, particles
# ("de", "van", "d'") allowed between them and before the first.
_WORD = rb"(?:\p{Lu}[\p{L}'\x{2019}\-]*\p{L}|\p{Lu}\.(?:-\p{Lu}\.)?)"
_PARTICLE = rb"(?:(?:de|du|des|van|von|da|di|dos|del)[ \t]+|d'|d\x{2019})"
_NAME_WORDS = rb"(" + _PARTICLE + rb"?" + _WORD + rb"(?:[ \t]+" + _PARTICLE + rb"?" + _WORD \
    + rb"){0,2})"
_TITLE_WORD = (
    rb"(?:\b(?i:madame|monsieur|mademoiselle|docteur|docteure|professeur|professeure|ma\x{ee}tre)"
    rb"|\b(?:Mme|Mmes|Mlle|Mlles|Melle|Dr|Pr|Mr|Mrs|Ms|Mx|Miss|Prof|Cllr)\.?|\bMM?\.)"
)
# "Mme veuve Perrin", "Mme épouse Martin": the civil status between the title and the name.
_CIVIL = rb"(?:(?:veuve|vve|\x{e9}pouse|\x{e9}p\.)[ \t]+)?"
_TITLE = (
    rb"(?:" + _TITLE_WORD + rb"[ \t\x{a0}]+" + _CIVIL
    + rb"|\b(?i:je m'appelle|je m\x{2019}appelle|je me nomme|my name is)[ \t\x{a0}]+)"
)
_SIGN_OFF = (
    rb"(?:\b(?i:bien cordialement|cordialement|bien \x{e0} vous|salutations distingu\x{e9}es|"
    rb"sinc\x{e8}res salutations|meilleures salutations|respectueusement|best regards|"
    rb"kind regards|warm regards|regards|best wishes|yours sincerely|yours faithfully|sincerely)"
    rb"[ \t]*[,.!:]?[ \t]*(?:\r?\n[ \t]*){0,2}"
    # Shorter closings are a sign-off only when the name stands on the next line.
    rb"|(?:\b(?i:merci d'avance|merci d\x{2019}avance|merci|many thanks|thanks|thank you|cheers|"
    rb"best|cdlt|cdt|amicalement|bonne journ\x{e9}e|bonne soir\x{e9}e|all the best|take care|"
    rb"sent from my iphone|envoy\x{e9} de mon iphone)|--)"
    rb"[ \t]*[,.!:]?[ \t]*\r?\n[ \t]*(?:\r?\n[ \t]*)?)"
    rb"(?:" + _TITLE_WORD + rb"[ \t\x{a0}]+)?"
)
# A name alone on its line, or after a colon, followed by a phone number or an e-mail address
# ("Jean Dupont\n06 12...", "Contact : Jean Dupont, jean@..."): a signature or contact block.
_CONTACT = (
    rb"(?:(?m:^)|[:;(])[ \t]*(" + _PARTICLE + rb"?" + _WORD + rb"(?:[ \t]+" + _PARTICLE + rb"?"
    + _WORD + rb"){1,2})[ \t]*(?:,[ \t]*|\r?\n[ \t]*)(?:\+\d|\(\d|0\d|[\w.+\-]+@)"
)
_NAME = compile_pattern(
    _TITLE + _NAME_WORDS + rb"|" + _SIGN_OFF + _NAME_WORDS + rb"([ \t]*(?:$|[\r\n.,;!)]))"
    + rb"|" + _CONTACT
)
# Words that follow a title or a sign-off without being a person's name.
_ARTICLES = frozenset("le la les l' the a an un une".split())
_ROLES = frozenset(
    """mon ma mes votre vos notre nos son sa ses
    maire adjoint adjointe directeur directrice président présidente préfet préfète ministre
    député députée sénateur conseiller conseillère responsable agent agente chef
    madame monsieur mademoiselle messieurs mesdames docteur doctor mayor director manager
    president officer team équipe service services mairie ville city council department
    merci thanks thank bonjour hello
    direction pôle cellule accueil bureau secrétariat division unité office department unit desk
    support customer résidents residents famille family parents
    cordialement salutations regards sincerely cdlt best cheers bien bonne envoyé sent""".split()
)
# A title after these is part of a place's name ("rue du Docteur Roux", "lycée Madame de Staël").
_PLACE_BEFORE = re.compile(
    r"(?:\b(?:rue|avenue|av\.|boulevard|bd|place|all[ée]e|impasse|quai|chemin|square|cours"
    r"|lyc[ée]e|coll[èe]ge|[ée]cole|h[ôo]pital|clinique|centre|street|road|hospital)"
    r"(?:\s+(?:du|de\s+la|des|de)|\s+d')?)\s*$",
    re.IGNORECASE,
)

# What each byte says about the kinds that can match, as one byte class: ``bytes.translate``
# maps the whole text to classes in one C pass, and each check is then a byte search. A name
# needs a capital: an ASCII one, one of "À" to "Þ" (C3 80 to C3 9E: a continuation byte from
# 80 to 9E; the small accented letters of French, "é" is C3 A9, are not), or any character
# from U+0100 on (lead bytes C4 to F4), as RE2's ``\p{Lu}`` spans every plane. Without such a
# lead byte, a continuation byte from 80 to 9E follows C3 (a capital) or C2 (U+0080 to
# U+009E, control characters): both let the name pattern run, which then finds what it finds.
_DIGIT, _CAPITAL, _AT, _LOW_CONTINUATION, _PAST_LATIN1, _OTHER = b"0A@cLx"


def _byte_class(byte: int) -> int:
    if 0x30 <= byte <= 0x39:
        return _DIGIT
    if 0x41 <= byte <= 0x5A:
        return _CAPITAL
    if byte == 0x40:
        return _AT
    if 0x80 <= byte <= 0x9E:
        return _LOW_CONTINUATION
    return _PAST_LATIN1 if byte >= 0xC4 else _OTHER


_BYTE_CLASSES = bytes(_byte_class(byte) for byte in range(256))
_NUMBER_GROUPS = re.compile(r"[0-9A-Ba-b]+")  # one character class: linear
_CONTINUATION = re.compile(rb"[\x80-\xbf]*")  # one character class: linear


def possible_kinds(data: bytes) -> frozenset[str]:
    """The built-in kinds whose pattern can match somewhere in the UTF-8 ``data``, from what
    every match of each contains: an ``@`` (e-mail), 8 digits (IBAN, NIR, card, phone), 3
    digits and ASCII capitals (plate, and IBAN's country code), a capital letter (name).
    Checking costs one byte translation and a few byte searches; a search costs a pattern's
    run over the text, mostly for nothing in ordinary feedback."""
    classes = data.translate(_BYTE_CLASSES)
    capitals = _CAPITAL in classes
    digits = classes.count(_DIGIT) if _DIGIT in classes else 0
    return _kinds(_AT in classes,
                  capitals or _PAST_LATIN1 in classes or _LOW_CONTINUATION in classes,
                  capitals and digits >= 3, capitals and digits >= 8, digits >= 8)


@lru_cache(maxsize=None)
def _kinds(email: bool, name: bool, plate: bool, iban: bool, numbers: bool) -> frozenset[str]:
    """The kinds :func:`possible_kinds` found, built once per combination."""
    kinds = {"EMAIL"} if email else set()
    kinds |= {"NAME"} if name else set()
    kinds |= {"PLATE"} if plate else set()
    kinds |= {"IBAN"} if iban else set()
    kinds |= {"NIR", "CARD", "PHONE"} if numbers else set()
    return frozenset(kinds)


def find_spans(data: bytes, extra: Sequence[tuple[str, re2._Regexp]] = ()) -> list[Span]:
    """Non-overlapping spans of personal data in the UTF-8 ``data``, in text order.

    ``extra`` holds configured (kind, pattern) pairs, matched as they are. A built-in pattern
    runs only where :func:`possible_kinds` says it can match."""
    possible = possible_kinds(data)
    if not possible and not extra:
        return []
    found: list[Span] = []
    for kind, pattern, confirm in _PATTERNS:
        if kind in possible:
            found += _spans(pattern, data, kind, confirm)
        if kind == "PLATE":  # configured patterns rank between plates and names
            for extra_kind, extra_pattern in extra:
                found += _spans(extra_pattern, data, extra_kind, None)
    if not found:
        return found
    return _without_overlaps(found, tuple(k for k, _ in extra))


Confirm = Callable[[re2._Match, int, int], tuple[int, int] | None]

#: Candidates of one kind confirmed per text. Past it (a text made of thousands of numbers is
#: a data dump, not feedback) candidates are masked without confirmation: the time stays
#: linear with a small constant, and nothing personal is let through for lack of time.
MAX_CONFIRMATIONS = 1000


def _spans(
    pattern: re2._Regexp, data: bytes, kind: str, confirm: Confirm | None
) -> Iterator[Span]:
    """Confirmed matches of ``pattern``. A refused candidate is searched again from its next
    character, so that a valid number right after a longer invalid one is still found; each
    candidate is bounded in length, so the text is read a bounded number of times."""
    if confirm is None:
        for match in pattern.finditer(data):
            start, stop = match.span()
            if stop > start:
                yield Span(start, stop, kind)
        return
    pos, end, confirmations = 0, len(data), 0
    while pos < end and (match := pattern.search(data, pos)) is not None:
        start, stop = match.span()
        if confirmations >= MAX_CONFIRMATIONS:
            yield Span(start, stop, kind)
            pos = max(stop, start + 1)
            continue
        confirmations += 1
        span = confirm(match, start, stop)
        if span is not None and span[1] > span[0]:
            yield Span(span[0], span[1], kind)
            pos = max(span[1], start + 1)
        else:
            pos = start + 1
        if pos < end and 0x80 <= data[pos] < 0xC0:  # not in the middle of a character
            pos = _CONTINUATION.match(data, pos).end()  # type: ignore[union-attr]


def _trimmed(
    match: re2._Match, start: int, stop: int, valid: Callable[[str], bool]
) -> tuple[int, int] | None:
    """The longest prefix of the candidate, cut at a separator, that ``valid`` accepts: a
    pattern may have taken the digits or letters that follow a number."""
    text = match.group().decode()
    cut = len(text)
    for _ in range(8):
        if valid(text[:cut]):
            return start, start + len(text[:cut].encode())
        cut = max(text.rfind(sep, 0, cut) for sep in " .-\u00a0\u202f")
        if cut <= 0:
            return None
    return None


@lru_cache(maxsize=4096)
def _valid_iban(text: str) -> bool:
    return bool(stdnum_iban.is_valid(text))


def _confirm_iban(match: re2._Match, start: int, stop: int) -> tuple[int, int] | None:
    return _trimmed(match, start, stop, _valid_iban)


def _confirm_nir(match: re2._Match, start: int, stop: int) -> tuple[int, int] | None:
    text = match.group().decode()
    compact = "".join(ch for ch in text if ch.isalnum())
    if len(compact) == 15 and stdnum_nir.is_valid(compact):
        return start, stop
    # Written in the NIR's own grouping (1 85 05 78 006 084 36) it is one even when the key
    # was mistyped: a wrong key does not make it less personal.
    if len(compact) == 15 and len(_NUMBER_GROUPS.findall(text)) == 7:
        return start, stop
    return None


_CARD_BRANDS: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...] = (
    (("4",), (13, 16, 19)),  # Visa, CB
    (tuple(str(n) for n in range(51, 56)) + tuple(str(n) for n in range(2221, 2721)), (16,)),
    (("34", "37"), (15,)),  # American Express
    (("6011", "65") + tuple(str(n) for n in range(644, 650)), (16, 17, 18, 19)),  # Discover
    (("35",), (16, 17, 18, 19)),  # JCB
    (("62",), (16, 17, 18, 19)),  # UnionPay
    (("30", "36", "38", "39"), (14, 15, 16, 17, 18, 19)),  # Diners
)


def _valid_card(text: str) -> bool:
    digits = "".join(ch for ch in text if ch.isdigit())
    if not any(digits.startswith(prefixes) and len(digits) in lengths
               for prefixes, lengths in _CARD_BRANDS):
        return False
    return bool(luhn.is_valid(digits))


def _confirm_card(match: re2._Match, start: int, stop: int) -> tuple[int, int] | None:
    return _trimmed(match, start, stop, _valid_card)


@lru_cache(maxsize=4096)
def _valid_phone(text: str) -> bool:
    if text.startswith("00"):
        text = "+" + text[2:]
    regions: tuple[str | None, ...]
    if text.startswith("+"):
        regions = (None,)
    elif text.startswith("0"):
        # France, then its overseas departments (0694... is dialled the same way), then the UK
        regions = ("FR", "RE", "GP", "GF", "MQ", "YT", "GB")
    else:
        regions = ("US",)
    for region in regions:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False


def _confirm_phone(match: re2._Match, start: int, stop: int) -> tuple[int, int] | None:
    return _trimmed(match, start, stop, _valid_phone)


def _confirm_plate(match: re2._Match, start: int, stop: int) -> tuple[int, int] | None:
    text = match.group().decode()
    if text[:1].isalpha() and ("000" in text or text[:2] in ("SS", "WW")):
        return None  # not issued: number 000, and SS/WW are not regular series
    return start, stop


def _confirm_name(match: re2._Match, start: int, stop: int) -> tuple[int, int] | None:
    group = next(g for g in (1, 2, 4) if match.span(g)[0] >= 0)
    if group == 1:
        before = match.string[max(0, start - 24):start].decode(errors="ignore")
        if _PLACE_BEFORE.search(before):
            return None
    words = [w.lower().rstrip(".").replace("\u2019", "'").split("'")[-1]
             for w in match.group(group).decode().split()]
    # "Madame la Maire", "Monsieur le Directeur", "Cordialement, L'équipe": a role, not a name;
    # "Dr Le Goff" is a name.
    if not words or any(w in _ROLES for w in words) or (len(words) == 1 and words[0] in _ARTICLES):
        return None
    return match.span(group)


@lru_cache(maxsize=64)
def _ranks(extra_kinds: tuple[str, ...]) -> dict[str, int]:
    return {kind: i for i, kind in enumerate(
        ("EMAIL", "IBAN", "NIR", "CARD", "PHONE", "PLATE", *extra_kinds, "NAME"))}


def _without_overlaps(spans: Iterable[Span], extra_kinds: tuple[str, ...]) -> list[Span]:
    """One span per stretch of text: the more specific kind wins an overlap, then the longer."""
    rank = _ranks(extra_kinds)
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, rank[s.kind], -s.end)):
        if kept and span.start < kept[-1].end:
            last = kept[-1]
            if (rank[span.kind], last.end - last.start) < (rank[last.kind], span.end - span.start):
                kept[-1] = span
            continue
        kept.append(span)
    return kept


#: The built-in patterns in the order they are searched (configured ones go after PLATE).
_PATTERNS: tuple[tuple[str, re2._Regexp, Confirm | None], ...] = (
    ("EMAIL", _EMAIL, None), ("IBAN", _IBAN, _confirm_iban), ("NIR", _NIR, _confirm_nir),
    ("CARD", _CARD, _confirm_card), ("PHONE", _PHONE, _confirm_phone),
    ("PLATE", _PLATE, _confirm_plate), ("NAME", _NAME, _confirm_name),
)
