"""The suite itself: no test's outcome may depend on when it was collected.

pytest imports every test module, and evaluates its parametrize lists, before the first test
runs; CI runs the browser suites for minutes, in random order. A time read at import
(``time.time()`` in a parameter list, a module-level ``datetime.now()``) is minutes stale by
the time its test runs, and a test that passed alone fails in the full suite. Times are read
inside the test, or on an injected clock.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
WALL_CLOCK = {
    ("time", "time"),
    ("time", "monotonic"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("date", "today"),
}
WALL_CLOCK_FUNCTIONS = {"utcnow"}


def _is_wall_clock(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return (func.value.id, func.attr) in WALL_CLOCK
    return isinstance(func, ast.Name) and func.id in WALL_CLOCK_FUNCTIONS


class _ImportTimeCalls(ast.NodeVisitor):
    """Wall-clock calls evaluated when the module is imported (not inside a function body)."""

    def __init__(self) -> None:
        self.lines: list[int] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        # decorators and default values run at import; the body does not
        for expression in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
            if expression is not None:
                self.visit(expression)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for expression in [*node.args.defaults, *node.args.kw_defaults]:
            if expression is not None:
                self.visit(expression)

    def visit_Call(self, node: ast.Call) -> None:
        if _is_wall_clock(node):
            self.lines.append(node.lineno)
        self.generic_visit(node)


def import_time_clock_reads(source: str) -> list[int]:
    visitor = _ImportTimeCalls()
    visitor.visit(ast.parse(source))
    return visitor.lines


def test_the_detector_sees_a_time_read_in_a_parameter_list() -> None:
    stale = (
        "import time\n"
        "CASES = [('future', lambda c: {**c, 'iat': int(time.time()) + 120})]\n"  # fine: lazy
        "@pytest.mark.parametrize('iat', [int(time.time()) + 120])\n"  # stale at run time
        "def test_x(iat, now=datetime.now(UTC)):\n"  # stale default
        "    return time.time()\n"  # fine: read when the test runs
    )
    assert import_time_clock_reads(stale) == [3, 4]


OUR_MODULES = sorted(p for p in TESTS.rglob("*.py") if "node_modules" not in p.parts)


@pytest.mark.parametrize("path", OUR_MODULES, ids=lambda p: str(p.relative_to(TESTS)))
def test_no_test_module_reads_the_clock_at_import(path: Path) -> None:
    lines = import_time_clock_reads(path.read_text(encoding="utf-8"))
    assert lines == [], f"{path.name} reads the wall clock at import, lines {lines}"
