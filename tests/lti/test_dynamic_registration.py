"""LTI Dynamic Registration against a platform served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.app import create_app
from lti_tool.models import Platform


class RegisteringPlatform:
    """Serves an OpenID configuration and a registration endpoint, records what it got."""

    def __init__(
        self,
        *,
        issuer_host: str | None = None,
        deployment: bool = True,
        overrides: dict[str, Any] | None = None,
    ) -> None:
        self.received: list[dict[str, Any]] = []
        self.authorization: list[str | None] = []
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                base = platform.url
                issuer = base if issuer_host is None else f"http://{issuer_host}"
                self._json(200, {
                    "issuer": issuer,
                    "authorization_endpoint": f"{base}/auth",
                    "token_endpoint": f"{base}/token",
                    "jwks_uri": f"{base}/jwks",
                    "registration_endpoint": f"{base}/register",
                    "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                        "product_family_code": "moodle", "version": "4.5",
                    },
                    **(overrides or {}),
                })

            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                platform.received.append(json.loads(self.rfile.read(length)))
                platform.authorization.append(self.headers.get("Authorization"))
                tool: dict[str, Any] = {"domain": "127.0.0.1"}
                if deployment:
                    tool["deployment_id"] = "7"
                self._json(200, {
                    "client_id": "dyn-client-42",
                    "https://purl.imsglobal.org/spec/lti-tool-configuration": tool,
                })

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def platform() -> Iterator[RegisteringPlatform]:
    server = RegisteringPlatform()
    yield server
    server.stop()


@pytest.fixture
def open_app(make_settings: Any) -> Iterator[Flask]:
    application = create_app(make_settings(
        registration_hosts=("127.0.0.1",), registration_local_hosts=("127.0.0.1",)
    ))
    yield application
    application.extensions["socle"].database.dispose()


def platforms(app: Flask) -> list[tuple[str, str, str, list[str]]]:
    with app.extensions["socle"].database.session() as session:
        return [
            (p.issuer, p.client_id, p.auth_login_url, [d.deployment_id for d in p.deployments])
            for p in session.scalars(select(Platform))
        ]


def test_registration_stores_the_platform_and_tells_the_lms(
    open_app: Flask, platform: RegisteringPlatform
) -> None:
    response = open_app.test_client().get("/lti/register", query_string={
        "openid_configuration": f"{platform.url}/.well-known/openid-configuration",
        "registration_token": "one-time-token",
    })
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "lti_close.js" in response.get_data(as_text=True)
    (sent,) = platform.received
    assert platform.authorization == ["Bearer one-time-token"]
    assert sent["initiate_login_uri"] == "http://localhost/lti/login"
    assert sent["redirect_uris"] == ["http://localhost/lti/launch"]
    assert sent["jwks_uri"] == "http://localhost/lti/jwks"
    tool_conf = sent["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert tool_conf["messages"][0]["type"] == "LtiDeepLinkingRequest"
    assert platforms(open_app) == [
        (platform.url, "dyn-client-42", f"{platform.url}/auth", ["7"])
    ]


def test_registration_is_refused_for_hosts_not_allowed(
    app: Flask, platform: RegisteringPlatform
) -> None:
    response = app.test_client().get("/lti/register", query_string={
        "openid_configuration": f"{platform.url}/.well-known/openid-configuration",
    })
    assert response.status_code == 403
    assert 'data-rejection="registration_not_allowed"' in response.get_data(as_text=True)
    assert platform.received == []
    assert platforms(app) == []


@pytest.mark.parametrize(
    ("kwargs", "detail"),
    [
        ({"issuer_host": "evil.example"}, 'data-rejection="registration_endpoint_elsewhere"'),
        ({"deployment": False}, 'data-rejection="registration_no_deployment_id"'),
    ],
)
def test_registration_refuses_inconsistent_platforms(
    open_app: Flask, kwargs: dict[str, Any], detail: str
) -> None:
    server = RegisteringPlatform(**kwargs)
    try:
        response = open_app.test_client().get("/lti/register", query_string={
            "openid_configuration": f"{server.url}/.well-known/openid-configuration",
        })
    finally:
        server.stop()
    assert response.status_code == 502
    assert detail in response.get_data(as_text=True)
    assert platforms(open_app) == []
