"""Items pushed by another system (``POST /api/v1/ingest``) or imported from a file in the same
format: a JSON array or NDJSON of records, each validated by :class:`PushRecord`.

The ingest endpoint reads the records it receives into the entries this collector yields
(:func:`push_entry`) and hands them to the runner, so pushed items are stored as collected
ones are (dedupe by external id, redaction, quarantine of bad records). A push source is
created per API key on first use, without a file: it is run by the records that come.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from ecoute.collectors.base import (
    CallInterval,
    CollectContext,
    Collector,
    CollectorOptions,
    RawItem,
    Rejected,
)
from ecoute.collectors.files.reading import SourceFile, file_sha256, read_json_records
from ecoute.collectors.limits import DEFAULT_LIMITS, nesting_depth, too_deep_reason
from ecoute.collectors.files.local import allowed_roots, confine
from ecoute.config.settings import Settings
from ecoute.errors import FetchError, ParseError
from ecoute.domain import Channel


class PushRecord(BaseModel):
    """One pushed piece of feedback. Unknown fields are refused (a typo must not lose data);
    free-form data goes in ``extra``."""

    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=512,
                             description="Your id of the item; pushing it again updates it.")
    # Not refused when long: cut at `text_max_chars` before storage like collected texts,
    # with the original length in `extra.truncated`.
    text: str = Field(min_length=1, description="What the person said; a text longer than "
                      "`text_max_chars` is stored cut, its length kept in `extra.truncated`.")
    title: str | None = Field(None, max_length=1000)
    url: str | None = Field(None, max_length=2000)
    author: str | None = Field(None, max_length=400,
                               description="Turned into a pseudonym, never stored.")
    published_at: datetime | None = Field(
        None, description="ISO 8601; without an offset it is taken as UTC."
    )
    lang: str | None = Field(None, max_length=16)
    channel: Channel | None = None
    rating_value: float | None = None
    rating_scale: str | None = Field(None, max_length=32, description='"1-5", "0-10"...')
    site: str | None = Field(None, max_length=200)
    department: str | None = Field(None, max_length=200)
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the text is blank")
        return value.strip()


def push_entry(
    value: Any, position: str, default_channel: Channel, *,
    max_depth: int = DEFAULT_LIMITS.json_max_depth,
    extra_max_bytes: int = Settings.model_fields["push_extra_max_bytes"].default,
) -> RawItem | Rejected:
    """A record as an item, or the reason it cannot be one (naming the field).

    Depth and size are checked before anything walks the record: a deeply nested ``extra``
    stored as is would break every later read of the authority's items."""
    reason = too_deep_reason(value, max_depth, position)
    if reason:
        return Rejected(_excerpt(value), position, reason, "InvalidRecord")
    if not isinstance(value, dict):
        return Rejected(_payload(value), position, f"{position}: a record is a JSON object, "
                        f"not {type(value).__name__}", "InvalidRecord")
    extra = value.get("extra")
    # Serialised only when there is something to measure: most records have no extra.
    extra_size = len(json.dumps(extra, ensure_ascii=False, default=str).encode()) \
        if extra else 0
    if extra_size > extra_max_bytes:
        return Rejected(_payload(value), position, f"{position}: extra is {extra_size} bytes "
                        f"as JSON, over the {extra_max_bytes}-byte limit "
                        "(ECOUTE_PUSH_EXTRA_MAX_BYTES)", "InvalidRecord")
    try:
        record = PushRecord.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in exc.errors()
        )
        return Rejected(_payload(value), position, f"{position}: {problems}", "InvalidRecord")
    return record_item(record, default_channel)


#: A whole JSON array of records, parsed and validated in one pass of pydantic's parser.
_RECORDS = TypeAdapter(list[PushRecord])


