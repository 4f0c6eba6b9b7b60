"""The determinants lexicon: which of the seven AFNOR determinants a segment talks about."""

from __future__ import annotations

import re
import tomllib
import unicodedata
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


def _pattern(keywords: list[str]) -> re.Pattern[str]:
    parts = []
    for keyword in sorted({fold(k.strip()) for k in keywords if k.strip()}, key=len, reverse=True):
        prefix = keyword.endswith("*")
        words = [re.escape(w) for w in keyword.rstrip("*").split()]
        body = r"[\s'’-]+".join(words).replace(r"\'", "['’]")
        parts.append(body + (r"\w*" if prefix else r"(?!\w)"))
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + ")", re.IGNORECASE)


@dataclass
class Determinant:
    name: str
    labels: dict[str, str]
    descriptions: dict[str, str]
    keywords: dict[str, list[str]]
    pattern: re.Pattern[str] = field(repr=False, init=False)

    def __post_init__(self) -> None:
        self.pattern = _pattern([k for words in self.keywords.values() for k in words])

    def label(self, locale: str = "fr") -> str:
        return self.labels.get(locale) or self.labels.get("en") or self.name


@dataclass
class Lexicon:
    determinants: dict[str, Determinant]

    def match(self, text: str) -> dict[str, list[str]]:
        """Determinants mentioned in ``text`` and the words that showed it."""
        folded = fold(text)
        found: dict[str, list[str]] = {}
        for name, det in self.determinants.items():
            hits = [m.group() for m in det.pattern.finditer(folded)]
            if hits:
                found[name] = hits
        return found


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
