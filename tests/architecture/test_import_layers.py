"""The packages of ``lti_tool`` import each other one way: no module cycle, no upward import.

Why: an import circle (``app`` → ``player.views`` → ``web`` → ``app``) makes every module of
it load the others, hides which layer owns what, and breaks at import time as soon as one of
them imports a name at module level. The layers, lowest first (``architecture.md``)::

    domain ← content ← lti, xapi ← player, reports ← web ← app, cli

``pages`` is the request plumbing every view uses (the app's services, the request's session,
the launch behind the page token, error pages); it sits under the views of ``lti``,
``player``, ``reports`` and ``web``.

The graph is read from the source (``ast``), so an import inside a function counts as much as
one at the top: it runs as soon as the function does. Imports under ``if TYPE_CHECKING:`` are
left out: they never run.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lti_tool"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements outside ``if TYPE_CHECKING:`` blocks."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                yield from _runtime_imports(ast.Module(body=[child], type_ignores=[]))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _runtime_imports(node)


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


@functools.cache
def import_graph() -> dict[str, set[str]]:
    """``module -> modules of lti_tool it imports at run time``."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _runtime_imports(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _resolve(name, node, path.name == "__init__.py")
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            for imported in targets:
                # ``from a.b import c``: c is a module or a name of a.b; keep what exists.
                target = imported
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target.startswith("lti_tool") and target != name:
                    graph[name].add(target)
    # ``import a.b.c`` also runs a and a.b: a package's __init__ is imported with it, but that
    # edge (child -> parent) is what Python does, not a choice of the code: left out.
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_modules() -> None:
    assert _cycles(import_graph()) == []


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "lti_tool"


# Which layers a layer must never import (directly or from inside a function).
FORBIDDEN = {
    "domain": {"content", "lti", "player", "reports", "pages", "web", "app", "cli", "models"},
    "content": {"lti", "player", "reports", "pages", "web", "app", "cli"},
    "lti": {"player", "reports", "web", "app", "cli"},
    "pages": {"player", "reports", "web", "app", "cli"},
    "player": {"reports", "web", "app", "cli"},
    # Reports sit beside the player: they reuse its presenter (an agent's results as they saw
    # them) and its service connector, never its views.
    "reports": {"lti_tool.player.views", "web", "app", "cli"},
    "web": {"app", "cli"},
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_import_downwards_only(layer: str) -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        if _layer(module) == layer
        for target in targets
        if _layer(target) in FORBIDDEN[layer] or target in FORBIDDEN[layer]
    )
    assert upward == []


def test_the_graph_sees_imports_inside_functions() -> None:
    """The walker itself: a lazy import inside a function is an edge."""
    graph = import_graph()
    assert "lti_tool.lti.registrations" in graph["lti_tool.app"]


def test_a_new_cycle_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
