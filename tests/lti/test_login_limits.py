"""``/lti/login`` is unauthenticated: every parameter bounded, rate and rows capped, one cookie.

Runs on SQLite, and on PostgreSQL when ``SOCLE_TEST_DATABASE_URL`` is set: a long or NUL
parameter must be a 4xx on both, with nothing stored.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lti_tool.app import create_app
from lti_tool.lti.launch import BROWSER_COOKIE
from lti_tool.models import LoginState
from tests.lti.forge import TestPlatform, login, register, running_platform
from tests.lti.test_launch_security import post_launch


@pytest.fixture
def platform(app: Flask) -> Iterator[TestPlatform]:
    with running_platform() as test_platform:
        register(app, test_platform)
        yield test_platform


def params(platform: TestPlatform, **changes: str) -> dict[str, str]:
    values = {
        "iss": platform.issuer,
        "login_hint": "user-hint",
        "target_link_uri": "http://localhost/lti/launch",
        "client_id": platform.client_id,
        "lti_deployment_id": platform.deployment_id,
        "lti_message_hint": "message-hint",
    }
    values.update(changes)
    return values


def states(app: Flask) -> int:
    with app.extensions["socle"].database.session() as session:
        return session.scalar(select(func.count()).select_from(LoginState)) or 0


def assert_refused(response: Any, app: Flask, status: int, code: str) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == status, body
    assert f'data-rejection="{code}"' in body
    assert "Set-Cookie" not in response.headers
    assert states(app) == 0


# --- every parameter bounded -------------------------------------------------------------

LONG = {
    "iss": 501,
    "login_hint": 1025,
    "lti_message_hint": 4097,
    "client_id": 256,
    "lti_deployment_id": 256,
    "target_link_uri": 1001,
}


@pytest.mark.parametrize("name", list(LONG))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_overlong_parameter_is_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, platform: TestPlatform, name: str, method: str
) -> None:
    value = params(platform)[name]
    value = value + "x" * (LONG[name] - len(value))
    query = params(platform, **{name: value})
    if method == "GET":
        response = client.get("/lti/login", query_string=query)
    else:
        response = client.post("/lti/login", data=query)
    assert_refused(response, app, 400, "bad_login")


def test_a_megabyte_target_is_refused(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    target = "http://localhost/lti/launch?" + "a" * (1024 * 1024 - 100)
    response = client.post("/lti/login", data=params(platform, target_link_uri=target))
    assert response.status_code in {400, 413}
    assert states(app) == 0


@pytest.mark.parametrize("name", list(LONG))
@pytest.mark.parametrize("char", ["\x00", "\r\n", "\x1b"], ids=["NUL", "CRLF", "ESC"])
def test_a_control_character_is_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, platform: TestPlatform, name: str, char: str
) -> None:
    value = params(platform)[name]
    response = client.get(
        "/lti/login", query_string=params(platform, **{name: value[:5] + char + value[5:]})
    )
    assert_refused(response, app, 400, "bad_login")


@pytest.mark.parametrize(
    "target",
    [
        "http://localhost/activity",
        "http://localhost/lti/launch/../../activity",
        "http://localhost:8080/lti/launch",
        "https://localhost/lti/launch",
        "http://evil.example/lti/launch",
        "http://user@localhost/lti/launch",
        "//localhost/lti/launch",
        "http://localhost:notaport/lti/launch",
    ],
)
def test_the_target_must_be_this_tools_launch_url(
    app: Flask, client: FlaskClient, platform: TestPlatform, target: str
) -> None:
    response = client.get("/lti/login", query_string=params(platform, target_link_uri=target))
    assert_refused(response, app, 400, "bad_login")


def test_a_launch_url_with_a_query_is_accepted(client: FlaskClient, platform: TestPlatform) -> None:
    state, _nonce = login(client, platform, target_link_uri="http://localhost/lti/launch?x=1")
    assert state


# --- rate limit per client address ----------------------------------------------------------


def test_logins_are_rate_limited_per_client_address(make_settings: Any) -> None:
    app = create_app(make_settings(login_rate_limit="3 per day"))
    try:
        with running_platform() as platform:
            register(app, platform)
            client = app.test_client()
            query = params(platform)
            for _ in range(3):
                assert client.get("/lti/login", query_string=query).status_code == 302
            limited = client.get("/lti/login", query_string=query)
            assert limited.status_code == 429
            assert 'data-rejection="login_rate_limited"' in limited.get_data(as_text=True)
            assert "Retry-After" in limited.headers
            assert states(app) == 3
            other = client.get(
                "/lti/login", query_string=query, environ_base={"REMOTE_ADDR": "192.0.2.7"}
            )
            assert other.status_code == 302
            # Only the login is limited.
            assert client.get("/lti/jwks").status_code == 200
    finally:
        app.extensions["socle"].database.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Any) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        import redis

        connection = redis.Redis(port=port, socket_timeout=5)
        for _ in range(200):
            try:
                connection.ping()
                break
            except redis.ConnectionError:
                process.poll()
                assert process.returncode is None, "redis-server exited"
                import time

                time.sleep(0.05)  # waiting for the peer to start, not for correctness
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def test_with_redis_the_limit_is_shared_by_every_process(
    make_settings: Any, redis_url: str
) -> None:
    """Two application instances (two workers) count against one limit in Redis."""
    settings = make_settings(login_rate_limit="2 per day", redis_url=redis_url)
    first, second = create_app(settings), create_app(settings)
    try:
        with running_platform() as platform:
            register(first, platform)
            query = params(platform)
            assert first.test_client().get("/lti/login", query_string=query).status_code == 302
            assert second.test_client().get("/lti/login", query_string=query).status_code == 302
            assert first.test_client().get("/lti/login", query_string=query).status_code == 429
    finally:
        first.extensions["socle"].database.dispose()
        second.extensions["socle"].database.dispose()


# --- caps on unexpired login states ------------------------------------------------------


def test_unexpired_states_are_capped_per_address_and_in_total(make_settings: Any) -> None:
    app = create_app(make_settings(login_states_per_address=2, login_states_total=3))
    try:
        with running_platform() as platform:
            register(app, platform)
            client = app.test_client()
            query = params(platform)
            for _ in range(2):
                assert client.get("/lti/login", query_string=query).status_code == 302
            full = client.get("/lti/login", query_string=query)
            assert full.status_code == 429
            assert 'data-rejection="too_many_logins"' in full.get_data(as_text=True)
            elsewhere = {"REMOTE_ADDR": "192.0.2.7"}
            ok = client.get("/lti/login", query_string=query, environ_base=elsewhere)
            assert ok.status_code == 302
            saturated = client.get(
                "/lti/login", query_string=query, environ_base={"REMOTE_ADDR": "192.0.2.8"}
            )
            assert saturated.status_code == 503
            assert 'data-rejection="logins_saturated"' in saturated.get_data(as_text=True)
            assert states(app) == 3
    finally:
        app.extensions["socle"].database.dispose()


def test_completed_logins_do_not_count_against_the_cap(make_settings: Any) -> None:
    """Agents behind one address (a town hall's NAT) launch one after the other: a login whose
    launch went through no longer holds a place, however many launched in the last minutes;
    logins still waiting for their launch do, and a copy of a completed launch is refused."""
    app = create_app(make_settings(login_states_per_address=2))
    try:
        with running_platform() as platform:
            register(app, platform)
            launched = []
            for number in range(5):
                client = app.test_client()
                state, nonce = login(client, platform)
                token = platform.sign(platform.claims(nonce, sub=f"agent-{number}"))
                response = post_launch(client, token, state)
                assert response.status_code == 303, response.get_data(as_text=True)
                launched.append((client, token, state))
            assert states(app) == 5  # kept until they expire, for the replay check
            client, token, state = launched[-1]
            replay = post_launch(client, token, state)
            assert 'data-rejection="replayed"' in replay.get_data(as_text=True)
            waiting = app.test_client()
            query = params(platform)
            for _ in range(2):
                assert waiting.get("/lti/login", query_string=query).status_code == 302
            full = waiting.get("/lti/login", query_string=query)
            assert full.status_code == 429
            assert 'data-rejection="too_many_logins"' in full.get_data(as_text=True)
    finally:
        app.extensions["socle"].database.dispose()


def test_expired_states_are_purged_and_do_not_count(make_settings: Any) -> None:
    app = create_app(make_settings(login_states_per_address=1))
    try:
        with running_platform() as platform:
            register(app, platform)
            client = app.test_client()
            query = params(platform)
            assert client.get("/lti/login", query_string=query).status_code == 302
            with app.extensions["socle"].database.session() as session, session.begin():
                for row in session.scalars(select(LoginState)):
                    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
            assert client.get("/lti/login", query_string=query).status_code == 302
            assert states(app) == 1
    finally:
        app.extensions["socle"].database.dispose()


# --- one cookie per browser ------------------------------------------------------------


def test_one_cookie_per_browser_whatever_the_number_of_logins(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    issued = [login(client, platform) for _ in range(25)]
    names = {cookie.key for cookie in client._cookies.values()}
    assert names == {BROWSER_COOKIE}
    browser_ids = {cookie.value for cookie in client._cookies.values()}
    assert len(browser_ids) == 1
    # The oldest and the newest of these logins still launch.
    for state, nonce in (issued[0], issued[-1]):
        response = post_launch(client, platform.sign(platform.claims(nonce)), state)
        assert response.status_code == 303, response.get_data(as_text=True)


def test_a_state_issued_to_another_browser_is_refused(app: Flask, platform: TestPlatform) -> None:
    mine, theirs = app.test_client(), app.test_client()
    login(mine, platform)
    state, nonce = login(theirs, platform)
    response = post_launch(mine, platform.sign(platform.claims(nonce)), state)
    assert response.status_code == 400
    assert 'data-rejection="state_mismatch"' in response.get_data(as_text=True)


def test_the_browser_cookie_keeps_cross_site_attributes_over_https(
    app: Flask, platform: TestPlatform
) -> None:
    client = app.test_client()
    query = params(platform)
    first = client.get("/lti/login", base_url="https://localhost", query_string=query)
    second = client.get("/lti/login", base_url="https://localhost", query_string=query)
    for response in (first, second):
        cookies = response.headers.getlist("Set-Cookie")
        assert len(cookies) == 1
        cookie = cookies[0]
        assert cookie.startswith(BROWSER_COOKIE + "=")
        for attribute in ("SameSite=None", "Secure", "Partitioned", "HttpOnly", "Path=/lti/"):
            assert attribute in cookie
    state = parse_qs(urlsplit(second.headers["Location"]).query)["state"][0]
    assert state.startswith("state-")
