"""The push format: a JSON array read in one pass gives what reading it record by record gives."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ecoute.collectors.base import RawItem
from ecoute.collectors.ingest import pushed_entries, split_records
from ecoute.collectors.kinds.push import PushCollector, record_item, valid_records
from ecoute.config.settings import Settings

SETTINGS = Settings(json_max_depth=6, push_extra_max_bytes=1024)

_text = st.text(st.characters(codec="utf-8"), max_size=30)
_scalar = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text
_json = st.recursive(_scalar, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(_text, inner, max_size=3), max_leaves=12)
# Valid and invalid values side by side: each field may break the record.
_fields: dict[str, st.SearchStrategy[Any]] = {
    "text": _text | st.just("  un avis  ") | st.integers(),
    "title": _text | st.none() | st.text(min_size=1001, max_size=1001),
    "url": _text | st.none(),
    "author": _text | st.none(),
    "published_at": st.sampled_from(["2024-03-01T09:00:00", "2024-03-01T09:00:00+02:00",
                                     "yesterday", "2024-13-01", None]),
    "lang": st.sampled_from(["fr", "en", None, "x" * 17]),
    "channel": st.sampled_from(["email", "review", "nope", None]),
    "rating_value": st.integers(0, 10) | st.floats(allow_nan=False) | _text | st.none(),
    "rating_scale": st.sampled_from(["1-5", "0-10", None]),
    "extra": st.dictionaries(_text, _json, max_size=4) | st.lists(_scalar) | st.none()
    | st.just({"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}})
    | st.just({"big": "x" * 2000}),
    "unknown": st.integers(),
}


@st.composite
def records(draw: st.DrawFn) -> list[Any]:
    count = draw(st.integers(1, 4))
    out: list[Any] = []
    for n in range(count):
        record = {"external_id": draw(st.sampled_from([f"id-{n}", "", "x" * 513]))}
        for name in draw(st.sets(st.sampled_from(sorted(_fields)))):
            record[name] = draw(_fields[name])
        out.append(record if draw(st.integers(0, 20)) else draw(_scalar))
    return out


def _per_record(body: bytes) -> list[Any]:
    return pushed_entries(split_records(body, "application/json", SETTINGS.json_max_depth),
                          SETTINGS, PushCollector.channel)


@settings(max_examples=300, deadline=None)
@given(records(), st.booleans())
@example([{"external_id": "a", "text": "t", "extra": {}}], False)
@example([{"external_id": "a", "text": " t ", "published_at": "2024-03-01T09:00:00"}], True)
@example([{"external_id": "a", "text": "t", "extra": {"a": {"b": {"c": {"d": {"e": 1}}}}}}], False)
@example([{"external_id": "a", "text": "t", "extra": {"a": {"b": {"c": {"d": {"e": {}}}}}}}], False)
def test_one_pass_gives_the_items_of_the_record_by_record_reading(
    values: list[Any], bom: bool
) -> None:
    body = ("\ufeff" if bom else "").encode() + json.dumps(values, ensure_ascii=False).encode()
    expected = _per_record(body)
    valid = valid_records(body, max_depth=SETTINGS.json_max_depth,
                          extra_max_bytes=SETTINGS.push_extra_max_bytes)
    if all(isinstance(entry, RawItem) for entry in expected):
        assert valid is not None
        assert [record_item(r, PushCollector.channel) for r in valid] == expected
    else:
        # A body with a bad record is read record by record, so that it is named.
        assert valid is None


def test_what_one_pass_declines() -> None:
    limits = {"max_depth": 6, "extra_max_bytes": 1024}
    assert valid_records(b"[]", **limits) is None
    assert valid_records(b'{"external_id": "a", "text": "t"}', **limits) is None
    assert valid_records(b'[{"external_id": "a", "text": "\\ud800"}]', **limits) is None
    assert valid_records(b'[{"external_id": "a", "text": "t"}', **limits) is None
    deep = {"external_id": "a", "text": "t", "extra": {"a": {"b": {"c": {"d": {"e": 1}}}}}}
    assert valid_records(json.dumps([deep]).encode(), **limits) is not None
    deep["extra"] = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
    assert valid_records(json.dumps([deep]).encode(), **limits) is None
    big = {"external_id": "a", "text": "t", "extra": {"big": "x" * 1020}}
    assert valid_records(json.dumps([big]).encode(), **limits) is None
