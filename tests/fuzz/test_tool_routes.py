"""Every route of the tool, every method, with hostile parameters: never a 5xx, and a
refused request (4xx) leaves every table exactly as it was.

Examples are derandomized (the same on every run and machine) and bounded per route, so the
whole package stays a few seconds long on SQLite; run it on PostgreSQL too, where NUL bytes
and over-long strings are refused by the database itself.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import World
from tests.fuzz.routes import TOOL_ROUTES
from tests.fuzz.strategies import fuzz_requests

EXAMPLES_PER_ROUTE = 20
# More where parameters reach the database or the grading: the login, the launch, the answer.
EXAMPLES: dict[tuple[str, str], int] = {
    ("/lti/login", "GET"): 60,
    ("/lti/login", "POST"): 40,
    ("/lti/launch", "POST"): 60,
    ("/play/answer", "POST"): 60,
    ("/play/start", "POST"): 30,
    ("/play/self-assessment", "POST"): 30,
    ("/deep-linking", "POST"): 30,
}

# Routes whose fuzzing is known to fail, with the reason; empty since every 5xx found was
# fixed. A new entry needs a failing case in test_found.py.
PENDING: dict[tuple[str, str], str] = {}


def _route_params() -> list[Any]:
    params = []
    for rule, method in sorted(TOOL_ROUTES):
        marks = []
        if (rule, method) in PENDING:
            marks.append(pytest.mark.xfail(reason=PENDING[(rule, method)], strict=False))
        params.append(pytest.param(rule, method, marks=marks, id=f"{method} {rule}"))
    return params


def test_every_route_is_fuzzed(app: Flask) -> None:
    served = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    assert served - set(TOOL_ROUTES) == set(), "routes without parameters in tests/fuzz/routes.py"
    assert set(TOOL_ROUTES) - served == set(), "tests/fuzz/routes.py lists routes that are gone"


@pytest.mark.parametrize(("rule", "method"), _route_params())
def test_hostile_parameters(world: World, rule: str, method: str) -> None:
    spec = TOOL_ROUTES[(rule, method)]

    @settings(
        max_examples=EXAMPLES.get((rule, method), EXAMPLES_PER_ROUTE),
        derandomize=True,
        database=None,
        deadline=None,
        # No shrinking: a failure is reported as drawn (long values shortened in the
        # message), and a route marked xfail costs no more than one that passes.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(data=st.data())
    def one_request(data: st.DataObject) -> None:
        request = data.draw(fuzz_requests(rule, method, spec, world))
        before = world.snapshot()
        assert world.client is not None
        response = request.send(world.client)
        response.close()  # files are streamed: close them as a browser going away would
        status = response.status_code
        assert status < 500, f"{status} for {request.describe()}"
        if 400 <= status < 500:
            after = world.snapshot()
            changed = [name for name in before if before[name] != after[name]]
            assert not changed, f"refused ({status}) but {changed} changed: {request.describe()}"

    one_request()
