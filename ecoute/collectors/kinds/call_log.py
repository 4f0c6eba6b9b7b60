"""Phone-system (ACD) interval exports: one ``CallInterval`` per queue and interval.

The figures (calls offered, answered, abandoned, average and maximum wait, service level,
agents logged in) are stored as ``CallStat`` rows, not as text items: they feed the
waiting-time and accessibility indicators and the phone-overload detection.

Two layouts are read without configuration, in CSV (any usual encoding and separator) or XLSX:

- a flat table whose header uses the usual French or English names (``Queue;Interval
  start;Offered;Answered;Abandoned;ASA;Max wait;Service level``), the interval start as one
  date-time or as a ``Date`` column plus a time or a range (``08:30 - 09:00``);
- the "Queue Interval Report" of contact-centre suites (Genesys-, Avaya CMS-like): a few title
  lines (report name, period, generation date) above the header, French headers such as
  ``File d'attente;Début intervalle;Appels présentés;Appels traités;Appels abandonnés;Attente
  moyenne (s);Attente max (s);Niveau de service (%)``, and total lines at the end, which are
  skipped. A threshold written in the service-level header (``Niveau de service 20s (%)``,
  ``% Ans within 20 sec``) is kept with the figures.

Durations are seconds (``42``, ``42,5``) or clock times (``00:01:23``, ``01:23``); service levels
are ``85%``, ``85,3 %``, ``0.85`` or ``85``. Other headers are mapped with the ``columns`` option.
A row that cannot be read (a count that is not a number, no interval start, more calls answered
than offered...) is quarantined with its file, line and reason; the other rows are stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime

from pydantic import Field, field_validator

from ecoute.collectors.base import CallInterval, CollectContext, Collector, Rejected
from ecoute.collectors.files.reading import (
    FileSourceOptions,
    Record,
    SourceFile,
    collect_files,
    known_columns,
    parse_datetime,
    read_rows,
)
from ecoute.errors import ParseError
from ecoute.domain import Channel

#: Header names recognised for each field (compared after :func:`header_key`).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "queue": ("file d'attente", "file", "nom de la file", "groupe", "groupe d'appels", "ligne",
              "queue", "queue name", "split/skill", "skill", "split", "hunt group", "workgroup"),
    "start": ("début intervalle", "début d'intervalle", "debut intervalle", "début", "debut",
              "intervalle", "heure", "tranche horaire", "date et heure", "date/heure",
              "horodatage", "interval start", "interval", "start", "start time", "time", "timestamp",
              "period start"),
    "date": ("date", "jour", "day"),
    "end": ("fin intervalle", "fin d'intervalle", "fin", "interval end", "end", "end time"),
    "offered": ("appels présentés", "appels presentes", "présentés", "presentes",
                "appels reçus", "appels recus", "appels entrants", "offered", "calls offered",
                "offered calls", "inbound calls", "calls presented", "presented"),
    "answered": ("appels traités", "appels traites", "appels répondus", "appels repondus",
                 "appels décrochés", "traités", "traites", "répondus", "repondus", "answered",
                 "calls answered", "answered calls", "handled", "calls handled", "acd calls"),
    "abandoned": ("appels abandonnés", "appels abandonnes", "abandonnés", "abandonnes",
                  "abandons", "abandoned", "calls abandoned", "abandoned calls", "aban calls"),
    "avg_wait": ("attente moyenne", "dma", "temps d'attente moyen", "durée moyenne d'attente",
                 "délai moyen de réponse", "average wait", "avg wait", "avg wait time",
                 "average wait time", "asa", "avg speed ans", "average speed of answer"),
    "max_wait": ("attente max", "attente maximale", "attente maxi", "temps d'attente max",
                 "max wait", "maximum wait", "max wait time", "max delay", "longest wait"),
    "service_level": ("niveau de service", "taux de service", "qualité de service", "ns",
                      "service level", "sl", "% within service level", "% ans"),
    "agents": ("agents connectés", "agents connectes", "agents", "agents logged in",
               "logged in agents", "staffed agents", "avg staffed", "positions ouvertes"),
    "waiting": ("appels en attente", "en attente", "appels en file", "appels en file d'attente",
                "nombre en attente", "calls waiting", "calls in queue", "waiting calls",
                "queued calls", "calls queued", "in queue", "waiting"),
    "site": ("site", "lieu", "location"),
    "department": ("direction", "département", "departement", "department"),
}
REQUIRED = ("queue", "start", "offered", "answered")
#: How far down a vendor report's title lines may push the header.
HEADER_SEARCH_ROWS = 20
TOTAL_ROWS = ("total", "totaux", "sous-total", "summary", "grand total", "moyenne", "average")
EMPTY = ("", "-", "—", "–", "n/a", "na")
_THRESHOLD = re.compile(r"(?:<=?|≤|within|in|en|sous|under|à|a)?\s*(\d{1,3})\s*"
                        r"(?:s|sec|secs|secondes?|seconds?)\b")
_RANGE = re.compile(r"(\d{1,2})[:hH](\d{2})(?::\d{2})?\s*(?:-|–|à|a|to)\s*"
                    r"(\d{1,2})[:hH](\d{2})(?::\d{2})?\s*$")
_CLOCK = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:[.,]\d+)?)")


def header_key(header: str) -> str:
    """A header reduced for matching: lower case, units in brackets and a service-level
    threshold (``20s``, ``< 20 sec``) removed, so ``Niveau de service 20s (%)`` matches."""
    text = re.sub(r"\(.*?\)|\[.*?\]", " ", header.lower().replace("\u2019", "'"))
    text = _THRESHOLD.sub(" ", text)
    return " ".join(text.split()).strip(" :-")


def threshold_seconds(header: str) -> int | None:
    match = _THRESHOLD.search(header.lower().replace("(%)", ""))
    return int(match.group(1)) if match else None


def parse_count(value: str) -> int | None:
    """A number of calls; empty cells and dashes are 0. None when not a whole number."""
    text = value.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if text.lower() in EMPTY:
        return 0
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return None
    return int(number) if number.is_integer() and number >= 0 else None


def parse_seconds(value: str) -> float | None:
    """A duration in seconds from ``42``, ``42,5``, ``01:23``, ``0:01:23`` or ``1 day, 0:00:00``.

    Raises ValueError when unreadable; None for an empty cell."""
    text = value.strip().lower()
    if text in EMPTY:
        return None
    days = 0
    if "day" in text:  # a spreadsheet duration past 24 h, as Python prints it
        count, _, text = text.partition("day")
        days, text = int(count), text.lstrip("s, ")
    clock = _CLOCK.fullmatch(text)
    if clock:
        hours, minutes, seconds = clock.groups()
        return (days * 86400 + int(hours or 0) * 3600 + int(minutes) * 60
                + float(seconds.replace(",", ".")))
    seconds = float(text.replace(",", ".").removesuffix("s").strip())
    if seconds < 0:
        raise ValueError("negative")
    return seconds


def parse_share(value: str) -> float | None:
    """A service level as a fraction 0..1 from ``85%``, ``85,3 %``, ``0.85`` or ``85``
    (a number without ``%`` above 1 is a percentage). Raises ValueError when unreadable."""
    text = value.strip().replace("\xa0", "").replace(" ", "")
    if text.lower() in EMPTY:
        return None
    percent = text.endswith("%")
    number = float(text.rstrip("%").replace(",", "."))
    share = number / 100 if percent or number > 1 else number
    if not 0 <= share <= 1:
        raise ValueError("outside 0-100 %")
    return share


class CallLogCollector(Collector):
    """Phone-system (ACD) interval exports, stored as queue figures per interval."""

    kind = "call_log"
    channel = Channel.PHONE
    default_schedule = "every 1 day"

    class Options(FileSourceOptions):
        columns: dict[str, str] = Field(
            default_factory=dict, description="Which column holds each field, when not its "
            "usual French/English name: keys among queue, start, date, end, offered, answered, "
            "abandoned, avg_wait, max_wait, service_level, agents, waiting, site, department; "
            "values "
            "are header names. `start` may be a date-time, or a time or range with `date`.")
        queue: str | None = Field(
            None, description="Queue name for exports of a single queue that have no queue "
            "column.")
        interval_minutes: int | None = Field(
            None, ge=1, le=1440, description="Length of an interval in minutes when the export "
            "gives no end time or range; empty: the step between a queue's consecutive "
            "intervals in the file.")
        service_level_seconds: int | None = Field(
            None, ge=1, le=3600, description="Answer-time threshold of the service level "
            "(e.g. 20 for '% answered within 20 s') when its header does not say.")
        site: str | None = Field(
            None, description="Site of every interval (a `site` column wins), e.g. the town "
            "hall switchboard.")
        department: str | None = Field(
            None, description="Department of every interval (a `department` column wins).")

        @field_validator("columns")
        @classmethod
        def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
            return known_columns(value, SYNONYMS)

    options: Options

    def collect(self, ctx: CollectContext) -> Iterator[CallInterval | Rejected]:
        return collect_files(ctx, self.options, self._read)

    def _read(self, source: SourceFile) -> Iterator[CallInterval | Rejected]:
        return _with_lengths(self._rows(source))

    def _rows(self, source: SourceFile) -> Iterator[CallInterval | Rejected]:
        rows = read_rows(source, self.options)
        mapping: dict[str, int] | None = None
        threshold = self.options.service_level_seconds
        preamble: list[Record] = []
        for row in rows:
            if isinstance(row, Rejected):
                yield row
                continue
            if mapping is None:
                mapping = self._mapping(row.cells)
                if mapping is None:
                    preamble.append(row)
                    if len(preamble) >= HEADER_SEARCH_ROWS:
                        break
                    continue
                if "service_level" in mapping:
                    threshold = threshold_seconds(row.cells[mapping["service_level"]]) or threshold
                continue
            cells = {f: row.cells[i].strip() for f, i in mapping.items() if i < len(row.cells)}
            labels = (row.cells[0], cells.get("queue", ""), cells.get("start", ""),
                      cells.get("date", ""))
            if any(label.strip().lower().startswith(TOTAL_ROWS) for label in labels):
                continue  # the report's own sums, not an interval
            yield self._interval(cells, mapping, source, row, threshold)
        if mapping is None:
            raise self._missing_columns(source, preamble)

    def _mapping(self, header: list[str]) -> dict[str, int] | None:
        """Field → column index when ``header`` is the header row, else None."""
        keys = [header_key(h) for h in header]
        found: dict[str, int] = {}
        for field, names in SYNONYMS.items():
            wanted = self.options.columns.get(field)
            candidates = (header_key(wanted),) if wanted else names
            index = next((keys.index(n) for n in candidates if n in keys), None)
            if index is not None and index not in found.values():
                found[field] = index
        if "start" not in found and "date" in found:  # one "Date" column holding date and time
            found["start"] = found.pop("date")
        required = [f for f in REQUIRED if not (f == "queue" and self.options.queue)]
        if any(f not in found for f in required) or any(f not in found
                                                       for f in self.options.columns):
            return None
        return found

    def _missing_columns(self, source: SourceFile, rows: list[Record]) -> ParseError:
        if not rows:
            return ParseError(f"{source.name} is empty: no header row")
        # The candidate header: the row naming the most known fields.
        best = max(rows, key=lambda r: sum(header_key(c) in n for c in r.cells
                                           for n in SYNONYMS.values()))
        keys = [header_key(c) for c in best.cells]
        missing = [
            f for f in (*REQUIRED, *self.options.columns)
            if not (f == "queue" and self.options.queue) and not any(
                n in keys for n in ((header_key(self.options.columns[f]),)
                                    if f in self.options.columns else SYNONYMS[f]))
        ]
        return ParseError(
            f"{source.name}: no header row with the {', '.join(dict.fromkeys(missing))} "
            f"column(s) in its first {len(rows)} lines",
            hint=f"line {best.line} has: {', '.join(c for c in best.cells[:20] if c)}; map the "
            "columns with `columns = {offered = \"...\", ...}` (or set `queue` for a "
            "single-queue export)")

    def _interval(self, cells: dict[str, str], mapping: dict[str, int], source: SourceFile,
                  row: Record, threshold: int | None) -> CallInterval | Rejected:
        def reject(reason: str) -> Rejected:
            return Rejected(json.dumps(row.cells, ensure_ascii=False)[:2000], source.at(row.line),
                            f"{source.name}, line {row.line}: {reason}", error_class="BadRow")

        queue = cells.get("queue") or self.options.queue
        if not queue:
            return reject("the queue name is empty")
        start, minutes = self._start(cells)
        if start is None:
            shown = " ".join(filter(None, (cells.get("date"), cells.get("start"))))
            return reject(f"the interval start {shown!r} is not a date and time (a time alone "
                          "needs a date column)" if shown else "the interval start is missing")
        counts: dict[str, int] = {}
        for field, label in (("offered", "calls offered"), ("answered", "calls answered"),
                             ("abandoned", "calls abandoned")):
            if field not in cells:
                if field in mapping:
                    return reject(f"the row has {len(row.cells)} cells and stops before the "
                                  f"{label} column")
                continue
            number = parse_count(cells[field])
            if number is None:
                return reject(f"{label} {cells[field]!r} is not a whole number of calls")
            counts[field] = number
        offered, answered = counts["offered"], counts["answered"]
        # Without an abandoned column, what was offered and not answered was abandoned.
        abandoned = counts.get("abandoned", offered - answered)
        if answered > offered:
            return reject(f"{answered} calls answered but only {offered} offered")
        if abandoned > offered or abandoned < 0:
            return reject(f"{abandoned} calls abandoned but only {offered} offered")
        waits: dict[str, float | None] = {}
        for field, label in (("avg_wait", "average wait"), ("max_wait", "maximum wait")):
            try:
                waits[field] = parse_seconds(cells.get(field, ""))
            except ValueError:
                return reject(f"{label} {cells[field]!r} is not a duration (seconds or "
                              "hh:mm:ss)")
        avg_wait, max_wait = waits["avg_wait"], waits["max_wait"]
        if avg_wait is not None and max_wait is not None and max_wait < avg_wait:
            return reject(f"maximum wait {max_wait:g} s is below the average wait "
                          f"{avg_wait:g} s (columns swapped?)")
        try:
            level = parse_share(cells.get("service_level", ""))
        except ValueError:
            return reject(f"service level {cells['service_level']!r} is not a percentage "
                          "between 0 and 100")
        agents: float | None = None
        if cells.get("agents", "").lower() not in EMPTY:
            try:
                agents = float(cells["agents"].replace(",", "."))
            except ValueError:
                return reject(f"agents logged in {cells['agents']!r} is not a number")
        waiting: int | None = None
        if cells.get("waiting", "").lower() not in EMPTY:
            waiting = parse_count(cells["waiting"])
            if waiting is None:
                return reject(f"calls waiting {cells['waiting']!r} is not a whole number of "
                              "calls")
        return CallInterval(
            waiting=waiting, queue=queue[:200], interval_start=start, offered=offered, answered=answered,
            abandoned=abandoned, interval_minutes=minutes or self.options.interval_minutes,
            avg_wait_seconds=avg_wait, max_wait_seconds=max_wait, service_level=level,
            service_level_seconds=threshold if level is not None else None, agents=agents,
            site=cells.get("site") or self.options.site,
            department=cells.get("department") or self.options.department,
            extra={"file": source.name, "line": row.line},
        )

    def _start(self, cells: dict[str, str]) -> tuple[datetime | None, int | None]:
        """The interval start (UTC) and, when the export says, its length in minutes."""
        tz = self.options.timezone
        text = cells.get("start", "")
        minutes: int | None = None
        span = _RANGE.search(text)
        if span:  # "08:30 - 09:00", possibly after a date
            h1, m1, h2, m2 = (int(g) for g in span.groups())
            minutes = ((h2 * 60 + m2) - (h1 * 60 + m1)) % 1440 or None
            text = f"{text[:span.start()]}{h1:02d}:{m1:02d}".strip()
        text = re.sub(r"\b(\d{1,2})[hH](\d{2})\b", r"\1:\2", text)
        if cells.get("date") and not re.search(r"\d[/.-]\d", text):
            # A date column and a time-only start; the date may carry an XLSX midnight.
            day = cells["date"].split()[0].split("T")[0]
            text = f"{day} {text}".strip()
        start = parse_datetime(text, tz) if text else None
        if start is not None and minutes is None and cells.get("end"):
            end_text = cells["end"]
            if not re.search(r"\d[/.-]\d", end_text):
                end_text = f"{re.split(r'[ T]', text)[0]} {end_text}"
            end = parse_datetime(end_text, tz)
            if end is not None and end > start:
                minutes = int((end - start).total_seconds() // 60) or None
        return start, minutes


def _with_lengths(
    entries: Iterator[CallInterval | Rejected],
) -> Iterator[CallInterval | Rejected]:
    """Intervals whose length neither the row nor the options give get the file's step: the
    first gap between two starts of one queue (exports list intervals back to back). Until it
    is known, the first intervals wait in a short buffer."""
    step: int | None = None
    held: list[CallInterval] = []
    previous: dict[str, datetime] = {}
    for entry in entries:
        if not isinstance(entry, CallInterval) or entry.interval_minutes is not None:
            yield entry
            continue
        if step is None:
            before = previous.get(entry.queue)
            previous[entry.queue] = entry.interval_start
            gap = (entry.interval_start - before).total_seconds() / 60 if before else 0.0
            if not (gap.is_integer() and 1 <= gap <= 120):
                held.append(entry)
                if len(held) < 1000:
                    continue
                yield from held  # no regular step in sight: lengths stay unknown
                held = []
                continue
            step = int(gap)
            for waiting in held:
                waiting.interval_minutes = step
            yield from held
            held = []
        entry.interval_minutes = step
        yield entry
    yield from held
