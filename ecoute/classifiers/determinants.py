"""The determinants lexicon: which of the seven AFNOR determinants a segment talks about."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from ecoute.domain import DETERMINANTS
from ecoute.errors import ConfigError


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    base = unicodedata.normalize("NFKD", ch)
    kept = "".join(c for c in base if not unicodedata.combining(c))
    return kept[:1] if len(kept) >= 1 else ch


def fold(text: str) -> str:
    """Lower-case without accents, same length as ``text`` so spans survive."""
    # Cached per character: every segment of every item goes through here.
    folded = "".join(map(_fold_char, text.lower()))
    return folded if len(folded) == len(text) else text.lower()


def _body(keyword: str) -> str:
    """The regular expression of one folded keyword: words joined by any spacing, a ``*``
    ending a word matches any continuation of it, and a keyword never ends inside a word."""
    words = []
    for word in keyword.split():
        prefix = word.endswith("*")
        part = re.escape(word.rstrip("*")).replace(r"\'", "['’]").replace("'", "['’]")
        words.append(part + (r"\w*" if prefix else ""))
    body = r"[\s'’-]+".join(words)
    return body if keyword.endswith("*") else body + r"(?!\w)"


def _keywords(words: list[str]) -> list[str]:
    return sorted({fold(k.strip()) for k in words if k.strip()}, key=len, reverse=True)


def _pattern(keywords: list[str]) -> re.Pattern[str]:
    """One pattern for all ``keywords``, longest first; a cue never starts inside a word."""
    parts = [_body(k) for k in _keywords(keywords)] or [r"(?!x)x"]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + ")", re.IGNORECASE)


#: A cue: ``(determinant, "lang:keyword")``, the keyword as written in the lexicon.
Cue = tuple[str, str]


@dataclass
class Determinant:
    """One determinant's labels and cues per language.

    ``exceptions`` are phrases in which a cue is used in another sense ("répond à nos
    attentes" is no waiting, an account "closed" no opening hours): a cue found inside one
    of them does not count.
    """

    name: str
    labels: dict[str, str]
    descriptions: dict[str, str]
    keywords: dict[str, list[str]]
    exceptions: dict[str, list[str]] = field(default_factory=dict)
    patterns: dict[str, re.Pattern[str]] = field(repr=False, init=False)
    except_patterns: dict[str, re.Pattern[str]] = field(repr=False, init=False)

    def __post_init__(self) -> None:
        self.patterns = {lang: _pattern(words) for lang, words in self.keywords.items()}
        self.except_patterns = {lang: _pattern(words) for lang, words in self.exceptions.items()}
        # Which keyword a matched string comes from, tried longest first.
        self._cues = {lang: [(k, re.compile(_body(k))) for k in _keywords(words)]
                      for lang, words in self.keywords.items()}
        self._written = {lang: {fold(k.strip()): k.strip() for k in words}
                         for lang, words in self.keywords.items()}
        # Matched strings repeat across texts: which keyword each one is, found once.
        self._found: dict[tuple[str, str], str] = {}

    def label(self, locale: str = "fr") -> str:
        return self.labels.get(locale) or self.labels.get("en") or self.name

    def keyword(self, lang: str, matched: str) -> str:
        """The keyword, as written in the lexicon, that matched ``matched``."""
        key = (lang, matched)
        if key not in self._found:
            keyword = next((k for k, rx in self._cues[lang] if rx.fullmatch(matched)), matched)
            self._found[key] = self._written[lang].get(keyword, keyword)
        return self._found[key]

    def cues(self, folded: str, langs: list[str]) -> list[tuple[str, str, int, int]]:
        """``(lang, keyword, start, end)`` of each cue of ``langs`` in the folded text."""
        hits = [(lang, m) for lang in langs if lang in self.patterns
                for m in self.patterns[lang].finditer(folded)]
        if not hits:
            return []
        # The exceptions of every language searched: a French phrase in another sense is no
        # Dutch cue either ("nos attentes" holds the Dutch "attent").
        spans = [m.span() for lang in langs if lang in self.except_patterns
                 for m in self.except_patterns[lang].finditer(folded)]
        return [(lang, self.keyword(lang, m.group()), m.start(), m.end()) for lang, m in hits
                # a cue inside an exception phrase is used in another sense there
                if not any(m.start() < e and s < m.end() for s, e in spans)]


@dataclass
class Lexicon:
    """The determinants' cues, and what training measured about them.

    ``muted`` cues were wrong more often than right on labelled items and never count;
    ``weak`` cues count only when the determinant head agrees (they are a separate input of
    the head, never kept on their own). Both are chosen by ``ecoute train`` on the training
    set and stored in the determinant head, so an authority's own keywords always count.
    """

    determinants: dict[str, Determinant]
    muted: frozenset[Cue] = frozenset()
    weak: frozenset[Cue] = frozenset()

    def languages(self) -> set[str]:
        return {lang for det in self.determinants.values() for lang in det.keywords}

    def _langs(self, lang: str | None) -> list[str]:
        """A text's cues are those of its language; all languages when it is not known (or
        has no cues of its own), since short texts defeat detection. Cues of one language
        would otherwise fire inside words of another (Dutch *snel* in a Finnish street
        name, German *nett* in Finnish *netti*)."""
        known = self.languages()
        return [lang] if lang in known else sorted(known)

    def cues(self, text: str, lang: str | None = None) -> list[Cue]:
        """Every cue found in ``text`` (muted ones included), in order, repeats kept."""
        folded = fold(text)
        langs = self._langs(lang)
        return [(name, f"{cue_lang}:{keyword}")
                for name, det in self.determinants.items()
                for cue_lang, keyword, _, _ in det.cues(folded, langs)]

    def match(
        self, text: str, lang: str | None = None, *, weak: bool = False,
    ) -> dict[str, list[str]]:
        """Determinants mentioned in ``text`` and the words that showed it: the cues that
        count on their own, or with ``weak`` only the weak ones."""
        strong, weak_found = self.match_both(text, lang)
        return weak_found if weak else strong

    def match_both(
        self, text: str, lang: str | None = None,
    ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """What :meth:`match` finds with the cues that count on their own, and with the weak
        ones, in one pass over ``text``."""
        folded = fold(text)
        langs = self._langs(lang)
        strong: dict[str, list[str]] = {}
        weak: dict[str, list[str]] = {}
        for name, det in self.determinants.items():
            for cue_lang, keyword, start, end in det.cues(folded, langs):
                cue = (name, f"{cue_lang}:{keyword}")
                if cue not in self.muted:
                    (weak if cue in self.weak else strong).setdefault(name, []).append(
                        folded[start:end])
        return strong, weak

    def with_choices(self, muted: Iterable[Cue] = (), weak: Iterable[Cue] = ()) -> Lexicon:
        """The same cues with the muted and weak ones ``ecoute train`` chose."""
        return Lexicon(self.determinants, frozenset(muted), frozenset(weak))

    def choices(self) -> dict[str, list[str]]:
        """The muted and weak cues, as a determinant head's metadata stores them."""
        return {"muted_cues": sorted(f"{d}|{c}" for d, c in self.muted),
                "weak_cues": sorted(f"{d}|{c}" for d, c in self.weak)}

    def with_stored_choices(self, meta: Mapping[str, object]) -> Lexicon:
        """The same cues with the choices stored by :meth:`choices` (none when absent)."""
        def read(key: str) -> list[Cue]:
            stored = meta.get(key) or []
            pairs = [str(c).split("|", 1) for c in stored] if isinstance(stored, list) else []
            return [(p[0], p[1]) for p in pairs if len(p) == 2]

        return self.with_choices(read("muted_cues"), read("weak_cues"))


