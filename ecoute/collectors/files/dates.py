"""Dates as export files write them: ISO 8601, day first as in France, year first with a
12-hour clock (Google Forms), month names; read as aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

DATE_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
                "%d %B %Y", "%d %b %Y")
_NUMERIC_DATE = re.compile(
    r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?:[ T]+(\d{1,2})[:hH](\d{2})(?::(\d{2}))?)?")
#: Google Forms' own CSV download: ``2024/03/02 2:11:26 PM GMT+1`` (12-hour clock, the form
#: owner's offset; a zone abbreviation such as ``CET`` leaves the source's ``timezone``).
_YEAR_FIRST_STAMP = re.compile(
    r"(\d{4})/(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?"
    r"(?:\s+(?:(?:GMT|UTC)(?:([+-])(\d{1,2})(?::?(\d{2}))?)?|[A-Z]{2,5}))?")


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_datetime(value: str, tz: str = "UTC") -> datetime | None:
    """An aware UTC datetime from the usual export formats: ISO 8601, day first as in France
    (``03/02/2024 14:30``, month first only when the day cannot be first), ``2024/02/03``.
    Naive values are read in ``tz``. None when empty or unreadable."""
    return _parsed(value, tz)[1]


#: How :func:`parse_datetime` read a value, tried in this order; the first that recognises
#: the value's shape decides (its date may still be impossible: None).
ISO, NUMERIC, YEAR_FIRST, FORMATS = range(4)


def _parsed(value: str, tz: str, first: int | None = None) -> tuple[int | None, datetime | None]:
    """(the way that read ``value``, the datetime) or (None, None). ``first``: a way to try
    before the others, among those whose shapes no earlier way recognises (NUMERIC starts
    with a one- or two-digit day, YEAR_FIRST with a year and a slash, ISO with a four-digit
    year and a dash or a digit), so that trying it first never changes the result."""
    value = value.strip()
    if not value:
        return None, None
    if first is not None:
        way, parsed = _read(value, first)
        if way is not None:
            return way, _aware(parsed, tz)
    for way in (ISO, NUMERIC, YEAR_FIRST, FORMATS):
        if way != first:
            found, parsed = _read(value, way)
            if found is not None:
                return found, _aware(parsed, tz)
    return None, None


def _read(value: str, way: int) -> tuple[int | None, datetime | None]:
    """(``way``, the datetime it reads, None for an impossible date) when ``way`` recognises
    the value's shape; (None, None) when it does not."""
    if way == ISO:
        try:
            return ISO, datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None, None
    if way == NUMERIC:
        match = _NUMERIC_DATE.fullmatch(value)
        if not match:
            return None, None
        day, month, year, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        if month > 12 >= day:  # 12/31/2024: an American export
            day, month = month, day
        year += 2000 if year < 100 else 0
        try:
            return NUMERIC, datetime(year, month, day, hour, minute, second)
        except ValueError:
            return NUMERIC, None
    if way == YEAR_FIRST:
        stamp = _YEAR_FIRST_STAMP.fullmatch(value)
        return (YEAR_FIRST, _year_first_stamp(stamp)) if stamp else (None, None)
    for fmt in DATE_FORMATS:
        try:
            return FORMATS, datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None, None


def _aware(parsed: datetime | None, tz: str) -> datetime | None:
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_zone(tz))
    return parsed.astimezone(timezone.utc)


class DateColumn:
    """:func:`parse_datetime` for the values of one column of a file.

    A column holds one format: the way that read its last value is tried first, so the
    format is not detected again for every value (an ISO attempt on a French date costs an
    exception); and its values repeat (the day's complaints share a date), so the last few
    thousand are remembered. Results are those of :func:`parse_datetime`, value by value."""

    REMEMBERED = 4096

    def __init__(self, tz: str = "UTC") -> None:
        self.tz = tz
        self._way: int | None = None
        self._seen: dict[str, datetime | None] = {}

    def parse(self, value: str) -> datetime | None:
        if value in self._seen:
            return self._seen[value]
        # Only a way whose shapes no earlier way recognises may go first (see _parsed).
        first = self._way if self._way in (NUMERIC, YEAR_FIRST) else None
        way, parsed = _parsed(value, self.tz, first)
        if way is not None:
            self._way = way
        if len(self._seen) >= self.REMEMBERED:
            self._seen.clear()
        self._seen[value] = parsed
        return parsed


def _year_first_stamp(match: re.Match[str]) -> datetime | None:
    year, month, day, hour, minute, second = (int(g or 0) for g in match.groups()[:6])
    meridiem, sign, off_hours, off_minutes = match.groups()[6:]
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem.lower() == "pm" else 0)
    zone = None
    if sign or match.group(0).rstrip().upper().endswith(("GMT", "UTC")):
        offset = timedelta(hours=int(off_hours or 0), minutes=int(off_minutes or 0))
        zone = timezone(-offset if sign == "-" else offset)
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError:
        return None
