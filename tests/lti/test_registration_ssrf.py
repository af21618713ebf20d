"""Dynamic registration is unauthenticated: it must not fetch what it should not, nor alter
what is registered.

A decoy HTTP server on 127.0.0.1 serves a perfectly valid platform configuration and counts
every request; each bypass below must be refused with the decoy counting zero and every table
keeping its row count.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_tool.db import Base
from lti_tool.lti.registrations import PlatformInput, add_platform
from lti_tool.lti.safe_fetch import FetchPolicy, FetchRefused, check_url, fetch_json
from lti_tool.models import Platform
from tests.lti.test_dynamic_registration import RegisteringPlatform


class Decoy:
    """Answers anything like a willing platform would, and counts the requests."""

    def __init__(self, body: bytes | None = None, *, redirect_to: str | None = None) -> None:
        self.requests: list[str] = []
        decoy = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                decoy.requests.append(f"{self.command} {self.path}")
                if redirect_to is not None:
                    self.send_response(302)
                    self.send_header("Location", redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = body if body is not None else json.dumps(decoy.configuration()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def configuration(self) -> dict[str, Any]:
        base = "https://moodle.example.org"
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/auth",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "registration_endpoint": f"{base}/register",
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "moodle"
            },
        }

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def decoy() -> Iterator[Decoy]:
    server = Decoy()
    yield server
    server.stop()


def row_counts(app: Flask) -> dict[str, int]:
    with app.extensions["socle"].database.session() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def app_with(make_app: Any, make_settings: Any, **overrides: Any) -> Flask:
    return make_app(make_settings(**overrides))


def bypasses(port: int) -> list[str]:
    path = "openid-configuration"
    return [
        # urlsplit reads moodle.example.org, requests/urllib3 connect to 127.0.0.1
        f"http://127.0.0.1:{port}\\@moodle.example.org/{path}",
        f"https://127.0.0.1:{port}\\@moodle.example.org/{path}",
        f"http://moodle.example.org@127.0.0.1:{port}/{path}",
        f"https://moodle.example.org:x@127.0.0.1:{port}/{path}",
        f"http://127.0.0.1:{port}/{path}",
        f"https://127.0.0.1:{port}/{path}",
        f"http://2130706433:{port}/{path}",
        f"http://0x7f.0.0.1:{port}/{path}",
        f"http://0x7f000001:{port}/{path}",
        f"http://0177.0.0.1:{port}/{path}",
        f"http://127.1:{port}/{path}",
        f"http://127.0.1:{port}/{path}",
        f"https://[::1]:{port}/{path}",
        f"https://[::ffff:127.0.0.1]:{port}/{path}",
        f"https://[0:0:0:0:0:ffff:7f00:1]:{port}/{path}",
        f"https://0.0.0.0:{port}/{path}",
        f"https://169.254.169.254/{path}",
        f"https://moodle.example.org\t.127.0.0.1:{port}/{path}",
        f"https://moodle.example.org%2F@127.0.0.1:{port}/{path}",
        # a real name that resolves to loopback, resolved by the system
        f"https://localhost:{port}/{path}",
        f"https://sub.localhost:{port}/{path}",
        f"http://localhost:{port}/{path}",
        # brackets that urlsplit refuses to parse at all (an exception, not a refusal)
        f"https://[::1/{path}",
        f"https://a[b]/{path}",
        f"https://moodle.example.org]/{path}",
    ]


BYPASS_IDS = [str(i) for i in range(len(bypasses(1)))]


@pytest.mark.parametrize("allowed", [("moodle.example.org",), ("*",)], ids=["listed", "any"])
@pytest.mark.parametrize("index", range(len(bypasses(1))), ids=BYPASS_IDS)
def test_bypass_urls_are_refused_before_any_request(
    make_settings: Any, make_app: Any, decoy: Decoy, allowed: tuple[str, ...], index: int
) -> None:
    app = app_with(make_app, make_settings, registration_hosts=allowed)
    before = row_counts(app)
    url = bypasses(decoy.port)[index]
    response = app.test_client().get(
        "/lti/register", query_string={"openid_configuration": url, "registration_token": "t"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code in {400, 403, 502}, page
    assert "lti_close.js" not in page
    assert decoy.requests == []
    assert row_counts(app) == before


def test_a_name_that_resolves_to_loopback_is_refused(
    make_settings: Any, make_app: Any, decoy: Decoy
) -> None:
    app = app_with(make_app, make_settings, registration_hosts=("moodle.example.org",))
    app.config["SOCLE_RESOLVER"] = lambda host, port: ["127.0.0.1"]
    before = row_counts(app)
    response = app.test_client().get("/lti/register", query_string={
        "openid_configuration": f"https://moodle.example.org:{decoy.port}/openid-configuration",
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page
    assert 'data-rejection="registration_private_address"' in page
    assert decoy.requests == []
    assert row_counts(app) == before


@pytest.mark.parametrize(
    "addresses",
    [
        ["93.184.215.14", "127.0.0.1"],  # one good, one bad answer: refused, not "try the good one"
        ["10.0.0.7"],
        ["172.16.0.1"],
        ["192.168.1.1"],
        ["100.64.0.1"],
        ["169.254.169.254"],
        ["224.0.0.1"],
        ["240.0.0.1"],
        ["0.0.0.0"],
        ["::1"],
        ["::"],
        ["fe80::1"],
        ["fc00::1"],
        ["ff02::1"],
        ["::ffff:127.0.0.1"],
        ["2002:7f00:1::1"],
        ["fec0::1"],  # deprecated site-local, still routed in some networks
    ],
)
def test_every_resolved_address_is_checked(addresses: list[str]) -> None:
    policy = FetchPolicy(allowed_hosts=("moodle.example.org",), resolver=lambda h, p: addresses)
    checked = check_url("https://moodle.example.org/x", policy)
    with pytest.raises(FetchRefused) as refused:
        fetch_json("GET", checked, policy)
    assert refused.value.code == "private_address"


def test_plain_http_is_refused_for_hosts_not_local(
    make_settings: Any, make_app: Any, decoy: Decoy
) -> None:
    app = app_with(make_app, make_settings, registration_hosts=("moodle.example.org",))
    app.config["SOCLE_RESOLVER"] = lambda host, port: ["93.184.215.14"]
    response = app.test_client().get("/lti/register", query_string={
        "openid_configuration": "http://moodle.example.org/openid-configuration",
    })
    assert response.status_code == 400
    assert 'data-rejection="registration_not_https"' in response.get_data(as_text=True)


@pytest.fixture
def local_app(make_settings: Any, make_app: Any) -> Flask:
    app = app_with(
        make_app,
        make_settings,
        registration_hosts=("127.0.0.1",),
        registration_local_hosts=("127.0.0.1",),
    )
    return app


def test_redirects_are_not_followed(local_app: Flask, decoy: Decoy) -> None:
    redirecting = Decoy(redirect_to=f"http://127.0.0.1:{decoy.port}/openid-configuration")
    try:
        before = row_counts(local_app)
        response = local_app.test_client().get("/lti/register", query_string={
            "openid_configuration": f"http://127.0.0.1:{redirecting.port}/openid-configuration",
        })
    finally:
        redirecting.stop()
    assert response.status_code == 502
    assert 'data-rejection="registration_redirect"' in response.get_data(as_text=True)
    assert len(redirecting.requests) == 1
    assert decoy.requests == []
    assert row_counts(local_app) == before


@pytest.mark.parametrize(
    "field", ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
              "registration_endpoint"]
)
@pytest.mark.parametrize(
    "elsewhere",
    ["https://evil.example/x", "http://localhost:{port}/x", "http://2130706433:{port}/x",
     "http://127.0.0.1:{port}\\@127.0.0.1/x", "ftp://127.0.0.1/x",
     # the platform's own host, another port: another service
     "http://127.0.0.1:{port}/x"],
)
def test_every_endpoint_of_the_configuration_is_on_the_platform_host(
    local_app: Flask, decoy: Decoy, field: str, elsewhere: str
) -> None:
    platform = RegisteringPlatform(overrides={field: elsewhere.format(port=decoy.port)})
    try:
        before = row_counts(local_app)
        response = local_app.test_client().get("/lti/register", query_string={
            "openid_configuration": f"{platform.url}/.well-known/openid-configuration",
        })
    finally:
        platform.stop()
    page = response.get_data(as_text=True)
    assert response.status_code in {400, 502}, page
    assert field in page
    assert platform.received == []
    assert decoy.requests == []
    assert row_counts(local_app) == before


def test_errors_do_not_echo_the_connection_error(local_app: Flask) -> None:
    closed = Decoy()
    port = closed.port
    closed.stop()  # nothing listens there any more
    response = local_app.test_client().get("/lti/register", query_string={
        "openid_configuration": f"http://127.0.0.1:{port}/openid-configuration",
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 502
    assert 'data-rejection="registration_unreachable"' in page
    assert "pas pu être jointe" in page
    for leak in ("Errno", "refused", "Connection", "HTTPConnection", str(port)):
        assert leak not in page


def test_a_response_larger_than_the_bound_is_refused(local_app: Flask) -> None:
    big = Decoy(body=b"{" + b" " * (1024 * 1024 + 1) + b"}")
    try:
        before = row_counts(local_app)
        response = local_app.test_client().get("/lti/register", query_string={
            "openid_configuration": f"http://127.0.0.1:{big.port}/openid-configuration",
        })
    finally:
        big.stop()
    assert response.status_code == 502
    assert 'data-rejection="registration_too_large"' in response.get_data(as_text=True)
    assert row_counts(local_app) == before


def test_the_deadline_covers_the_whole_fetch(decoy: Decoy) -> None:
    """The clock jumps past the deadline once the platform has the request: the fetch gives
    up instead of reading on."""
    policy = FetchPolicy(
        allowed_hosts=("127.0.0.1",),
        local_hosts=("127.0.0.1",),
        timeout=5.0,
        clock=lambda: 100.0 if decoy.requests else 0.0,
    )
    checked = check_url(f"http://127.0.0.1:{decoy.port}/openid-configuration", policy)
    with pytest.raises(FetchRefused) as refused:
        fetch_json("GET", checked, policy)
    assert refused.value.code == "too_slow"
    assert len(decoy.requests) == 1


class Stalling:
    """Sends its headers, then nothing: only the deadline ends the fetch."""

    def __init__(self) -> None:
        self.release = threading.Event()
        stalling = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "100")
                self.end_headers()
                self.wfile.flush()
                stalling.release.wait(30)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_server_that_stalls_is_given_up_on() -> None:
    server = Stalling()
    policy = FetchPolicy(
        allowed_hosts=("127.0.0.1",), local_hosts=("127.0.0.1",), timeout=0.2
    )
    try:
        checked = check_url(f"http://127.0.0.1:{server.port}/slow", policy)
        with pytest.raises(FetchRefused) as refused:
            fetch_json("GET", checked, policy)
    finally:
        server.stop()
    assert refused.value.code in {"too_slow", "unreachable"}


def _registered(app: Flask, issuer: str, client_id: str, **extra: Any) -> None:
    with app.extensions["socle"].database.session() as session, session.begin():
        add_platform(session, PlatformInput(
            issuer=issuer, client_id=client_id,
            auth_login_url=f"{issuer}/real-auth", auth_token_url=f"{issuer}/real-token",
            key_set_url=f"{issuer}/real-jwks", deployment_ids=("1",), **extra,
        ))


def test_registration_never_modifies_an_existing_registration(local_app: Flask) -> None:
    platform = RegisteringPlatform()
    try:
        _registered(local_app, platform.url, "dyn-client-42", store_personal_data=True)
        before = row_counts(local_app)
        response = local_app.test_client().get("/lti/register", query_string={
            "openid_configuration": f"{platform.url}/.well-known/openid-configuration",
        })
    finally:
        platform.stop()
    page = response.get_data(as_text=True)
    assert response.status_code == 409, page
    assert 'data-rejection="registration_exists"' in page
    assert "socle platform add --update" in page
    assert row_counts(local_app) == before
    with local_app.extensions["socle"].database.session() as session:
        (row,) = session.scalars(select(Platform))
        assert row.key_set_url == f"{platform.url}/real-jwks"
        assert row.auth_login_url == f"{platform.url}/real-auth"
        assert row.store_personal_data is True
        assert [d.deployment_id for d in row.deployments] == ["1"]


def test_registration_adds_a_new_client_id_beside_an_existing_one(local_app: Flask) -> None:
    platform = RegisteringPlatform()
    try:
        _registered(local_app, platform.url, "older-client", store_personal_data=True)
        response = local_app.test_client().get("/lti/register", query_string={
            "openid_configuration": f"{platform.url}/.well-known/openid-configuration",
        })
    finally:
        platform.stop()
    assert response.status_code == 200, response.get_data(as_text=True)
    with local_app.extensions["socle"].database.session() as session:
        rows = {p.client_id: p for p in session.scalars(select(Platform))}
        assert set(rows) == {"older-client", "dyn-client-42"}
        assert rows["older-client"].key_set_url == f"{platform.url}/real-jwks"
        assert rows["older-client"].store_personal_data is True
        assert rows["dyn-client-42"].store_personal_data is False


def test_the_registration_token_never_reaches_a_log(
    local_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    token = "reg-token-6f1d2c"
    platform = RegisteringPlatform()
    caplog.set_level(logging.DEBUG)
    try:
        ok = local_app.test_client().get("/lti/register", query_string={
            "openid_configuration": f"{platform.url}/.well-known/openid-configuration",
            "registration_token": token,
        })
        again = local_app.test_client().get("/lti/register", query_string={
            "openid_configuration": f"{platform.url}/.well-known/openid-configuration",
            "registration_token": token,
        })
    finally:
        platform.stop()
    assert ok.status_code == 200
    assert again.status_code == 409
    assert platform.authorization == [f"Bearer {token}"] * 2
    assert caplog.records  # the flow did log, just not the token
    assert token not in caplog.text
    assert token not in again.get_data(as_text=True)


def test_platform_add_changes_a_registration_only_with_update(
    clean_database: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from lti_tool.cli import main

    monkeypatch.setenv("SOCLE_DATABASE_URL", clean_database)
    monkeypatch.setenv("SOCLE_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("SOCLE_SECRET_KEY", "cli-test-secret")
    base = "https://moodle.example.org"
    add = [
        "platform", "add", "--issuer", base, "--client-id", "abc", "--deployment-id", "1",
        "--auth-login-url", f"{base}/auth", "--auth-token-url", f"{base}/token",
        "--key-set-url", f"{base}/jwks", "--store-personal-data",
    ]
    cli = CliRunner()
    assert cli.invoke(main, add).exit_code == 0
    moved = [*add]
    moved[moved.index(f"{base}/jwks")] = f"{base}/other-jwks"
    refused = cli.invoke(main, moved)
    assert refused.exit_code == 1
    assert "--update" in refused.output
    assert f"{base}/jwks" in cli.invoke(main, ["platform", "list"]).output
    # the same settings with one more deployment id: appended, as before
    more = [*add]
    more[more.index("1")] = "2"
    assert cli.invoke(main, more).exit_code == 0
    updated = cli.invoke(main, [*moved, "--update"])
    assert updated.exit_code == 0, updated.output
    listing = cli.invoke(main, ["platform", "list"]).output
    assert f"{base}/other-jwks" in listing
    assert "deployments: 1, 2" in listing
