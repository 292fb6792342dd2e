"""The package's shape: modules import downward only. No import cycle, imports inside functions
included (`if TYPE_CHECKING:` blocks aside); the model imports nothing of ours; the pure core
imports none of the adapters, nor any library that does I/O on its own."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "mgremind"
# The functional core: configuration → model → day plan → rendered text. No clock, no I/O.
CORE = {
    "mgremind.model",
    "mgremind.reference",
    "mgremind.titration",
    "mgremind.plan",
    "mgremind.history",
    "mgremind.render",
    "mgremind.config.keys",
    "mgremind.config.values",
    "mgremind.config.readers",
    "mgremind.config.checks",
    "mgremind.config.document",
    "mgremind.daemon.decisions",
}
# Libraries the core must not reach: delivery, scheduling, storage, the network.
IO_LIBRARIES = {"apprise", "apscheduler", "sqlite3", "socket", "select", "signal", "threading", "subprocess"}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(tree: ast.AST) -> Iterator[str]:
    """Every module a tree imports, at any depth, except under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            yield from (name for child in node.orelse for name in _imports(child))
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        yield from _imports(node)


def import_graph() -> dict[str, set[str]]:
    """Each of our modules → the modules of ours and the top-level libraries it imports."""
    ours = modules()
    graph: dict[str, set[str]] = {}
    for name, path in ours.items():
        imported = set(_imports(ast.parse(path.read_text(encoding="utf-8"))))
        graph[name] = {module for module in imported if module in ours and module != name} | {
            module.split(".")[0] for module in imported if not module.startswith("mgremind")
        }
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """A cycle among our modules as a path (first == last), or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for child in sorted(graph.get(node, ())):
            if child not in graph:
                continue  # a library
            if state.get(child) == 1:
                return [*path[path.index(child) :], child]
            if child not in state and (cycle := visit(child)):
                return cycle
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_no_import_cycle_even_inside_functions() -> None:
    assert find_cycle(import_graph()) == []


def test_the_cycle_finder_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c", "os"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_model_imports_nothing_of_ours() -> None:
    assert {module for module in import_graph()["mgremind.model"] if module.startswith("mgremind")} == set()


def test_the_core_imports_no_adapter_and_no_io_library() -> None:
    graph = import_graph()
    for module in CORE:
        assert module in graph, f"{module} is gone: update CORE"
        ours = {imported for imported in graph[module] if imported.startswith("mgremind")}
        assert ours <= CORE | {"mgremind", "mgremind.config"}, f"{module} imports {sorted(ours - CORE)}"
        assert graph[module] & IO_LIBRARIES == set(), f"{module} imports {sorted(graph[module] & IO_LIBRARIES)}"


def test_the_config_package_and_the_planner_do_not_import_each_other() -> None:
    graph = import_graph()
    for module, imported in graph.items():
        if module.startswith("mgremind.config"):
            assert not {"mgremind.plan", "mgremind.loader"} & imported, module
    assert not any(module.startswith("mgremind.config") for module in graph["mgremind.plan"])
