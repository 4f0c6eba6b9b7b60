"""Imports point down: each part of ecoute may import only the parts below it.

The walk reads every module's source (imports inside functions included, ``TYPE_CHECKING``
blocks excluded: they never run), so a new upward import fails here before it tangles the tree.
docs/architecture.md draws the same arrows.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ecoute"

#: Every part of ecoute and the parts it may import (besides itself). ``domain`` and
#: ``errors`` are the shared vocabulary: everything may import them, they import nothing.
LEAVES = {"domain", "errors"}
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "errors": set(),
    "pii": set(),
    "config": {"pii"},
    "privacy": {"pii", "config"},
    "observability": {"config", "privacy"},
    "store": {"config"},
    "collectors": {"store", "config", "privacy", "pii"},
    "classifiers": {"store", "config"},
    "assessment": {"store", "config"},
    "data_requests": {"store", "config", "privacy"},
    "digest": {"assessment", "store", "config"},
    "api": {"assessment", "digest", "store", "classifiers", "collectors", "config",
            "data_requests", "observability", "privacy", "ecoute"},
    "scheduler": {"collectors", "classifiers", "assessment", "digest", "store", "config",
                  "observability", "privacy"},
    "demo": {"collectors", "classifiers", "store", "config"},
    "daemon": {"api", "scheduler", "store", "config", "observability"},
    "cli": {"*"},
    "__main__": {"cli"},
    "demo_data": set(),
    "ecoute": set(),
}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "ecoute"


def _module_name(path: Path, root: Path) -> str:
    relative = path.relative_to(root.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """(imported ecoute module, line) of every import that can run."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "ecoute":
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] == "ecoute":
            for alias in node.names:  # `from ecoute.store import items` imports a module
                yield f"{node.module}.{alias.name}", node.lineno
        stack.extend(ast.iter_child_nodes(node))


def _graph(root: Path = PACKAGE) -> dict[str, list[tuple[str, int]]]:
    modules = {_module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, list[tuple[str, int]]] = {}
    for name, path in modules.items():
        found: list[tuple[str, int]] = []
        for target, line in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            # `from ecoute.x import name` names a module only when that module exists.
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in modules and target != name and (target, line) not in found:
                found.append((target, line))
        graph[name] = found
    return graph


def upward_imports(graph: dict[str, list[tuple[str, int]]]) -> list[str]:
    problems = []
    for module, targets in graph.items():
        source = _part(module)
        allowed = ALLOWED.get(source)
        if allowed is None:
            problems.append(f"{module}: part {source!r} is not in the layers table")
            continue
        for target, line in targets:
            part = _part(target)
            if part == source or part in LEAVES and source not in LEAVES or "*" in allowed:
                continue
            if part not in allowed:
                problems.append(f"{module}:{line} imports {target} ({source} → {part})")
    return problems


def import_cycles(graph: dict[str, list[tuple[str, int]]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), deferred imports included.
    A package's ``__init__`` importing its own submodules is not a cycle of the design."""
    edges = {m: {t for t, _ in ts if not m or not t.startswith(m + ".")}
             for m, ts in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_imports_point_down() -> None:
    assert upward_imports(_graph()) == []


def test_no_import_cycle() -> None:
    assert import_cycles(_graph()) == []


@pytest.mark.parametrize(("where", "line", "part"), [
    ("store/planted.py", "from ecoute.collectors.runner import SourceRunner", "collectors"),
    ("store/planted.py", "def f():\n    from ecoute.classifiers import loader", "classifiers"),
    ("collectors/planted.py", "import ecoute.classifiers.pending", "classifiers"),
    ("classifiers/planted.py", "from ecoute.api import app", "api"),
    ("assessment/planted.py", "from ecoute.api.deps import SessionDep", "api"),
    ("config/planted.py", "from ecoute.store import models", "store"),
    ("domain.py", "from ecoute.errors import EcouteError", "errors"),
])
def test_a_planted_upward_import_fails(tmp_path: Path, where: str, line: str, part: str) -> None:
    root = tmp_path / "ecoute"
    for name in ("store", "collectors", "classifiers", "api", "assessment", "config", "errors"):
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    for module in ("collectors/runner.py", "classifiers/loader.py", "classifiers/pending.py",
                   "api/app.py", "api/deps.py", "store/models.py", "errors/__init__.py"):
        (root / module).write_text("")
    (root / where).write_text(line + "\n")
    problems = upward_imports(_graph(root))
    assert len(problems) == 1 and f"→ {part})" in problems[0], problems


def test_a_planted_cycle_is_found(tmp_path: Path) -> None:
    root = tmp_path / "ecoute"
    (root / "store").mkdir(parents=True)
    for name in ("__init__.py", "store/__init__.py"):
        (root / name).write_text("")
    (root / "store" / "a.py").write_text("from ecoute.store import b\n")
    (root / "store" / "b.py").write_text("def late():\n    from ecoute.store.a import x\n")
    assert import_cycles(_graph(root)) == [["ecoute.store.a", "ecoute.store.b"]]


def test_collector_kinds_never_touch_the_store() -> None:
    """Kinds read and yield; the runner alone writes (DESIGN: collectors yield, a runner
    persists)."""
    graph = _graph()
    touching = [f"{m}:{line} imports {t}" for m, targets in graph.items()
                if m.startswith("ecoute.collectors.kinds.")
                for t, line in targets if _part(t) == "store"]
    assert touching == []
