"""The demo LMS served by ``socle demo`` (on 127.0.0.1, next to the tool), fuzzed the same way:
never a 5xx, and a refused request leaves its data directory (course state, key) unchanged.

Only what a browser can send is fuzzed: query and form parameters, with or without a chosen
demo user, and the OIDC authorization request built from a real login hint. The LTI service
API (``/api/...``) answers 401 before reading any parameter without a bearer token, which
needs a tool serving its JWKS; ``tests/demo_lms`` tests that API with one.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from lti_tool.demo_lms import ToolEndpoints, create_demo_lms
from lti_tool.demo_lms.config import CLIENT_ID, COURSE
from lti_tool.demo_lms.keys import load_or_create_platform_key
from tests.fuzz.strategies import RouteParams, fuzz_requests

LMS_URL = "http://127.0.0.1:5000"
# Nothing listens on the discard port: a key fetch fails at once, as with a tool that is down.
TOOL = ToolEndpoints(
    login_url="http://localhost/lti/login",
    launch_url="http://localhost/lti/launch",
    deep_link_url="http://localhost/lti/launch",
    jwks_url="http://127.0.0.1:9/lti/jwks",
)
EXAMPLES_PER_ROUTE = 15

USER = {"utilisateur": lambda w: ["enseignant", "agent"], "langue": lambda w: ["fr-FR", "en"]}
ACTIVITY = {"activity_id": lambda w: ["a-1", "..", "%00"]}
CONTEXT = {"context_id": lambda w: [COURSE.id, "demo"], "line_item_id": lambda w: ["1", "x"]}
API = RouteParams(
    ("resource_link_id", "resource_id", "tag", "limit", "page", "user_id", "role", "rlid"),
    {"limit": lambda w: ["1", "0", "-1", "1001"], "page": lambda w: ["1", "0", "x"]},
    path=CONTEXT,
)
AUTH_NAMES = (
    "scope",
    "response_type",
    "response_mode",
    "prompt",
    "client_id",
    "redirect_uri",
    "nonce",
    "state",
    "login_hint",
    "lti_message_hint",
)


def _auth_known() -> dict[str, Any]:
    return {
        "scope": lambda w: ["openid"],
        "response_type": lambda w: ["id_token"],
        "response_mode": lambda w: ["form_post"],
        "prompt": lambda w: ["none"],
        "client_id": lambda w: [CLIENT_ID],
        "redirect_uri": lambda w: [TOOL.launch_url],
        "nonce": lambda w: ["nonce-1"],
        "state": lambda w: ["state-1"],
        "login_hint": lambda w: [w.login_hint],
        "lti_message_hint": lambda w: [w.message_hint],
    }


DEMO_LMS_ROUTES: dict[tuple[str, str], RouteParams] = {
    ("/", "GET"): RouteParams(
        ("utilisateur", "langue", "ajout", "info", "lti_msg", "lti_errormsg"), USER
    ),
    ("/return", "GET"): RouteParams(("lti_msg", "lti_errormsg", *USER), USER),
    ("/activities/<activity_id>", "GET"): RouteParams(tuple(USER), USER, path=ACTIVITY),
    ("/activities/<activity_id>/scores", "GET"): RouteParams(tuple(USER), USER, path=ACTIVITY),
    ("/activities/<activity_id>/launch", "GET"): RouteParams(
        ("target", *USER), {**USER, "target": lambda w: ["iframe", "window"]}, path=ACTIVITY
    ),
    ("/deep-link", "GET"): RouteParams(tuple(USER), USER),
    ("/deep-link/launch", "GET"): RouteParams(
        ("target", *USER), {**USER, "target": lambda w: ["iframe", "window"]}
    ),
    ("/auth", "GET"): RouteParams(AUTH_NAMES, _auth_known()),
    ("/auth", "POST"): RouteParams(AUTH_NAMES, _auth_known()),
    ("/deep-link-return", "POST"): RouteParams(("JWT",), {"JWT": lambda w: ["e30.e30.", "a.b.c"]}),
    ("/jwks", "GET"): RouteParams(),
    ("/token", "POST"): RouteParams(
        ("grant_type", "client_assertion_type", "client_assertion", "scope", "client_id"),
        {
            "grant_type": lambda w: ["client_credentials"],
            "client_assertion_type": lambda w: [
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            ],
            "client_assertion": lambda w: ["e30.e30.", "a.b.c"],
            "client_id": lambda w: [CLIENT_ID],
        },
    ),
    ("/api/contexts/<context_id>/lineitems", "GET"): API,
    ("/api/contexts/<context_id>/lineitems", "POST"): API,
    ("/api/contexts/<context_id>/lineitems/<line_item_id>", "GET"): API,
    ("/api/contexts/<context_id>/lineitems/<line_item_id>", "PUT"): API,
    ("/api/contexts/<context_id>/lineitems/<line_item_id>", "DELETE"): API,
    ("/api/contexts/<context_id>/lineitems/<line_item_id>/scores", "POST"): API,
    ("/api/contexts/<context_id>/lineitems/<line_item_id>/results", "GET"): API,
    ("/api/contexts/<context_id>/memberships", "GET"): API,
    ("/static/<path:filename>", "GET"): RouteParams(
        ("v",), path={"filename": lambda w: ["demo_lms.css", "x.js"]}
    ),
}


@dataclass(repr=False)
class LmsWorld:
    app: Flask
    client: FlaskClient
    data_dir: Path
    login_hint: str
    message_hint: str

    def snapshot(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.data_dir.iterdir())}


@pytest.fixture(scope="module")
def _lms_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("lms-key")
    load_or_create_platform_key(directory)
    return directory


@pytest.fixture
def lms(_lms_key: Path, tmp_path: Path) -> LmsWorld:
    """A fresh demo LMS (its key copied: generating one costs more than the test)."""
    data_dir = tmp_path / "demo-lms"
    shutil.copytree(_lms_key, data_dir)
    app = create_demo_lms(LMS_URL, TOOL, data_dir)
    client = app.test_client()
    response = client.get("/deep-link/launch", query_string={"utilisateur": "enseignant"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    login = parse_qs(urlsplit(response.headers["Location"]).query)
    return LmsWorld(
        app, app.test_client(), data_dir, login["login_hint"][0], login["lti_message_hint"][0]
    )


def test_every_demo_lms_route_is_fuzzed(lms: LmsWorld) -> None:
    served = {
        (rule.rule, method)
        for rule in lms.app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    assert served - set(DEMO_LMS_ROUTES) == set(), "demo LMS routes without parameters here"
    assert set(DEMO_LMS_ROUTES) - served == set(), "demo LMS routes listed here that are gone"


@pytest.mark.parametrize(
    ("rule", "method"),
    [pytest.param(r, m, id=f"{m} {r}") for r, m in sorted(DEMO_LMS_ROUTES)],
)
def test_demo_lms_hostile_parameters(lms: LmsWorld, rule: str, method: str) -> None:
    spec = DEMO_LMS_ROUTES[(rule, method)]

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(data=st.data())
    def one_request(data: st.DataObject) -> None:
        request = data.draw(fuzz_requests(rule, method, spec, lms))
        before = lms.snapshot()
        response = request.send(lms.client)
        response.close()
        status = response.status_code
        assert status < 500, f"{status} for {request.describe()}"
        if 400 <= status < 500:
            assert lms.snapshot() == before, f"refused ({status}) but stored: {request.describe()}"

    one_request()
