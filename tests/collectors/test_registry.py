"""Which collector reads which kind: built-ins plus the ``ecoute.collectors`` entry points."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint

import pytest

from ecoute.collectors import registry
from ecoute.collectors.base import Collector, CollectorOptions
from ecoute.errors import InvalidOptions, UnknownCollector
from ecoute.store.models import Channel


class PigeonCollector(Collector):
    """Messages brought by carrier pigeon (a plugin's collector)."""

    kind = "pigeon"
    channel = Channel.SOCIAL

    class Options(CollectorOptions):
        loft: str


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EntryPoint]]:
    found: list[EntryPoint] = []
    monkeypatch.setattr(registry, "entry_points", lambda group: [
        ep for ep in found if ep.group == group])
    registry.collectors.cache_clear()
    yield found
    registry.collectors.cache_clear()


def test_plugin_collectors_are_registered(plugins: list[EntryPoint]) -> None:
    plugins.append(EntryPoint(name="pigeon", group=registry.ENTRY_POINT_GROUP,
                              value=f"{__name__}:PigeonCollector"))
    assert registry.get_collector("pigeon") is PigeonCollector
    assert "rss" in registry.collectors()
    assert registry.validate_options("pigeon", {"loft": "north"}).loft == "north"  # type: ignore[attr-defined]


def test_a_broken_plugin_does_not_hide_the_builtins(
    plugins: list[EntryPoint], caplog: pytest.LogCaptureFixture
) -> None:
    plugins.append(EntryPoint(name="broken", group=registry.ENTRY_POINT_GROUP,
                              value="no_such_module:Nothing"))
    kinds = registry.collectors()
    assert "rss" in kinds and "broken" not in kinds
    assert "no_such_module" in caplog.text


def test_a_plugin_cannot_replace_a_builtin_kind(plugins: list[EntryPoint]) -> None:
    class FakeRss(PigeonCollector):
        kind = "rss"

    globals()["FakeRss"] = FakeRss
    plugins.append(EntryPoint(name="rss", group=registry.ENTRY_POINT_GROUP,
                              value=f"{__name__}:FakeRss"))
    assert registry.get_collector("rss").__module__ == "ecoute.collectors.rss"


def test_unknown_kind_and_bad_options_name_what_is_wrong() -> None:
    with pytest.raises(UnknownCollector, match="'fax'") as caught:
        registry.get_collector("fax")
    assert "rss" in (caught.value.hint or "")
    with pytest.raises(InvalidOptions, match="url: Field required"):
        registry.validate_options("rss", {})
