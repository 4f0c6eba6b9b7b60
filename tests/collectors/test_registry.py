"""Which collector reads which kind: built-ins plus the ``ecoute.collectors`` entry points."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from importlib import import_module
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from ecoute.collectors import registry
from ecoute.collectors.base import Collector, CollectorOptions
from ecoute.errors import InvalidOptions, UnknownCollector
from ecoute.domain import Channel


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
    assert registry.get_collector("rss").__module__ == "ecoute.collectors.kinds.rss"


def test_unknown_kind_and_bad_options_name_what_is_wrong() -> None:
    with pytest.raises(UnknownCollector, match="'fax'") as caught:
        registry.get_collector("fax")
    assert "rss" in (caught.value.hint or "")
    with pytest.raises(InvalidOptions, match="url: Field required"):
        registry.validate_options("rss", {})


KINDS = Path(registry.__file__).resolve().parent / "kinds"
REGISTERED = {ref.split(":")[0].rsplit(".", 1)[1] for ref in registry.BUILTIN}


def _kind_modules() -> list[str]:
    return sorted(p.stem for p in KINDS.glob("*.py") if p.stem != "__init__")


def _owner(module: str) -> str | None:
    """The kind a module of ``kinds/`` belongs to: its own name, or the kind it is named after
    (``open311_georeport`` helps ``open311``)."""
    if module in REGISTERED:
        return module
    return max((k for k in REGISTERED if module.startswith(k + "_")), key=len, default=None)


def test_every_kind_module_is_registered_or_a_helper_named_after_one() -> None:
    for name in _kind_modules():
        module = import_module(f"ecoute.collectors.kinds.{name}")
        defines = [v for v in vars(module).values() if isinstance(v, type)
                   and issubclass(v, Collector) and v.__module__ == module.__name__]
        if defines:
            assert name in REGISTERED, f"kinds/{name}.py defines a collector not in BUILTIN"
        assert _owner(name), f"kinds/{name}.py is neither a kind nor named after one"
    assert REGISTERED <= set(_kind_modules())


def test_kinds_never_import_other_kinds() -> None:
    for name in _kind_modules():
        tree = ast.parse((KINDS / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                parts = target.split(".")
                if parts[:3] == ["ecoute", "collectors", "kinds"] and len(parts) > 3 \
                        and (KINDS / f"{parts[3]}.py").exists():
                    assert _owner(parts[3]) == _owner(name), f"kinds/{name}.py imports {target}"


def test_a_builtin_kind_is_found_without_importing_the_others() -> None:
    """A push or an import loads its own kind only, not every kind's parsers."""
    import subprocess
    import sys

    code = ("import sys\nfrom ecoute.collectors.registry import get_collector\n"
            "assert get_collector('push').kind == 'push'\n"
            "print(sorted(m for m in sys.modules if m.startswith('ecoute.collectors.kinds.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "ecoute.collectors.kinds.push'" in out and "html_reviews" not in out, out
    assert all(registry.get_collector(kind).kind == kind for kind in registry.collectors())
