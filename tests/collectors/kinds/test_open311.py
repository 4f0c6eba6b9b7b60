"""The open311 collector on every recorded GeoReport answer, and against a local GeoReport
server that filters by start_date/end_date and caps its answers like real ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.kinds import open311_georeport as georeport
from ecoute.collectors.kinds.open311 import Open311Collector
from ecoute.collectors.registry import validate_options
from ecoute.collectors.entries import content_hash
from ecoute.collectors.service import add_source, run_source
from ecoute.privacy import placeholder
from ecoute.config.settings import Settings
from ecoute.errors import ApiError, EcouteError, FetchError, InvalidOptions
from ecoute.store.db import session_scope
from ecoute.store.models import Department, Item, Source
from tests.conftest import TEST_DATA, needs_test_data
from tests.helpers.collect import collect_all
from tests.helpers.local_http import serving

OPEN311 = TEST_DATA / "open311"
SPEC = OPEN311 / "spec_examples_v2"
HELSINKI = TEST_DATA / "citizen/helsinki_issue_reporting"
ALL_FILES = sorted(p for p in OPEN311.rglob("*") if p.is_file())


def collector(**options: Any) -> Open311Collector:
    return Open311Collector(Open311Collector.Options(**options))


@needs_test_data
def test_every_recorded_file_is_read_or_clearly_refused(tmp_path: Path) -> None:
    outcomes: dict[str, str] = {}
    for path in ALL_FILES:
        try:
            items, rejected, _ = collect_all(collector(endpoint=str(path)), tmp=tmp_path)
        except EcouteError as exc:  # anything else is a crash and fails the test
            assert path.name in str(exc)
            outcomes[path.name] = type(exc).__name__
            continue
        for rej in rejected:
            assert path.name in rej.reason and rej.position
        outcomes[path.name] = f"{len(items)} items, {len(rejected)} rejected"
    assert outcomes["xml-service-requests.xml"] == "2 items, 0 rejected"
    assert outcomes["json-service-requests.json"] == "2 items, 0 rejected"  # leading zeros
    assert outcomes["requests_many.xml"] == "2 items, 0 rejected"
    assert outcomes["service_requests.json"] == "2 items, 0 rejected"
    assert outcomes["service_requests_empty.xml"] == "0 items, 0 rejected"
    for error in ("403.xml", "xml-errors.http", "json-errors.http",
                  "get_service_request_not_found.xml"):
        assert outcomes[error] == "ApiError"
    for refused in ("services.xml", "json-service-list.json", "xml-service-definition.xml",
                    "json-request-from-token.json", "post_service_request.http", "servers.yml"):
        assert outcomes[refused].startswith("0 items, ") and not outcomes[refused].endswith(
            " 0 rejected")
    assert len(outcomes) == len(ALL_FILES)


@needs_test_data
@pytest.mark.parametrize("stem", ["service-requests", "service-request"])
def test_xml_and_json_twins_give_the_same_records(stem: str, tmp_path: Path) -> None:
    from_xml, _, _ = collect_all(collector(endpoint=str(SPEC / f"xml-{stem}.xml")), tmp=tmp_path)
    from_json, _, _ = collect_all(collector(endpoint=str(SPEC / f"json-{stem}.json")),
                                  tmp=tmp_path)
    assert [i.extra for i in from_xml] == [i.extra for i in from_json]
    assert from_xml[0].extra["service_code"] == "006"  # the leading zeros are kept
    assert [(i.external_id, i.text, i.published_at) for i in from_xml] == [
        (i.external_id, i.text, i.published_at) for i in from_json]


@needs_test_data
def test_record_fields_and_timings(tmp_path: Path) -> None:
    items, _, _ = collect_all(collector(endpoint=str(SPEC / "json-service-requests.json"),
                                        departments={"Sidewalk and Curb Issues": "Voirie"}),
                              tmp=tmp_path)
    closed, still_open = items
    assert closed.external_id == "638344" and closed.department == "Voirie"
    assert closed.text == "Sidewalk and Curb Issues"  # no description: the service names it
    assert closed.extra["status_notes"] == "Duplicate request."
    assert closed.extra["lat"] == 37.762221815
    assert closed.extra["hours_to_close"] == 0.0 and closed.extra["closed_late"] is False
    assert still_open.extra["status_notes"] is None and still_open.extra["hours_to_close"] is None
    assert closed.published_at == datetime(2010, 4, 14, 14, 37, 38, tzinfo=UTC)


@needs_test_data
def test_error_answers_carry_the_servers_message(tmp_path: Path) -> None:
    with pytest.raises(ApiError, match="Invalid api_key received") as caught:
        collect_all(collector(endpoint=str(SPEC / "xml-errors.http")), tmp=tmp_path)
    assert "api_key" in (caught.value.hint or "")
    with pytest.raises(ApiError, match="not found with id or token not-an-id"):
        collect_all(collector(endpoint=str(
            OPEN311 / "codeforamerica_open311_fixtures/get_service_request_not_found.xml")),
            tmp=tmp_path)


@pytest.mark.parametrize("payload", [
    ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
     "<service_requests><request><description>&b;</description></request></service_requests>"),
    ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     "<service_requests><request><description>&x;</description></request></service_requests>"),
])
def test_hostile_xml_is_quarantined(payload: str, tmp_path: Path) -> None:
    path = tmp_path / "requests.xml"
    path.write_text(payload)
    items, rejected, _ = collect_all(collector(endpoint=str(path)), tmp=tmp_path)
    assert items == [] and len(rejected) == 1
    assert "hostile XML refused" in rejected[0].reason


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "requests.json"
    path.write_text('[\n  {"service_request_id": 1,\n   "status": open}\n]')
    _, [rejected], _ = collect_all(collector(endpoint=str(path)), tmp=tmp_path)
    assert rejected.position == "line 3, column 14"


@needs_test_data
def test_service_lists_in_both_formats() -> None:
    xml = georeport.parse_services((SPEC / "xml-service-list.xml").read_bytes(), where="x")
    js = georeport.parse_services((SPEC / "json-service-list.json").read_bytes(), where="j")
    assert sorted(xml) == sorted(js) == ["001", "002", "003"]
    assert xml["001"]["service_name"] == js["001"]["service_name"] == "Cans left out 24x7"
    giessen = georeport.parse_services(
        (OPEN311 / "open311status_fixtures/services_giessen.xml").read_bytes(), where="g")
    assert giessen["011"]["service_name"] == "Straßen- und Gehwegschäden"


@needs_test_data
def test_every_real_directory_entry_is_a_valid_endpoint() -> None:
    servers = yaml.safe_load((OPEN311 / "open311_org_directory/servers.yml").read_text())
    for server in servers:
        if server.get("base_url"):
            options = validate_options("open311", {
                "endpoint": server["base_url"], "jurisdiction_id": server["jurisdiction_id"]})
            assert options.endpoint.endswith("/")  # type: ignore[attr-defined]


# --- a local GeoReport server ------------------------------------------------------------


class GeoReportServer:
    """Answers requests.{json,xml} like a real server: filtered by start/end date, capped."""

    def __init__(self, records: list[dict[str, Any]], limit: int = 1000) -> None:
        self.records, self.limit = records, limit
        self.queries: list[dict[str, str]] = []
        self.services: list[dict[str, Any]] = []
        self.base_url = ""

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        self.queries.append({"path": path, **query})
        if path.endswith("/services.json"):
            return 200, "application/json", json.dumps(self.services).encode()
        if not path.endswith(("/requests.json", "/requests.xml")):
            return 404, "text/plain", b"not found"
        if query.get("api_key") == "wrong":
            return 403, "application/json", b'[{"code":403,"description":"Invalid api_key"}]'
        start = datetime.fromisoformat(query["start_date"])
        end = datetime.fromisoformat(query["end_date"])
        chosen = [r for r in self.records
                  if start <= datetime.fromisoformat(r["requested_datetime"]) < end]
        chosen = sorted(chosen, key=lambda r: r["requested_datetime"], reverse=True)[:self.limit]
        if path.endswith(".json"):
            return 200, "application/json", json.dumps(chosen, ensure_ascii=False).encode()
        rows = "".join("<request>" + "".join(
            f"<{k}>{escape(str(v))}</{k}>" if v is not None else f"<{k}/>" for k, v in r.items())
            + "</request>" for r in chosen)
        return 200, "text/xml", f"<service_requests>{rows}</service_requests>".encode()


@pytest.fixture
def georeport_server() -> Iterator[GeoReportServer]:
    state = GeoReportServer([])

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            status, kind, body = state.answer(parts.path, query)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as base_url:
        state.base_url = f"{base_url}/open311/v2"
        yield state


def helsinki_records(count: int) -> list[dict[str, Any]]:
    """The first ``count`` real Helsinki feedbacks as GeoReport v2 records."""
    fixture = json.loads((HELSINKI / "real_feedbacks_half.json").read_text())
    document = georeport.parse_document(json.dumps(fixture[:count]).encode(), where="h")
    keep = georeport.FIELDS + ("title",)
    return [{k: r.get(k) for k in keep if k in r} for r in document.records]


@needs_test_data
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_windows_split_and_cursor(fmt: str, georeport_server: GeoReportServer,
                                  tmp_path: Path) -> None:
    georeport_server.records = helsinki_records(300)
    georeport_server.limit = 100
    items, rejected, ctx = collect_all(collector(
        endpoint=georeport_server.base_url, format=fmt, since="2014-12-01",
        requests_limit=100, jurisdiction_id="hel.fi", lang="fi"), tmp=tmp_path)
    assert not rejected
    assert len({i.external_id for i in items}) == 300
    asked = [q for q in georeport_server.queries if "start_date" in q]
    assert all(q["jurisdiction_id"] == "hel.fi" for q in asked)
    for q in asked:
        days = (datetime.fromisoformat(q["end_date"]) - datetime.fromisoformat(q["start_date"]))
        assert days.days <= 90
    assert any(days_between(q) < 90 for q in asked[:5])  # a full window was split
    assert ctx.cursor["next_start"][:10] == datetime.now(UTC).date().isoformat()
    finnish = [i for i in items if "ä" in i.text]
    assert finnish and all("Ã" not in i.text for i in items)


def days_between(query: dict[str, str]) -> float:
    span = datetime.fromisoformat(query["end_date"]) - datetime.fromisoformat(query["start_date"])
    return span.total_seconds() / 86400


@needs_test_data
def test_status_change_updates_the_item_and_dedupes_on_request_id(
    factory: sessionmaker[Session], settings: Settings, georeport_server: GeoReportServer
) -> None:
    records = helsinki_records(200)
    georeport_server.records = records + records[:20]  # a server repeating some requests
    georeport_server.services = [{"service_code": "171", "service_name": "Katujen kunto"}]
    with session_scope(factory) as session:
        source_id = add_source(session, authority="helsinki", name="palaute", kind="open311",
                               options={"endpoint": georeport_server.base_url,
                                        "since": "2014-12-01", "agency_as_department": True,
                                        "departments": {"Katujen kunto": "Katuosasto"}}).id
    first = run_source(factory, settings, source_id)
    assert (first.new, first.quarantined, first.error) == (200, 0, None)
    reopened = dict(records[0], status="open", status_notes="Käsittelyssä uudelleen.")
    georeport_server.records = [reopened] + records[1:]
    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None and source.cursor["next_start"]
        source.cursor = {"next_start": "2014-12-01T00:00:00Z"}  # re-read everything
    second = run_source(factory, settings, source_id)
    assert (second.new, second.updated, second.duplicate) == (0, 1, 199)
    with session_scope(factory) as session:
        item = session.scalar(select(Item).where(
            Item.external_id == records[0]["service_request_id"]))
        assert item is not None and item.extra["status"] == "open"
        assert item.extra["status_notes"] == "Käsittelyssä uudelleen."
        assert len(item.extra["versions"]) == 1 and item.channel == "service_request"
        names = set(session.scalars(select(Department.name)))
        assert "Rakennusvirasto" in names
        assert any(
            "ä" in i.text or "ö" in i.text for i in session.scalars(select(Item)).all())


def test_wrong_key_is_a_typed_error(georeport_server: GeoReportServer, tmp_path: Path) -> None:
    # The 403 answer's own <errors> document is what the user reads.
    with pytest.raises(ApiError, match="403 Invalid api_key") as caught:
        collect_all(collector(endpoint=georeport_server.base_url, api_key="wrong",
                              services=False), tmp=tmp_path)
    assert isinstance(caught.value, FetchError) and "api_key" in str(caught.value)


@needs_test_data
def test_helsinki_fixture_file_through_the_adapter(tmp_path: Path) -> None:
    items, rejected, _ = collect_all(collector(
        endpoint=str(HELSINKI / "real_feedbacks_half.json"), lang="fi"), tmp=tmp_path)
    assert len(items) == 690 and not rejected
    first = items[0]
    assert first.title == "Töhryset nimikkolinnut"
    assert first.text.startswith("Niin Marjaniemen kuin Tuorinniemen")
    assert first.extra["lat"] == pytest.approx(60.1859152)
    assert first.extra["address"].startswith("Kaivolahdenpolku 1")


@needs_test_data
def test_status_is_part_of_the_hash(tmp_path: Path) -> None:
    items, _, _ = collect_all(collector(endpoint=str(SPEC / "json-service-requests.json")),
                              tmp=tmp_path)
    before = content_hash(items[0])
    items[0].version_key = "another"
    assert content_hash(items[0]) != before


@pytest.mark.parametrize("options", [
    {"endpoint": ""}, {"endpoint": "x", "window_days": 91}, {"endpoint": "x", "format": "csv"},
    {"endpoint": "x", "departments": ["a"]},
])
def test_invalid_options(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidOptions):
        validate_options("open311", options)


def test_raw_fields_kept_in_extra_are_redacted_like_the_text(
    factory: sessionmaker[Session], settings: Settings, georeport_server: GeoReportServer
) -> None:
    """The description is kept whole in extra for reference: it must be masked there too,
    on the first run and when the request is updated."""
    record = {"service_request_id": "r-1", "status": "open", "service_name": "Voirie",
              "description": "Trou devant chez moi, rappelez-moi au 06 12 34 56 78 "
                             "ou jean.dupont@example.org",
              "requested_datetime": "2026-11-01T10:00:00Z"}
    georeport_server.records = [record]
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="voirie", kind="open311",
                               options={"endpoint": georeport_server.base_url,
                                        "since": "2026-10-01"}).id
    assert run_source(factory, settings, source_id).new == 1
    georeport_server.records = [dict(record, status="closed")]
    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None
        source.cursor = {"next_start": "2026-10-01T00:00:00Z"}
    assert run_source(factory, settings, source_id).updated == 1
    with session_scope(factory) as session:
        item = session.scalars(select(Item)).one()
        stored = json.dumps(item.extra, ensure_ascii=False)
    phone, email = placeholder("PHONE"), placeholder("EMAIL")
    assert phone in item.text and phone in stored and email in stored
    assert "56 78" not in stored and "dupont" not in stored and item.extra["status"] == "closed"


def _request(number: int, status: str, notes: str | None, requested: str, updated: str
             ) -> dict[str, Any]:
    return {"service_request_id": f"r{number}", "status": status, "status_notes": notes,
            "service_name": "Streetlight", "description": f"Streetlight {number} is out",
            "requested_datetime": requested, "updated_datetime": updated}


def test_received_answered_and_closed_dates_are_stored_typed(
    factory: sessionmaker[Session], settings: Settings, georeport_server: GeoReportServer
) -> None:
    """A closed request was answered and closed at its last update; an open one with status
    notes was answered then; a later update of the notes keeps the first answer."""
    georeport_server.records = [
        _request(1, "open", "A crew is on its way.", "2026-03-02T08:00:00+00:00",
                 "2026-03-03T09:00:00+00:00"),
        _request(2, "closed", "Lamp replaced.", "2026-03-02T10:00:00+00:00",
                 "2026-03-06T16:00:00+00:00"),
        _request(3, "open", None, "2026-03-04T10:00:00+00:00", "2026-03-04T10:00:00+00:00"),
    ]
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="lights", kind="open311",
                               options={"endpoint": georeport_server.base_url,
                                        "since": "2026-03-01", "services": False}).id

    def dates() -> dict[str, tuple[datetime | None, ...]]:
        with session_scope(factory) as session:
            return {i.external_id: (i.received_at, i.answered_at, i.closed_at)
                    for i in session.scalars(select(Item))}

    assert run_source(factory, settings, source_id).new == 3
    assert dates() == {
        "r1": (datetime(2026, 3, 2, 8, tzinfo=UTC), datetime(2026, 3, 3, 9, tzinfo=UTC), None),
        "r2": (datetime(2026, 3, 2, 10, tzinfo=UTC), datetime(2026, 3, 6, 16, tzinfo=UTC),
               datetime(2026, 3, 6, 16, tzinfo=UTC)),
        "r3": (datetime(2026, 3, 4, 10, tzinfo=UTC), None, None)}
    georeport_server.records[0] = _request(1, "closed", "Fixed.", "2026-03-02T08:00:00+00:00",
                                           "2026-03-09T12:00:00+00:00")
    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None
        source.cursor = {"next_start": "2026-03-01T00:00:00Z"}  # re-read everything
    assert run_source(factory, settings, source_id).updated == 1
    assert dates()["r1"] == (datetime(2026, 3, 2, 8, tzinfo=UTC),
                             datetime(2026, 3, 3, 9, tzinfo=UTC),
                             datetime(2026, 3, 9, 12, tzinfo=UTC))