def load_lexicon(path: Path | None = None) -> Lexicon:
    """The lexicon at ``path``, or the one shipped with ecoute."""
    source = path or Path(str(files("ecoute.config") / "determinants.toml"))
    try:
        data = tomllib.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the determinants lexicon {source}: {exc}") from exc
    determinants: dict[str, Determinant] = {}
    for name in DETERMINANTS:
        entry = data.get(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("keywords"), dict):
            raise ConfigError(
                f"{source}: determinant {name!r} is missing or has no [{name}.keywords] table",
                hint="start from ecoute/config/determinants.toml",
            )
        determinants[name] = Determinant(
            name=name,
            labels=dict(entry.get("label", {})),
            descriptions=dict(entry.get("description", {})),
            keywords={lang: list(words) for lang, words in entry["keywords"].items()},
            exceptions={lang: list(words) for lang, words in entry.get("except", {}).items()},
        )
    unknown = set(data) - set(DETERMINANTS) - {"version"}
    if unknown:
        raise ConfigError(
            f"{source}: unknown determinant(s) {sorted(unknown)}",
            hint=f"the determinants are {', '.join(DETERMINANTS)}",
        )
    return Lexicon(determinants)


@lru_cache(maxsize=4)
def cached_lexicon(path: Path | None = None) -> Lexicon:
    return load_lexicon(path)
