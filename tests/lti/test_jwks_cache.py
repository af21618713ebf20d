"""Platform key sets: one slow platform never blocks another, failures and keys expire.

Real HTTP servers on 127.0.0.1 play the platforms' JWKS endpoints; expiry and backoff are
driven by an injected clock, never by waiting.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.lti.launch import JwksCache, LaunchRejected
from tests.lti.forge import SigningKey, TestPlatform, login, register
from tests.lti.test_launch_security import post_launch


class KeySetServer:
    """A platform's JWKS endpoint whose answer, headers and pace each test sets."""

    def __init__(self) -> None:
        self.keys = [SigningKey.generate()]
        self.status = 200
        self.headers: dict[str, str] = {}
        self.body: bytes | None = None
        self.gate: threading.Event | None = None
        self.entered = threading.Event()
        self.fetches = 0
        self.send_length = True
        self.trickle: float | None = None  # seconds between two bytes of the body
        self.sent = 0
        self.stopped = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                server.entered.set()
                if server.gate is not None:
                    server.gate.wait(60)
                body = server.body
                if body is None:
                    body = json.dumps({"keys": [k.jwk for k in server.keys]}).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                for name, value in server.headers.items():
                    self.send_header(name, value)
                if server.send_length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.trickle is None:
                    self.wfile.write(body)
                    return
                for index in range(len(body)):  # a byte now and then: no read ever times out
                    try:
                        self.wfile.write(body[index : index + 1])
                        self.wfile.flush()
                    except OSError:
                        return
                    server.sent += 1
                    if server.stopped.is_set():
                        return
                    time.sleep(server.trickle)

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks"

    def stop(self) -> None:
        self.stopped.set()
        if self.gate is not None:
            self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[KeySetServer]:
    key_set = KeySetServer()
    yield key_set
    key_set.stop()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cache(clock: Clock, **options: Any) -> JwksCache:
    return JwksCache(requests.Session(), 5.0, 60, clock=clock, **options)


# --- one slow platform -----------------------------------------------------------------


def test_a_hanging_platform_does_not_block_another_platforms_launch(
    make_settings: Any, make_app: Any
) -> None:
    """A's JWKS hangs; B's whole launch completes meanwhile; then A is released and passes."""
    app = make_app(make_settings(http_timeout=20))
    a, b = KeySetServer(), KeySetServer()
    platform_a, platform_b = TestPlatform(keys=a.keys), TestPlatform(keys=b.keys)
    platform_a._server, platform_b._server = a.httpd, b.httpd
    platform_b.client_id = "client-b"
    a.gate = threading.Event()
    results: dict[str, int] = {}
    try:
        register(app, platform_a)
        register(app, platform_b)
        client_a, client_b = app.test_client(), app.test_client()
        state_a, nonce_a = login(client_a, platform_a)
        token_a = platform_a.sign(platform_a.claims(nonce_a))

        def launch_a() -> None:
            results["a"] = post_launch(client_a, token_a, state_a).status_code

        thread = threading.Thread(target=launch_a)
        thread.start()
        assert a.entered.wait(20), "A's JWKS was never requested"

        state_b, nonce_b = login(client_b, platform_b)
        response = post_launch(client_b, platform_b.sign(platform_b.claims(nonce_b)), state_b)
        assert response.status_code == 303, response.get_data(as_text=True)
        assert "a" not in results  # B finished while A was still held

        a.gate.set()
        thread.join(30)
        assert results["a"] == 303  # A's fetch was not timed out by waiting behind B
    finally:
        a.stop()
        b.stop()


