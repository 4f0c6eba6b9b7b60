"""JSON and NDJSON files of records, streamed, with their nesting bounded.

:func:`read_json_records` yields the objects of a top-level array (one at a time), the lines of
an NDJSON file or the list under a known key of a JSON object. A record nested deeper than the
run's ``json_max_depth`` is quarantined alone; a document the parser cannot even read for its
depth is refused whole (a ``ParseError`` the file collectors turn into one quarantine entry).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from ecoute.collectors.base import Rejected
from ecoute.collectors.files.formats import (
    JSON_MAX_BYTES,
    MAX_RECORD_BYTES,
    SourceFile,
    file_format,
)
from ecoute.collectors.limits import loads_bounded, too_deep_reason
from ecoute.errors import ParseError


def read_json_records(
    source: SourceFile, *, list_keys: tuple[str, ...] = ("results", "submissions", "data", "items")
) -> Iterator[tuple[int, Any] | Rejected]:
    """(position, value) per record: the elements of a top-level array (streamed), the lines of
    NDJSON, or the list under one of ``list_keys`` of a top-level object."""
    kind = file_format(source.path)
    if kind == "ndjson":
        with source.path.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    yield number, loads_bounded(raw, source.limits.json_max_depth,
                                                what=f"{source.name}, line {number}")
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    yield Rejected(raw[:2000], source.at(number),
                                   f"{source.name}, line {number}: not JSON ({exc})")
                except ParseError as exc:
                    yield Rejected(raw[:2000], source.at(number), str(exc), exc.name)
        return
    if kind != "json":
        raise ParseError(f"{source.name} is not JSON")
    with source.path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        first = fh.read(1)
        while first.isspace():
            first = fh.read(1)
        if first == "[":
            yield from _stream_array(fh, source)
            return
    if source.size > JSON_MAX_BYTES:
        raise ParseError(f"{source.name} is a {source.size}-byte JSON object, over the "
                         f"{JSON_MAX_BYTES} limit", hint="export a JSON array or NDJSON instead")
    try:
        document = loads_bounded(source.path.read_bytes().decode("utf-8-sig"),
                                 source.limits.json_max_depth, what=source.name)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParseError(f"{source.name} is not valid JSON ({exc})") from exc
    if isinstance(document, dict):
        for key in list_keys:
            if isinstance(document.get(key), list):
                for number, value in enumerate(document[key], start=1):
                    yield number, value
                return
        yield 1, document
        return
    raise ParseError(f"{source.name}: JSON holds no list of records")


def _stream_array(fh: IO[str], source: SourceFile) -> Iterator[tuple[int, Any] | Rejected]:
    """Elements of a JSON array whose opening bracket was read, one at a time."""
    decoder = json.JSONDecoder()
    buffer, number, eof = "", 0, False
    while True:
        buffer = buffer.lstrip()
        if buffer.startswith(","):
            buffer = buffer[1:].lstrip()
        if buffer.startswith("]"):
            return
        value: Any = None
        try:
            value, end = decoder.raw_decode(buffer) if buffer else (None, 0)
            complete = bool(buffer) and (end < len(buffer) or eof)
        except RecursionError as exc:
            raise ParseError(f"{source.name}: element {number + 1} nests arrays/objects more "
                             f"than {source.limits.json_max_depth} levels deep "
                             "(ECOUTE_JSON_MAX_DEPTH)") from exc
        except json.JSONDecodeError as exc:
            if eof:
                raise ParseError(f"{source.name}: element {number + 1} is not valid JSON "
                                 f"({exc.msg}); the file may be truncated") from exc
            complete = False
        if not complete:
            if eof:
                raise ParseError(f"{source.name}: the JSON array is never closed; the file "
                                 "may be truncated")
            if len(buffer) > MAX_RECORD_BYTES:
                raise ParseError(f"{source.name}: element {number + 1} is longer than "
                                 f"{MAX_RECORD_BYTES} bytes")
            chunk = fh.read(1 << 16)
            eof = not chunk
            buffer += chunk
            continue
        number += 1
        reason = too_deep_reason(value, source.limits.json_max_depth,
                                 f"{source.name}, element {number}")
        yield Rejected(buffer[:min(end, 2000)], source.at(number), reason) if reason \
            else (number, value)
        buffer = buffer[end:]