def valid_records(
    body: bytes, *, max_depth: int = DEFAULT_LIMITS.json_max_depth,
    extra_max_bytes: int = Settings.model_fields["push_extra_max_bytes"].default,
) -> list[PushRecord] | None:
    """The records of a JSON array body when every one of them passes what
    :func:`push_entry` checks (depth, size of ``extra``, :class:`PushRecord`); None otherwise,
    and for a body that is not one JSON array.

    Most bodies hold only good records, and one pass over the body costs about a third of
    reading it as JSON and validating each record. A body with one bad record is read again
    record by record (``push_entry``), so that the bad one is named and quarantined and the
    others stored.
    """
    body = body.removeprefix(b"\xef\xbb\xbf")
    if not body.lstrip().startswith(b"["):
        return None
    try:
        records = _RECORDS.validate_json(body)
    except ValidationError:
        return None
    for record in records:
        # The other fields validated as scalars: only ``extra`` can nest or grow.
        if "extra" not in record.model_fields_set:
            continue
        if 1 + nesting_depth(record.extra, max_depth) > max_depth:
            return None
        if record.extra and len(json.dumps(record.extra, ensure_ascii=False,
                                           default=str).encode()) > extra_max_bytes:
            return None
    return records or None


def record_item(record: PushRecord, default_channel: Channel) -> RawItem:
    """A valid record as the item it gives."""
    published = record.published_at
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=timezone.utc)
    return RawItem(
        external_id=record.external_id, text=record.text, title=record.title, url=record.url,
        author=record.author, published_at=published, lang=record.lang,
        channel=record.channel or default_channel, rating_value=record.rating_value,
        rating_scale=record.rating_scale, site=record.site, department=record.department,
        extra=record.extra,
    )


def _payload(value: Any) -> str:
    """A refused record as quarantine keeps it."""
    return json.dumps(value, ensure_ascii=False, default=str)[:20_000]


def _excerpt(value: Any) -> str:
    """The start of a record too deep to serialise safely: its opening characters."""
    opening: list[str] = []
    while isinstance(value, (dict, list)) and value and len(opening) < 200:
        if isinstance(value, dict):
            key = next(iter(value))
            opening.append(f"{{{json.dumps(str(key))[:100]}: ")
            value = value[key]
        else:
            opening.append("[")
            value = value[0]
    return "".join(opening) + "..."


class PushCollector(Collector):
    """Items pushed through the ingest API, or a JSON/NDJSON file of records in that format."""

    kind = "push"
    channel = Channel.REVIEW
    #: Its records come when another system sends them; a source reading a folder of exports
    #: is given a schedule when created.
    default_schedule = "manual"
    #: Two people may push the same words; only the external id says it is the same item.
    dedupe_by_content = False

    class Options(CollectorOptions):
        path: str | None = Field(
            None, description="A JSON array or NDJSON file of records, or a folder of them; "
            "none for a source whose records are pushed to the ingest API."
        )
        channel: Channel = Field(
            Channel.REVIEW, description="Channel of records that do not give one."
        )

        @field_validator("path")
        @classmethod
        def _not_blank(cls, value: str | None) -> str | None:
            if value is not None and not value.strip():
                raise ValueError("the path is empty")
            return value.strip() if value is not None else None

    options: Options

    def reread(
        self, payload: str | bytes, position: str
    ) -> Iterator[RawItem | CallInterval | Rejected]:
        try:
            value = json.loads(payload)
        except ValueError:  # a whole file that was not JSON: its path, not a record
            yield from super().reread(payload, position)
            return
        yield push_entry(value, position, self.options.channel)

    def collect(self, ctx: CollectContext) -> Iterator[RawItem | Rejected]:
        if self.options.path is None:
            ctx.warn("this source has no file to read: its records come through the ingest "
                     "API (POST /api/v1/ingest); to import a file, give its path")
            return
        root = confine(Path(self.options.path).expanduser(), allowed_roots(ctx.settings),
                       self.options.path)
        if root.is_dir():
            files = sorted(p for p in root.iterdir()
                           if p.is_file() and p.suffix in (".json", ".ndjson", ".jsonl"))
        elif root.is_file():
            files = [root]
        else:
            raise FetchError(f"{root} does not exist", hint="check the `path` option")
        for path in files:
            source = SourceFile(path=path, sha256=file_sha256(path), size=path.stat().st_size,
                                limits=ctx.limits)
            try:
                for entry in read_json_records(source):
                    if isinstance(entry, Rejected):
                        yield entry
                    else:
                        number, value = entry
                        yield push_entry(
                            value, source.at(number), self.options.channel,
                            max_depth=ctx.limits.json_max_depth,
                            extra_max_bytes=ctx.settings.push_extra_max_bytes)
            except ParseError as exc:
                yield Rejected(str(path), path.name, str(exc), exc.name)
