"""Splitting feedback into the segments that carry one opinion each.

Sentences first (multilingual end punctuation, abbreviations kept whole, line breaks in
unpunctuated social posts), then clauses at contrastive and concessive conjunctions, at
semicolons and after an opening concessive or conditional clause, so that "friendly staff
but 40 minutes of waiting" and "si l'accueil est aimable, l'attente est interminable" give
two segments with opposite polarities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Abbreviations after which a full stop does not end the sentence (lower-cased, no dot).
ABBREVIATIONS = frozenset(
    ["m", "mm", "mme", "mmes", "mlle", "dr", "pr", "st", "ste", "me", "mgr", "etc", "cf", "ex", "env", "av", "bd", "p", "pp", "vol", "n", "no", "nos", "tel", "tél", "mr", "mrs", "ms", "prof", "sr", "jr", "vs", "approx", "dept", "inc", "ltd", "co", "e", "g", "i", "ie", "eg", "al", "fig", "sra", "srta", "ud", "uds", "dña", "ee", "uu", "hr", "fr", "frau", "herr", "bzw", "ca", "evtl", "ggf", "inkl", "usw", "z", "b", "vgl", "sig", "dott", "ecc", "dhr", "mevr", "mw", "bijv", "enz", "ca", "esim", "jne", "ns", "ks", "klo"]
)

_END = re.compile(r"(?:[.!?…。！？]+|\.{3})[\"'»”)\]]*\s+|\n\s*\n|\n(?=\s*[-•*\d])|\n")
# Contrast and concessive markers that usually switch the opinion within a sentence.
# "ma" (Italian) and "men" (Scandinavian) are also common words elsewhere ("ma fille",
# "the men"): they cut a clause only after a comma or semicolon.
_CONTRAST = re.compile(
    r"(?:[,;]?\s+\b(?P<word>but|however|although|though|even\s+though|even\s+if|whereas|yet|"
    r"mais|cependant|pourtant|toutefois|néanmoins|par\s+contre|en\s+revanche|même\s+si|"
    r"bien\s+que|quoique|alors\s+que|"
    r"pero|sin\s+embargo|aunque|si\s+bien|a\s+pesar\s+de\s+que|mientras\s+que|"
    r"aber|jedoch|doch|allerdings|obwohl|obgleich|wenngleich|auch\s+wenn|"
    r"però|tuttavia|invece|anche\s+se|sebbene|benché|"
    r"maar|echter|hoewel|ofschoon|terwijl|"
    r"mas|porém|contudo|embora|mesmo\s+que|"
    r"mutta|vaikka|kuitenkin|silti|"
    r"även\s+om|selv\s+om|dock)"
    r"|[,;]\s*\b(?P<ambiguous>ma|men))\b",
    re.IGNORECASE,
)
# A sentence that opens with a concessive or conditional clause ("Si le personnel est
# aimable, l'attente est trop longue", "Although the staff were kind, ...", "Vaikka ...,")
# holds two opinions: cut after the comma that closes the opening clause.
_OPENING = re.compile(
    r"\s*(?:si|même\s+si|bien\s+que|quoique|although|though|even\s+though|even\s+if|while|"
    r"whilst|aunque|si\s+bien|a\s+pesar\s+de\s+que|obwohl|obgleich|wenn\s+auch|auch\s+wenn|"
    r"hoewel|ofschoon|vaikka|anche\s+se|sebbene|benché|embora|mesmo\s+que|även\s+om|"
    r"selv\s+om)\b[^,;.!?]{3,}?,\s*",
    re.IGNORECASE,
)
# A semicolon separates two statements as a full stop does.
_SEMICOLON = re.compile(r";\s*")
_MIN_CLAUSE_CHARS = 12


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    text: str


def _unit_ends_sentence(text: str, start: int, match: re.Match[str]) -> bool:
    """ "reçus à 9 h. Très efficace": a unit after a number, then a capital, ends a sentence."""
    after = text[match.end() : match.end() + 1]
    return bool(re.search(r"\d\s*\w{1,3}$", text[start : match.start()])) and after.isupper()


def _sentence_bounds(text: str) -> list[tuple[int, int]]:
    bounds: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end()
        before = text[start : match.start()]
        last_word = re.findall(r"(\w+)$", before)
        if (
            match.group().startswith(".")
            and last_word
            and (last_word[0].lower() in ABBREVIATIONS or len(last_word[0]) == 1)
            and "\n" not in match.group()
            and not _unit_ends_sentence(text, start, match)
        ):
            continue  # "M. Dupont", "e.g. this", initials
        if text[start:end].strip():
            bounds.append((start, end))
        start = end
    if text[start:].strip():
        bounds.append((start, len(text)))
    return bounds


def _cuts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``(end of a clause, start of the next)`` pairs inside one sentence, in order."""
    cuts = []
    for match in _CONTRAST.finditer(text, start, end):
        word = match.start("word") if match.group("word") else match.start("ambiguous")
        cuts.append((match.start(), word))
    for match in _SEMICOLON.finditer(text, start, end):
        cuts.append((match.start() + 1, match.end()))
    opening = _OPENING.match(text, start, end)
    if opening:
        cuts.append((opening.end() - len(opening.group()) + len(opening.group().rstrip()),
                     opening.end()))
    return sorted(set(cuts))


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    pieces: list[tuple[int, int]] = []
    cut = start
    for stop, resume in _cuts(text, start, end):
        if stop - cut >= _MIN_CLAUSE_CHARS and end - resume >= _MIN_CLAUSE_CHARS and resume > cut:
            pieces.append((cut, stop))
            cut = resume
    pieces.append((cut, end))
    return pieces


def split_segments(text: str) -> list[Segment]:
    """Opinion segments of ``text`` with their character spans (whitespace trimmed)."""
    segments: list[Segment] = []
    for s_start, s_end in _sentence_bounds(text):
        for c_start, c_end in _clauses(text, s_start, s_end):
            piece = text[c_start:c_end]
            stripped = piece.strip()
            if not stripped:
                continue
            lead = len(piece) - len(piece.lstrip())
            begin = c_start + lead
            segments.append(Segment(begin, begin + len(stripped), stripped))
    return segments