def test_launches_of_one_platform_share_its_single_fetch(server: KeySetServer) -> None:
    clock = Clock()
    jwks = cache(clock)
    server.gate = threading.Event()
    found: list[Any] = []
    threads = [
        threading.Thread(target=lambda: found.append(jwks.key(server.url, server.keys[0].kid)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    assert server.entered.wait(10)
    server.gate.set()
    for thread in threads:
        thread.join(10)
    assert [k["kid"] for k in found] == [server.keys[0].kid] * 3
    assert server.fetches == 1


# --- expiry ----------------------------------------------------------------------------


def test_a_removed_key_stops_being_accepted_after_max_age(server: KeySetServer) -> None:
    clock = Clock()
    jwks = cache(clock)
    old = server.keys[0]
    server.headers["Cache-Control"] = "public, max-age=600"
    assert jwks.key(server.url, old.kid) is not None
    server.keys[:] = [SigningKey.generate()]  # the platform withdraws the old key
    clock.now += 599
    assert jwks.key(server.url, old.kid) is not None  # still within max-age
    assert server.fetches == 1
    clock.now += 1
    assert jwks.key(server.url, old.kid) is None
    assert server.fetches >= 2


@pytest.mark.parametrize(
    ("header", "lifetime"),
    [
        (None, 3600),  # no Cache-Control: one hour
        ("max-age=120", 120),
        ("max-age=1", 60),  # bounded below
        ("max-age=99999999", 86400),  # bounded above
        ("no-store", 60),
    ],
)
def test_key_set_lifetime_follows_cache_control_within_bounds(
    server: KeySetServer, header: str | None, lifetime: int
) -> None:
    clock = Clock()
    jwks = cache(clock)
    if header:
        server.headers["Cache-Control"] = header
    kid = server.keys[0].kid
    jwks.key(server.url, kid)
    clock.now += lifetime - 1
    jwks.key(server.url, kid)
    assert server.fetches == 1
    clock.now += 1
    jwks.key(server.url, kid)
    assert server.fetches == 2


# --- failures --------------------------------------------------------------------------


def test_a_failed_fetch_is_remembered_with_a_growing_backoff(server: KeySetServer) -> None:
    clock = Clock()
    jwks = cache(clock, failure_backoff=10, failure_backoff_max=25)
    kid = server.keys[0].kid
    server.status = 500
    with pytest.raises(LaunchRejected) as first:
        jwks.key(server.url, kid)
    assert (first.value.code, first.value.status) == ("jwks_unavailable", 502)
    with pytest.raises(LaunchRejected) as cached:
        jwks.key(server.url, kid)
    assert (cached.value.code, cached.value.status) == ("jwks_unavailable", 503)
    assert server.fetches == 1  # the dead platform is not asked again
    clock.now += 10
    with pytest.raises(LaunchRejected):
        jwks.key(server.url, kid)
    assert server.fetches == 2
    clock.now += 19  # the second failure waits 20 s
    with pytest.raises(LaunchRejected):
        jwks.key(server.url, kid)
    assert server.fetches == 2
    clock.now += 1
    with pytest.raises(LaunchRejected):
        jwks.key(server.url, kid)
    assert server.fetches == 3
    clock.now += 25  # capped at the maximum
    server.status = 200
    assert jwks.key(server.url, kid) is not None
    assert server.fetches == 4


def test_launches_of_a_dead_platform_fail_fast_with_a_clear_page(
    app: Flask, client: FlaskClient, server: KeySetServer
) -> None:
    platform = TestPlatform(keys=server.keys)
    platform._server = server.httpd
    register(app, platform)
    server.status = 503
    for expected in (502, 503, 503):
        state, nonce = login(client, platform)
        response = post_launch(client, platform.sign(platform.claims(nonce)), state)
        assert response.status_code == expected
        body = response.get_data(as_text=True)
        assert 'data-rejection="jwks_unavailable"' in body
        assert "<h1" in body
    assert server.fetches == 1


def test_a_key_set_that_trickles_is_cut_at_the_deadline(server: KeySetServer) -> None:
    """Each byte comes well within the per-read timeout, the whole would take minutes: the
    fetch gives up at its deadline and closes the connection instead of holding a thread."""
    jwks = JwksCache(requests.Session(), 0.5, 60, clock=Clock())
    keys = json.dumps({"keys": [k.jwk for k in server.keys]}).encode()
    server.body = b" " * 2000 + keys  # JSON allows leading white space
    server.trickle = 0.05
    with pytest.raises(LaunchRejected) as refused:
        jwks.key(server.url, server.keys[0].kid)
    assert refused.value.code == "jwks_unavailable"
    assert "too slow" in refused.value.detail
    assert 0 < server.sent < len(server.body)  # bytes came, and it was cut before the end


def test_a_key_set_that_redirects_is_refused_and_not_followed(server: KeySetServer) -> None:
    target = KeySetServer()
    try:
        server.status = 302
        server.headers = {"Location": target.url}
        with pytest.raises(LaunchRejected) as refused:
            cache(Clock()).key(server.url, server.keys[0].kid)
        assert refused.value.code == "jwks_unavailable"
        assert "redirects" in refused.value.detail
        assert target.fetches == 0
    finally:
        target.stop()


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no length"])
def test_an_oversized_key_set_is_refused(server: KeySetServer, declared: bool) -> None:
    jwks = cache(Clock(), max_bytes=64 * 1024)
    padding = "x" * (200 * 1024)
    server.body = json.dumps({"keys": [k.jwk for k in server.keys], "pad": padding}).encode()
    server.send_length = declared
    with pytest.raises(LaunchRejected) as refused:
        jwks.key(server.url, server.keys[0].kid)
    assert refused.value.code == "jwks_unavailable"
    assert "bytes" in refused.value.detail
