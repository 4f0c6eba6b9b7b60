"""Service requests from an Open311 GeoReport v2 server (or a saved answer, or a fixture file).

Requests are read window by window of ``start_date``/``end_date`` (GeoReport servers answer at
most 90 days, and at most a fixed number of requests: a full answer is split in two until it
fits). The cursor keeps the end of the last window read, stored with the items of that window;
each run also re-reads the last ``refresh_days`` so that a request whose status moved is seen
again. Its status, status notes, agency and expected date are part of what is hashed, so the
runner updates the stored item (keeping ``extra["versions"]``) when one of them changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode, urljoin, urlsplit

from pydantic import Field, SecretStr, field_validator

from ecoute.collectors.kinds import open311_georeport as georeport
from ecoute.collectors.base import CollectContext, Collector, CollectorOptions, RawItem, Rejected
from ecoute.collectors.limits import DEFAULT_LIMITS
from ecoute.collectors.files.local import allowed_roots, read_configured
from ecoute.collectors.secret_options import MASK
from ecoute.errors import ApiError, CollectError, FetchError, ParseError
from ecoute.domain import Channel

STAMP = "%Y-%m-%dT%H:%M:%SZ"
MIN_WINDOW = timedelta(hours=1)


class Open311Collector(Collector):
    """Service requests (reports of potholes, broken lights...) from an Open311 GeoReport v2
    server, with their status, for responsiveness and complaint-handling indicators."""

    kind = "open311"
    channel = Channel.SERVICE_REQUEST
    default_schedule = "every 1 hour"
    #: Two requests with the same description are two reports, not one.
    dedupe_by_content = False

    class Options(CollectorOptions):
        endpoint: str = Field(
            description="Base address of the GeoReport v2 server (e.g. "
            "https://city.example/open311/v2/), or a local requests.json/.xml file, a saved "
            "answer, or a Django fixture of an Open311 server.",
        )
        format: Literal["json", "xml"] = Field("json", description="Format asked of the server.")
        jurisdiction_id: str | None = Field(
            None, description="jurisdiction_id, for servers hosting several cities."
        )
        api_key: SecretStr | None = Field(
            None, description="API key, for servers that require one (secret: never shown)."
        )
        service_code: str | None = Field(
            None, description="Only these services (comma-separated service codes)."
        )
        since: date | None = Field(
            None, description="First day read on the first run (default: initial_days ago)."
        )
        initial_days: int = Field(90, ge=1, le=3650,
                                  description="Days read back on the first run.")
        refresh_days: int = Field(
            30, ge=0, le=365,
            description="Every run re-reads at least these last days, to see status changes.",
        )
        window_days: int = Field(90, ge=1, le=90,
                                 description="Days asked per request (90 at most).")
        requests_limit: int = Field(
            1000, ge=1, description="Most requests the server returns in one answer (its "
            "documentation says; often 50 or 1000): a window that full is split.",
        )
        services: bool = Field(
            True, description="Read services.json to name the services requests only code."
        )
        departments: dict[str, str] = Field(
            default_factory=dict,
            description="Department of each service, by service_name or service_code.",
        )
        agency_as_department: bool = Field(
            False, description="Use agency_responsible as the department when unmapped."
        )
        lang: str | None = Field(None, description="Language of the descriptions (e.g. fi).")

        @field_validator("endpoint")
        @classmethod
        def _endpoint(cls, value: str) -> str:
            value = value.strip()
            if not value:
                raise ValueError("the endpoint address is empty")
            if urlsplit(value).scheme in ("http", "https") and not value.endswith("/"):
                value += "/"  # "…/v2" and "…/v2/" are the same server
            return value

    options: Options

    #: Deepest JSON answer accepted; the run's limit, set when it starts.
    _max_depth: int = DEFAULT_LIMITS.json_max_depth

    def collect(self, ctx: CollectContext) -> Iterator[RawItem | Rejected]:
        self._max_depth = ctx.limits.json_max_depth
        endpoint = self.options.endpoint
        local = read_configured(endpoint, allowed_roots(ctx.settings))
        if local is not None:
            yield from self._document_items(local, endpoint, {})
            return
        services = self._services(ctx) if self.options.services else {}
        now = datetime.now(UTC)
        start = self._first_start(ctx, now)
        while start < now:
            end = min(start + timedelta(days=self.options.window_days), now)
            for body, url, window_end in self._window(ctx, start, end):
                yield from self._document_items(body, url, services)
                ctx.cursor["next_start"] = window_end.strftime(STAMP)
            start = end

    def _first_start(self, ctx: CollectContext, now: datetime) -> datetime:
        refresh = now - timedelta(days=self.options.refresh_days)
        stored = ctx.cursor.get("next_start")
        if stored:
            return min(datetime.strptime(stored, STAMP).replace(tzinfo=UTC), refresh)
        if self.options.since:
            return datetime(self.options.since.year, self.options.since.month,
                            self.options.since.day, tzinfo=UTC)
        return now - timedelta(days=self.options.initial_days)

    def _url(self, resource: str, *, shown: bool = False, **params: str) -> str:
        """The address to fetch, or with ``shown`` the one messages name (key masked)."""
        opts = self.options
        key = (MASK if shown else opts.api_key.get_secret_value()) if opts.api_key else None
        query = {k: v for k, v in {
            "jurisdiction_id": opts.jurisdiction_id, "api_key": key,
            "service_code": opts.service_code, **params}.items() if v}
        return urljoin(opts.endpoint, f"{resource}.{opts.format}") + (
            f"?{urlencode(query, safe='*' if shown else '')}" if query else "")

    def _get(self, ctx: CollectContext, url: str, shown: str) -> bytes:
        try:
            return ctx.http.get(url).content
        except ApiError:
            raise
        except FetchError as exc:
            if exc.body:
                # The server's own <errors> document says more than the status does.
                try:
                    georeport.parse_document(exc.body, where=shown)
                except ApiError as api_error:
                    raise api_error from exc
                except (ValueError, georeport.NotRequests, CollectError):
                    pass
            hint = ("GeoReport servers answer 403 to a wrong api_key or jurisdiction_id and 404 "
                    "to a wrong endpoint; check them in the source options")
            # The message names the address, and the address holds the API key.
            raise type(exc)(exc.message.replace(url, shown), hint=exc.hint or hint) from None
        except CollectError as exc:
            raise type(exc)(exc.message.replace(url, shown), hint=exc.hint) from None

    def _window(
        self, ctx: CollectContext, start: datetime, end: datetime
    ) -> Iterator[tuple[bytes, str, datetime]]:
        """The answers covering [start, end), splitting windows the server answered in full."""
        first, last = start.strftime(STAMP), end.strftime(STAMP)
        url = self._url("requests", shown=True, start_date=first, end_date=last)
        body = self._get(ctx, self._url("requests", start_date=first, end_date=last), url)
        if end - start > MIN_WINDOW and self._count(body) >= self.options.requests_limit:
            middle = start + (end - start) / 2
            yield from self._window(ctx, start, middle)
            yield from self._window(ctx, middle, end)
            return
        if end - start <= MIN_WINDOW and self._count(body) >= self.options.requests_limit:
            ctx.logger.warning("%s: %d requests in one hour, the server's limit; some may be "
                               "missing", url, self.options.requests_limit)
        yield body, url, end

    def _count(self, body: bytes) -> int:
        try:
            return len(georeport.parse_document(body, where="").records)
        except (ValueError, georeport.NotRequests, CollectError):
            return 0  # reported when the answer is read for its items

    def _services(self, ctx: CollectContext) -> dict[str, dict[str, Any]]:
        url = self._url("services", shown=True)
        try:
            return georeport.parse_services(self._get(ctx, self._url("services"), url),
                                            where=url)
        except (CollectError, ValueError) as exc:
            # Requests carry their service_name anyway; the list only fills gaps.
            ctx.logger.warning("%s: service list unavailable (%s)", url, exc)
            return {}

    def _document_items(
        self, body: bytes, where: str, services: dict[str, dict[str, Any]]
    ) -> Iterator[RawItem | Rejected]:
        status, body = georeport.split_http_status(body)
        try:
            document = georeport.parse_document(body, where=where,
                                                max_depth=self._max_depth)
        except ApiError:
            raise
        except ParseError as exc:  # nested too deep
            yield Rejected(payload=body[:20_000], position="document", reason=f"{where}: {exc}",
                           error_class=exc.name)
            return
        except georeport.NotRequests as exc:
            if status is not None and status >= 400:
                raise FetchError(f"{where}: the server answered HTTP {status}") from exc
            yield Rejected(payload=body, position="document",
                           reason=f"{where}: not a GeoReport service request list: {exc}")
            return
        except ValueError as exc:  # JSON, Unicode and XML syntax errors alike
            yield Rejected(payload=body, position=_position(exc),
                           reason=f"{where}: neither GeoReport JSON nor XML ({exc})")
            return
        for index, raw in enumerate(document.records, 1):
            yield self._item(georeport.normalise(raw), raw, index, where, services)

    def _item(
        self, record: dict[str, Any], raw: dict[str, Any], index: int, where: str,
        services: dict[str, dict[str, Any]],
    ) -> RawItem | Rejected:
        request_id = record["service_request_id"]
        if not request_id or not (record["status"] or record["requested_datetime"]):
            what = "no service_request_id" if not request_id else "no status nor requested date"
            return Rejected(payload=repr(raw)[:10_000], position=f"request {index}",
                            reason=f"{where}: request {index} is not a service request "
                            f"({what}; a token or POST answer?)", error_class="ParseError")
        service = services.get(record["service_code"] or "", {})
        record["service_name"] = record["service_name"] or service.get("service_name")
        if service.get("group"):
            record["service_group"] = service["group"]
        text = record["description"] or record["title"] or record["service_name"] or ""
        if not text:
            return Rejected(payload=repr(raw)[:10_000], position=f"request {request_id}",
                            reason=f"{where}: request {request_id} has no description, title "
                            "or service name", error_class="EmptyEntry")
        opts = self.options
        department = (opts.departments.get(record["service_name"] or "")
                      or opts.departments.get(record["service_code"] or ""))
        if not department and opts.agency_as_department:
            department = record["agency_responsible"]
        received, answered, closed = _handling(record)
        return RawItem(
            external_id=request_id, text=text,
            title=record["title"] or record["service_name"], published_at=_time(
                record["requested_datetime"]),
            lang=opts.lang, channel=Channel.SERVICE_REQUEST, department=department,
            extra={**record, **_timings(record)}, version_key=_version(record),
            received_at=received, answered_at=answered, closed_at=closed,
        )


def _version(record: dict[str, Any]) -> str:
    """What makes a new version of a request: the runner hashes it with the text."""
    basis = "\x1f".join(str(record.get(k) or "") for k in (
        "status", "status_notes", "agency_responsible", "expected_datetime", "detailed_status"))
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _timings(record: dict[str, Any]) -> dict[str, Any]:
    """Hours to close and lateness against the expected date, for responsiveness KPIs."""
    requested = _time(record["requested_datetime"])
    updated = _time(record["updated_datetime"])
    expected = _time(record["expected_datetime"])
    closed = (record["status"] or "").lower() == "closed"
    out: dict[str, Any] = {"hours_to_close": None, "closed_late": None}
    if closed and requested and updated:
        out["hours_to_close"] = round((updated - requested).total_seconds() / 3600, 2)
        if expected:
            out["closed_late"] = updated > expected
    return out


def _handling(record: dict[str, Any]
              ) -> tuple[datetime | None, datetime | None, datetime | None]:
    """When the request was received, answered and closed. GeoReport gives only the last
    update: a closed request was closed (and answered) then; an open one with status notes
    was answered by then (the runner keeps the earliest answer seen over the runs)."""
    updated = _time(record["updated_datetime"])
    closed = updated if (record["status"] or "").lower() == "closed" else None
    answered = closed or (updated if record["status_notes"] else None)
    return _time(record["requested_datetime"]), answered, closed


def _position(exc: ValueError) -> str:
    line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    return f"line {line}, column {column}" if line is not None else "document"
