"""The dashboard's two languages: which one a request gets, its words, its numbers and dates.

The language is, in order: the one the person chose (``/language/fr``, kept in a cookie), the
best of their browser's ``Accept-Language``, the authority's locale, French. ``?lang=`` is not
read: on the verbatims and trends pages it is the items' language filter.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from starlette.requests import Request

from ecoute.api.web.messages import MESSAGES

LANGUAGES = ("fr", "en")
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}
LANGUAGE_COOKIE = "ecoute_lang"
_MONTHS = {
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
           "nov.", "déc."),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


def _accepted(header: str) -> list[str]:
    """The languages of an Accept-Language header, most wanted first."""
    weighted = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, position, tag.split("-")[0].lower()))
    return [tag for _q, _p, tag in sorted(weighted)]


def negotiate(request: Request, fallback: str | None = None) -> str:
    """The language of this request's page."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for tag in _accepted(request.headers.get("accept-language", "")):
        if tag in LANGUAGES:
            return tag
    fallback = (fallback or "fr").split("-")[0].split("_")[0].lower()
    return fallback if fallback in LANGUAGES else "fr"


class Translator:
    """Words, numbers and dates of one language, for templates and views."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._words: Mapping[str, str] = MESSAGES[language]

    def __call__(self, key: str, **values: Any) -> str:
        text = self._words.get(key) or MESSAGES["en"].get(key) or key
        return text.format(**values) if values else text

    def number(self, value: float, decimals: int = 0) -> str:
        text = f"{value:,.{decimals}f}"
        if self.language == "fr":
            # French: narrow no-break space between thousands, comma before decimals.
            text = text.replace(",", "\u202f").replace(".", ",")
        return text

    def percent(self, share: float | None, decimals: int = 0) -> str:
        if share is None:
            return "–"
        number = self.number(share * 100, decimals)
        return f"{number}\u00a0%" if self.language == "fr" else f"{number}%"

    def points(self, change: float) -> str:
        """A change of share in percentage points, signed."""
        sign = "+" if change > 0 else "−" if change < 0 else "±"
        return sign + self("points", value=self.number(abs(change) * 100, 1))

    def day(self, value: date | datetime | None) -> str:
        if value is None:
            return "–"
        month = _MONTHS[self.language][value.month - 1]
        if self.language == "fr":
            return f"{value.day} {month} {value.year}"
        return f"{month} {value.day}, {value.year}"

    def moment(self, value: datetime | None) -> str:
        if value is None:
            return "–"
        return f"{self.day(value)} {value:%H:%M}"

    def month(self, value: date) -> str:
        return f"{_MONTHS[self.language][value.month - 1]} {value.year}"

    def window(self, spec: str) -> str:
        """A period of the selector: its words (``30d``, ``month``…) or, for a whole calendar
        period (``2026-W48``, ``2026-11``, ``2026-Q4``, ``2026``), its name."""
        if f"window.{spec}" in self._words:
            return self(f"window.{spec}")
        year, _, part = spec.partition("-")
        if part.upper().startswith("W"):
            return self("window.iso_week", week=int(part[1:]), year=year)
        if part.upper().startswith("Q"):
            return self("window.quarter_of", quarter=part[1:], year=year)
        if part:
            return self.month(date(int(year), int(part), 1))
        return year

    def determinant(self, name: str) -> str:
        return self(f"determinant.{name}")

    def channel(self, name: str) -> str:
        return self._words.get(f"channel.{name}") or name.replace("_", " ")
