"""Reading Open311 GeoReport v2 documents: service requests, service lists and error answers,
in XML or JSON, into one normalised record shape whatever the format.

Real servers are loose: the spec's own JSON examples carry numbers with leading zeros
(``"service_code":001``, not JSON), empty elements come as ``<description/>``, ids as numbers
or strings. Records are normalised so that an XML answer and its JSON twin compare equal: ids
and codes are strings (leading zeros kept), coordinates floats, empty values None.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XmlSyntaxError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from ecoute.collectors.limits import DEFAULT_LIMITS, loads_bounded
from ecoute.errors import ApiError

#: The fields a GeoReport v2 service request may carry (spec order).
FIELDS = (
    "service_request_id", "token", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
    "media_url",
)
FLOATS = frozenset({"lat", "long"})
# Helsinki's "palaute" Open311 server adds these; they are kept when present.
EXTRA_FIELDS = ("title", "detailed_status")
STRING_OR_NUMBER = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![\w.])(-?0\d+(?:\.\d+)?)(?![\w.])')
HTTP_STATUS_LINE = re.compile(rb"^\s*HTTP/\d(?:\.\d)?\s+(\d{3})[^\r\n]*\r?\n")
POINT = re.compile(r"POINT\s*\(\s*(-?[\d.]+)\s+(-?[\d.]+)\s*\)")


class MalformedDocument(ValueError):
    """Unreadable XML, with where the parser stopped."""

    def __init__(self, message: str, lineno: int | None, colno: int | None) -> None:
        super().__init__(message)
        self.lineno, self.colno = lineno, colno


class NotRequests(ValueError):
    """The document is readable but is not a list of service requests (the reason says what)."""


@dataclass
class Document:
    """A parsed answer: its records (raw dicts) and how it was read."""

    records: list[dict[str, Any]]
    fmt: str  # "xml" | "json" | "django-fixture"
    lenient: bool = False  # leading-zero numbers had to be repaired


def split_http_status(body: bytes) -> tuple[int | None, bytes]:
    """A captured answer may start with ``HTTP/1.1 403 Forbidden`` and headers: (status, body)."""
    match = HTTP_STATUS_LINE.match(body)
    if not match:
        return None, body
    lines = body[match.end():].splitlines(keepends=True)
    skipped = 0
    for line in lines:  # headers ("Name: value") up to the blank line that ends them
        skipped += 1
        if not line.strip():
            break
        if b":" not in line:
            skipped -= 1
            break
    return int(match.group(1)), b"".join(lines[skipped:])


def loads_lenient(text: str, max_depth: int = DEFAULT_LIMITS.json_max_depth) -> tuple[Any, bool]:
    """JSON, or JSON whose bare numbers have leading zeros (read as strings, zeros kept);
    ParseError when it nests deeper than ``max_depth``."""
    try:
        return loads_bounded(text, max_depth, what="the answer"), False
    except json.JSONDecodeError as first:
        repaired = STRING_OR_NUMBER.sub(
            lambda m: f'"{m.group(1)}"' if m.group(1) else m.group(0), text)
        if repaired == text:
            raise
        try:
            return loads_bounded(repaired, max_depth, what="the answer"), True
        except json.JSONDecodeError:
            raise first from None


def parse_document(
    body: bytes, *, where: str, max_depth: int = DEFAULT_LIMITS.json_max_depth
) -> Document:
    """Parse a GeoReport answer; ApiError for an error document, NotRequests for a readable
    document of another kind, ValueError (with line/column) for unreadable input."""
    if body.decode("utf-8-sig", errors="replace").lstrip().startswith("<"):
        return _parse_xml(body, where)  # XML declares its own encoding
    text = body.decode("utf-8-sig").strip()  # JSON is UTF-8; UnicodeDecodeError otherwise
    if not text:
        raise NotRequests("the answer is empty")
    data, lenient = loads_lenient(text, max_depth)
    if isinstance(data, dict) and isinstance(data.get("service_requests"), list):
        data = data["service_requests"]  # some servers wrap the list
    if isinstance(data, dict):
        _raise_if_error([data], where)
        raise NotRequests(_kind_of(data) or "a JSON object, not a list of service requests")
    if not isinstance(data, list):
        raise NotRequests(f"a JSON {type(data).__name__}, not a list of service requests")
    if data and all(isinstance(r, dict) and "model" in r and "fields" in r for r in data):
        return Document([_from_fixture(r) for r in data if r["model"] == "api.feedback"],
                        "django-fixture", lenient)
    _raise_if_error(data, where)
    records = [r for r in data if isinstance(r, dict)]
    if records and not any("service_request_id" in r for r in records):
        raise NotRequests(_kind_of(records[0]) or "a JSON list whose entries have no "
                          "service_request_id")
    return Document(records, "json", lenient)


def _parse_xml(body: bytes, where: str) -> Document:
    try:
        root = SafeET.fromstring(body, forbid_dtd=False, forbid_entities=True,
                                 forbid_external=True)
    except DefusedXmlException as exc:
        raise NotRequests(f"hostile XML refused ({type(exc).__name__}: entity declarations "
                          "and external references are not accepted)") from exc
    except XmlSyntaxError as exc:
        line, column = exc.position
        raise MalformedDocument(f"XML syntax error: {exc}", line, column) from exc
    if root.tag in ("errors", "error"):
        errors = root.findall("error") if root.tag == "errors" else [root]
        _raise_if_error([_xml_error(e) for e in errors], where)
    if root.tag != "service_requests":
        raise NotRequests(_kind_of({"xml_root": root.tag}))
    return Document([_xml_record(r) for r in root if r.tag == "request"], "xml")


def _xml_record(element: Element) -> dict[str, Any]:
    return {child.tag: (child.text or "").strip() or None for child in element}


def _xml_error(element: Element) -> dict[str, Any]:
    if len(element):
        return {c.tag: (c.text or "").strip() for c in element}
    return {"description": (element.text or "").strip()}


def _raise_if_error(records: list[Any], where: str) -> None:
    errors = [r for r in records if isinstance(r, dict) and "description" in r
              and set(r) <= {"code", "description"}]
    if errors and len(errors) == len(records):
        detail = "; ".join(
            f"{e.get('code') or ''} {e.get('description') or 'no description'}".strip()
            for e in errors)
        code = str(errors[0].get("code", ""))
        hint = {"403": "check api_key and jurisdiction_id in the source options",
                "404": "check the endpoint address and jurisdiction_id"}.get(code)
        raise ApiError(f"{where}: the Open311 server answered with an error: {detail}",
                       hint=hint)


def _kind_of(data: dict[str, Any]) -> str:
    root = data.get("xml_root")
    if root == "services" or ("service_name" in data and "service_request_id" not in data):
        return "a service list, not service requests (read it with the services option)"
    if root == "service_definition" or "attributes" in data:
        return "a service definition, not service requests"
    if root == "service_request":
        return "a POST answer, not a list of service requests"
    return f"a document with root element <{root}>, not <service_requests>" if root else ""


def _from_fixture(record: dict[str, Any]) -> dict[str, Any]:
    """A Django fixture row of an Open311 server (``api.feedback``) as a GeoReport record."""
    fields = dict(record["fields"])
    if not fields.get("address") and fields.get("address_string"):
        fields["address"] = fields["address_string"]
    point = POINT.search(str(fields.get("location") or ""))
    if point and fields.get("lat") is None:
        fields["long"], fields["lat"] = point.group(1), point.group(2)
    return fields


def normalise(record: dict[str, Any]) -> dict[str, Any]:
    """The GeoReport fields of a record, typed the same way whatever format it came in."""
    out: dict[str, Any] = {}
    for key in FIELDS + EXTRA_FIELDS:
        value = record.get(key)
        if isinstance(value, str):
            value = value.strip() or None
        if value is None or isinstance(value, (dict, list)):
            out[key] = None
        elif key in FLOATS:
            try:
                out[key] = float(value)
            except (TypeError, ValueError):
                out[key] = None
        elif isinstance(value, bool):
            out[key] = str(value).lower()
        else:
            out[key] = str(value)
    return out


def parse_services(body: bytes, *, where: str) -> dict[str, dict[str, Any]]:
    """A service list (``services.xml``/``.json``) by service_code."""
    _status, body = split_http_status(body)
    text = body.decode("utf-8-sig").strip()
    if text.startswith("<"):
        try:
            root = SafeET.fromstring(body, forbid_dtd=False, forbid_entities=True,
                                     forbid_external=True)
        except (DefusedXmlException, XmlSyntaxError) as exc:
            raise ValueError(f"unreadable or hostile XML ({type(exc).__name__}: {exc})") from exc
        if root.tag in ("errors", "error"):
            _raise_if_error([_xml_error(e) for e in root.iter("error")], where)
        entries = [_xml_record(s) for s in root if s.tag == "service"]
    else:
        data, _lenient = loads_lenient(text)
        if data and isinstance(data, list) and "fields" in data[0]:
            data = [r["fields"] for r in data if isinstance(r, dict) and "fields" in r]
        if not isinstance(data, list):
            raise ValueError("a service list is a JSON list")
        _raise_if_error(data, where)
        entries = [e for e in data if isinstance(e, dict)]
    return {str(e["service_code"]): {k: _plain(v) for k, v in e.items()}
            for e in entries if e.get("service_code") is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value
