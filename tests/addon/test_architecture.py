"""The house has one direction: handler -> manager -> (routing, providers, ledger).

Checked statically with the stdlib ``ast`` over ``addon/``:

- ``addon/api/`` imports nothing from ``addon.routing`` or ``addon.providers`` (handlers go
  through the manager's façade);
- ``addon/models/`` (the shared vocabulary) imports no other hub package;
- no import cycle exists among ``addon`` modules.

Every import statement counts, wherever it stands: at module level, under
``if TYPE_CHECKING:``, and inside functions. A type-only or deferred import still says that one
module depends on the other, and a cycle hidden behind one is still a cycle (it is also the
usual way such cycles creep in). Importing ``a.b.c`` is an edge to ``a.b.c`` only, not to the
packages ``a`` and ``a.b`` Python initialises on the way: those edges would turn every package
``__init__`` that re-exports its submodules into a false cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "addon"


@dataclass(frozen=True, slots=True)
class Import:
    """One hub module importing another, where it says so."""

    source: str
    target: str
    where: str

    def __str__(self) -> str:
        return f"{self.where}: {self.source} imports {self.target}"


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` under ``root`` by dotted name (a package is its ``__init__``)."""
    modules: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: Mapping[str, Path]) -> str | None:
    """The hub module ``name`` refers to: itself, else its longest known prefix."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.AST, module: str, is_package: bool, modules: Mapping[str, Path]) -> set[str]:
    if isinstance(node, ast.Import):
        return {t for a in node.names if (t := _resolve(a.name, modules)) is not None}
    if not isinstance(node, ast.ImportFrom):
        return set()
    base = node.module or ""
    if node.level:  # relative: count packages up from the importing module's package
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[: len(package) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    found: set[str] = set()
    for alias in node.names:
        target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
        if (resolved := _resolve(target, modules)) is not None:
            found.add(resolved)
    return found


def import_graph(root: Path, package: str = PACKAGE) -> dict[str, list[Import]]:
    """Every import among ``package``'s modules, per importing module."""
    modules = module_files(root, package)
    graph: dict[str, list[Import]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: list[Import] = []
        for node in ast.walk(tree):
            where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
            for target in _targets(node, module, path.name == "__init__.py", modules):
                if target != module:
                    edges.append(Import(module, target, where))
        graph[module] = edges
    return graph


def cycles(graph: Mapping[str, list[Import]]) -> list[list[Import]]:
    """One concrete cycle for every strongly connected group of modules (Tarjan)."""
    successors = {m: sorted({e.target for e in edges}) for m, edges in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in successors.get(node, []):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: set[str] = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(successors):
        if node not in index:
            visit(node)
    return [_cycle_in(graph, group) for group in groups]


def _cycle_in(graph: Mapping[str, list[Import]], group: set[str]) -> list[Import]:
    """A shortest path from the group's first module back to itself, as imports."""
    start = min(group)
    paths: dict[str, list[Import]] = {start: []}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for edge in graph[node]:
                if edge.target == start:
                    return [*paths[node], edge]
                if edge.target in group and edge.target not in paths:
                    paths[edge.target] = [*paths[node], edge]
                    following.append(edge.target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # Tarjan said there is one


def forbidden(
    graph: Mapping[str, list[Import]], inside: str, banned: tuple[str, ...]
) -> Iterator[Import]:
    """Imports from modules under ``inside`` into any module under a ``banned`` prefix."""

    def under(module: str, prefix: str) -> bool:
        return module == prefix or module.startswith(prefix + ".")

    for module, edges in graph.items():
        if under(module, inside):
            yield from (e for e in edges if any(under(e.target, b) for b in banned))


# --- the house ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def graph() -> dict[str, list[Import]]:
    """The import graph of the add-on as it is."""
    return import_graph(ROOT)


def test_handlers_reach_routing_and_providers_only_through_the_manager(
    graph: dict[str, list[Import]],
) -> None:
    bad = forbidden(graph, "addon.api", ("addon.routing", "addon.providers"))
    assert [str(i) for i in bad] == []


def test_the_shared_vocabulary_imports_no_other_hub_package(
    graph: dict[str, list[Import]],
) -> None:
    others = tuple(sorted({m for m in graph if not m.startswith("addon.models")} - {"addon"}))
    assert [str(i) for i in forbidden(graph, "addon.models", others)] == []
    assert "addon.models.chat" in graph  # the walk did see the vocabulary


def test_no_import_cycle_among_hub_modules(graph: dict[str, list[Import]]) -> None:
    found = [" -> ".join(str(i) for i in cycle) for cycle in cycles(graph)]
    assert found == []
    assert len(graph) > 50  # the walk did see the whole add-on


# --- the checker itself, on small made-up packages -------------------------------------------
def _package(tmp_path: Path, files: Mapping[str, str]) -> dict[str, list[Import]]:
    for name, text in {"pkg/__init__.py": "", **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return import_graph(tmp_path, "pkg")


CYCLES = [
    pytest.param({"pkg/a.py": "import pkg.b\n", "pkg/b.py": "import pkg.a\n"}, id="plain"),
    pytest.param(
        {
            "pkg/a.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg import b\n",
            "pkg/b.py": "from pkg.a import thing\n",
        },
        id="type checking",
    ),
    pytest.param(
        {"pkg/a.py": "def f():\n    from . import b\n", "pkg/b.py": "from .a import f\n"},
        id="relative, in a function",
    ),
    pytest.param(
        {
            "pkg/a.py": "from pkg.sub.c import x\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/c.py": "from ..a import y\n",
        },
        id="relative from a subpackage",
    ),
]


@pytest.mark.parametrize("files", CYCLES)
def test_checker_finds_cycles(tmp_path: Path, files: dict[str, str]) -> None:
    found = cycles(_package(tmp_path, files))
    assert len(found) == 1
    assert found[0][0].source == found[0][-1].target


def test_checker_accepts_a_package_reexporting_its_modules(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "from pkg.a import thing\n",
        "pkg/a.py": "from pkg.b import other\n",
        "pkg/b.py": "import json\n",
    }
    assert cycles(_package(tmp_path, files)) == []


def test_checker_finds_forbidden_imports(tmp_path: Path) -> None:
    graph = _package(
        tmp_path,
        {
            "pkg/api/__init__.py": "",
            "pkg/api/h.py": "def f():\n    from pkg.routing import run\n",
            "pkg/routing/__init__.py": "",
            "pkg/routing/run.py": "",
        },
    )
    bad = list(forbidden(graph, "pkg.api", ("pkg.routing",)))
    assert [(i.source, i.target) for i in bad] == [("pkg.api.h", "pkg.routing.run")]
