"""Every hardening rule of a launch, each shown to bite: one claim changed at a time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lti_tool.lti.launch import BROWSER_COOKIE
from lti_tool.models import Launch, LtiContext, LtiUser, ResourceLink, UsedNonce
from tests.lti.forge import (
    INSTRUCTOR,
    SigningKey,
    TestPlatform,
    login,
    register,
    running_platform,
    unsigned_token,
)

STORED = (Launch, UsedNonce, LtiUser, LtiContext, ResourceLink)


@pytest.fixture
def platform(app: Flask) -> Iterator[TestPlatform]:
    with running_platform() as test_platform:
        register(app, test_platform)
        yield test_platform


def stored(app: Flask) -> dict[str, int]:
    with app.extensions["socle"].database.session() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in STORED
        }


def post_launch(client: FlaskClient, token: str, state: str | None) -> Any:
    data = {"id_token": token}
    if state is not None:
        data["state"] = state
    return client.post("/lti/launch", data=data)


def assert_rejected(response: Any, code: str, app: Flask, status: int | None = None) -> None:
    body = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, body
    if status is not None:
        assert response.status_code == status
    assert f'data-rejection="{code}"' in body, body
    assert "<h1" in body  # a page that says why, not a bare status
    assert stored(app) == {m.__tablename__: 0 for m in STORED}


# Each case: how to build the token from (platform, nonce) -> expected rejection code.
Forge = Callable[[TestPlatform, str], str]
CASES: dict[str, tuple[Forge, str]] = {
    "no kid": (lambda p, n: p.sign(p.claims(n), headers={}), "missing_kid"),
    "alg none": (
        lambda p, n: unsigned_token(p.claims(n), {"alg": "none", "kid": p.key.kid}),
        "bad_algorithm",
    ),
    "alg HS256": (
        lambda p, n: jwt.encode(
            p.claims(n),
            "a-shared-secret-of-32-bytes-or-more!",
            algorithm="HS256",
            headers={"kid": p.key.kid},
        ),
        "bad_algorithm",
    ),
    "bad signature": (
        lambda p, n: p.sign(p.claims(n), key=SigningKey.generate(kid=p.key.kid)),
        "bad_signature",
    ),
    "wrong iss": (
        lambda p, n: p.sign(p.claims(n, iss="https://lms.other.example")),
        "unknown_issuer",
    ),
    "aud without our client id": (
        lambda p, n: p.sign(p.claims(n, aud=["another-tool"])),
        "wrong_audience",
    ),
    "several audiences, no azp": (
        lambda p, n: p.sign(p.claims(n, aud=[p.client_id, "another-tool"])),
        "bad_azp",
    ),
    "several audiences, other azp": (
        lambda p, n: p.sign(p.claims(n, aud=[p.client_id, "another-tool"], azp="another-tool")),
        "bad_azp",
    ),
    "expired": (
        lambda p, n: p.sign(p.claims(n, exp=int(time.time()) - 30, iat=int(time.time()) - 330)),
        "expired",
    ),
    "iat in the future": (
        lambda p, n: p.sign(p.claims(n, iat=int(time.time()) + 60)),
        "issued_in_future",
    ),
    "unknown deployment": (
        lambda p, n: p.sign(p.claims(n, lti_deployment_id="rogue-deployment")),
        "unknown_deployment",
    ),
    "wrong LTI version": (lambda p, n: p.sign(p.claims(n, lti_version="1.1.0")), "bad_version"),
    "wrong message type": (
        lambda p, n: p.sign(p.claims(n, lti_message_type="LtiSubmissionReviewRequest")),
        "bad_message_type",
    ),
    "missing message type": (
        lambda p, n: p.sign(p.claims(n, lti_message_type=None)),
        "missing_message_type",
    ),
    "missing sub": (lambda p, n: p.sign(p.claims(n, sub=None)), "missing_sub"),
    "missing resource_link.id": (
        lambda p, n: p.sign(p.claims(n, lti_resource_link={"title": "no id"})),
        "missing_resource_link",
    ),
    "nonce not the one issued": (
        lambda p, n: p.sign(p.claims("nonce-from-elsewhere")),
        "nonce_mismatch",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_forged_launch_is_refused_and_nothing_is_stored(
    case: str, app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    forge, code = CASES[case]
    state, nonce = login(client, platform)
    response = post_launch(client, forge(platform, nonce), state)
    assert_rejected(response, code, app)


def test_the_same_launch_passes_when_nothing_is_forged(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    """The control for every case above: the untouched token is accepted."""
    state, nonce = login(client, platform)
    response = post_launch(client, platform.sign(platform.claims(nonce)), state)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert stored(app)["launch"] == 1


def test_unknown_kid_triggers_exactly_one_jwks_refetch(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    ghost = SigningKey.generate(kid="ghost")
    state, nonce = login(client, platform)
    assert_rejected(
        post_launch(client, platform.sign(platform.claims(nonce), key=ghost), state),
        "unknown_kid",
        app,
    )
    assert platform.jwks_fetches == 2  # first fetch, then one refetch for the unknown kid
    state, nonce = login(client, platform)
    assert_rejected(
        post_launch(client, platform.sign(platform.claims(nonce), key=ghost), state),
        "unknown_kid",
        app,
    )
    assert platform.jwks_fetches == 2  # rate-limited: no refetch storm


def test_rotated_platform_key_is_picked_up_by_the_refetch(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    state, nonce = login(client, platform)
    assert post_launch(client, platform.sign(platform.claims(nonce)), state).status_code == 303
    new_key = SigningKey.generate()
    platform.keys.insert(0, new_key)
    state, nonce = login(client, platform)
    response = post_launch(client, platform.sign(platform.claims(nonce), key=new_key), state)
    assert response.status_code == 303
    assert platform.jwks_fetches == 2


def test_replayed_launch_is_refused(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    state, nonce = login(client, platform)
    token = platform.sign(platform.claims(nonce))
    assert post_launch(client, token, state).status_code == 303
    before = stored(app)
    replay = post_launch(client, token, state)
    assert replay.status_code == 403
    assert 'data-rejection="replayed"' in replay.get_data(as_text=True)
    assert stored(app) == before
    # The same id_token under a fresh login state is refused too.
    fresh_state, _nonce = login(client, platform)
    again = post_launch(client, token, fresh_state)
    assert 'data-rejection="replayed"' in again.get_data(as_text=True)
    assert stored(app) == before


def test_missing_state(app: Flask, client: FlaskClient, platform: TestPlatform) -> None:
    _state, nonce = login(client, platform)
    assert_rejected(
        post_launch(client, platform.sign(platform.claims(nonce)), None), "missing_state", app
    )


def test_state_not_issued_by_us(app: Flask, client: FlaskClient, platform: TestPlatform) -> None:
    _state, nonce = login(client, platform)
    assert_rejected(
        post_launch(client, platform.sign(platform.claims(nonce)), "state-forged"),
        "unknown_state",
        app,
    )


def test_state_cookie_mismatch(app: Flask, client: FlaskClient, platform: TestPlatform) -> None:
    state, nonce = login(client, platform)
    client.set_cookie(
        BROWSER_COOKIE, "another-browser-id-of-32-chars-x", domain="localhost", path="/lti/"
    )
    assert_rejected(
        post_launch(client, platform.sign(platform.claims(nonce)), state), "state_mismatch", app
    )


def test_state_cookie_missing(app: Flask, client: FlaskClient, platform: TestPlatform) -> None:
    state, nonce = login(client, platform)
    client.delete_cookie(BROWSER_COOKIE, domain="localhost", path="/lti/")
    assert_rejected(
        post_launch(client, platform.sign(platform.claims(nonce)), state),
        "state_cookie_missing",
        app,
    )


def test_clock_skew_within_five_seconds_is_tolerated(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    # each token is signed right before its launch: the skew is measured from then, not from
    # the test's start (a login on a loaded machine may take seconds)
    state, nonce = login(client, platform)
    now = int(time.time())
    early = platform.sign(platform.claims(nonce, iat=now + 2))
    assert post_launch(client, early, state).status_code == 303
    state, nonce = login(client, platform)
    now = int(time.time())
    late = platform.sign(platform.claims(nonce, exp=now - 2, iat=now - 300))
    assert post_launch(client, late, state).status_code == 303


def test_slow_jwks_times_out_with_a_clear_error(make_settings: Any) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from lti_tool.app import create_app

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(2)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"keys": []}')

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app = create_app(make_settings(http_timeout=0.3))
    try:
        test_platform = TestPlatform()
        test_platform._server = server
        register(app, test_platform)
        client = app.test_client()
        state, nonce = login(client, test_platform)
        response = post_launch(client, test_platform.sign(test_platform.claims(nonce)), state)
        assert response.status_code == 502
        assert 'data-rejection="jwks_unavailable"' in response.get_data(as_text=True)
    finally:
        server.shutdown()
        server.server_close()
        app.extensions["socle"].database.dispose()


# --- valid launches of the 1EdTech certification list ------------------------------------
VALID: dict[str, tuple[dict[str, Any], str]] = {
    "multiple roles": (
        {
            "lti_roles": [
                INSTRUCTOR,
                "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Staff",
            ]
        },
        "teacher",
    ),
    "short role names": ({"lti_roles": ["Instructor"]}, "teacher"),
    "content developer": (
        {"lti_roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper"]},
        "teacher",
    ),
    "system administrator": (
        {"lti_roles": ["http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"]},
        "teacher",
    ),
    "unknown role": ({"lti_roles": ["http://example.org/roles#Wizard"]}, "learner"),
    "no role (empty)": ({"lti_roles": []}, "learner"),
    "no role claim": ({"lti_roles": None}, "learner"),
    "email only": ({"name": None}, "learner"),
    "names only": ({"email": None, "given_name": "Karim", "family_name": "Benali"}, "learner"),
    "no personal data": ({"email": None, "name": None}, "learner"),
    "no context": ({"lti_context": None}, "learner"),
    "new resource link id": ({"lti_resource_link": {"id": "brand-new-link"}}, "learner"),
    "anonymous": ({"sub": None, "email": None, "name": None}, "learner"),
}


@pytest.mark.parametrize("case", list(VALID), ids=list(VALID))
def test_valid_certification_launches_are_accepted(
    case: str, app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    changes, side = VALID[case]
    state, nonce = login(client, platform)
    response = post_launch(client, platform.sign(platform.claims(nonce, **changes)), state)
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    if side == "teacher":
        assert "Espace formateur" in html
    else:
        assert 'action="/play/start"' in html
    with app.extensions["socle"].database.session() as session:
        launch = session.scalars(select(Launch)).one()
        assert launch.role == side
        if case == "anonymous":
            assert launch.user_pk is None
        if case == "new resource link id":
            assert session.scalars(select(ResourceLink.resource_link_id)).one() == "brand-new-link"


def test_personal_data_is_kept_only_when_the_registration_asks(
    app: Flask, client: FlaskClient
) -> None:
    with running_platform() as pseudonymous, running_platform() as named:
        register(app, pseudonymous)
        named.client_id = "named-client"
        register(app, named, store_personal_data=True)
        for test_platform in (pseudonymous, named):
            state, nonce = login(client, test_platform)
            token = test_platform.sign(test_platform.claims(nonce))
            assert post_launch(client, token, state).status_code == 303
    with app.extensions["socle"].database.session() as session:
        users = {u.platform_id: u for u in session.scalars(select(LtiUser))}
    kept = [(u.name, u.email) for u in users.values()]
    assert (None, None) in kept
    assert ("Karim Benali", "karim.benali@example.org") in kept


def test_login_cookie_is_samesite_none_secure_partitioned_over_https(
    app: Flask, platform: TestPlatform
) -> None:
    client = app.test_client()
    response = client.get(
        "/lti/login",
        base_url="https://localhost",
        query_string={
            "iss": platform.issuer,
            "login_hint": "x",
            "client_id": platform.client_id,
            "target_link_uri": "http://localhost/lti/launch",
        },
    )
    cookie = response.headers["Set-Cookie"]
    assert "SameSite=None" in cookie
    assert "Secure" in cookie
    assert "Partitioned" in cookie
    assert "HttpOnly" in cookie


def test_login_for_an_unregistered_issuer_is_refused(client: FlaskClient) -> None:
    response = client.get(
        "/lti/login",
        query_string={
            "iss": "https://unknown.example",
            "login_hint": "x",
            "target_link_uri": "http://localhost/lti/launch",
        },
    )
    assert response.status_code == 403
    assert 'data-rejection="unknown_issuer"' in response.get_data(as_text=True)


def test_login_refuses_a_target_outside_the_tool(
    client: FlaskClient, platform: TestPlatform
) -> None:
    response = client.get(
        "/lti/login",
        query_string={
            "iss": platform.issuer,
            "login_hint": "x",
            "client_id": platform.client_id,
            "target_link_uri": "https://evil.example/phish",
        },
    )
    assert response.status_code == 400
    assert 'data-rejection="bad_login"' in response.get_data(as_text=True)


def test_frame_ancestors_lists_only_registered_platforms(
    client: FlaskClient, platform: TestPlatform
) -> None:
    csp = client.get("/").headers["Content-Security-Policy"]
    ancestors = csp.split("frame-ancestors", 1)[1].split(";")[0].split()
    assert ancestors == ["'self'", platform.issuer]


def test_page_token_is_required_and_checked(client: FlaskClient, platform: TestPlatform) -> None:
    assert client.get("/activity").status_code == 401
    assert client.get("/activity?lt=forged.token.value").status_code == 401
