"""A test platform: its own RSA keys served as a real JWKS over HTTP, and id_tokens it signs.

It lets each hardening test change exactly one thing in an otherwise valid launch. The full
flows are tested against the demo LMS (lti1p3platform) in ``test_flow.py``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import jwt
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


@dataclass
class SigningKey:
    kid: str
    pem: str
    jwk: dict[str, Any]

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        key = RSAKey.generate_key(2048)
        kid = kid or uuid.uuid4().hex
        public = dict(key.as_dict(private=False))
        public.update({"kid": kid, "alg": "RS256", "use": "sig"})
        return cls(kid, key.as_pem(private=True).decode(), public)


@dataclass
class TestPlatform:
    """Serves ``/jwks`` on 127.0.0.1 and counts how often it is fetched."""

    __test__ = False

    keys: list[SigningKey] = field(default_factory=lambda: [SigningKey.generate()])
    client_id: str = "socle-client"
    deployment_id: str = "deployment-1"
    jwks_fetches: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def issuer(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def key(self) -> SigningKey:
        return self.keys[0]

    def start(self) -> None:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/jwks":
                    self.send_error(404)
                    return
                platform.jwks_fetches += 1
                body = json.dumps({"keys": [k.jwk for k in platform.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def registration_args(self) -> list[str]:
        return [
            "--issuer",
            self.issuer,
            "--client-id",
            self.client_id,
            "--deployment-id",
            self.deployment_id,
            "--auth-login-url",
            f"{self.issuer}/auth",
            "--auth-token-url",
            f"{self.issuer}/token",
            "--key-set-url",
            f"{self.issuer}/jwks",
        ]

    def claims(self, nonce: str, **changes: Any) -> dict[str, Any]:
        """A valid learner resource-link launch; ``changes`` replace (or, as None, drop) claims."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": "agent-7f3a",
            "exp": now + 300,
            "iat": now,
            "nonce": nonce,
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": self.deployment_id,
            CLAIM + "target_link_uri": "http://localhost/lti/launch",
            CLAIM + "resource_link": {"id": "activity-1", "title": "Socle commun"},
            CLAIM + "roles": [LEARNER],
            CLAIM + "context": {"id": "course-1", "label": "NUM", "title": "Numérique"},
            CLAIM + "custom": {"parcours": "socle-commun"},
            CLAIM + "launch_presentation": {"document_target": "iframe", "locale": "fr-FR"},
            "name": "Karim Benali",
            "email": "karim.benali@example.org",
        }
        for name, value in changes.items():
            key = name if name in body or not name.startswith("lti_") else CLAIM + name[4:]
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        return body

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key: SigningKey | None = None,
        headers: dict[str, Any] | None = None,
        algorithm: str = "RS256",
    ) -> str:
        key = key or self.key
        header = {"kid": key.kid} if headers is None else headers
        return jwt.encode(claims, key.pem, algorithm=algorithm, headers=header)


@contextmanager
def running_platform() -> Iterator[TestPlatform]:
    platform = TestPlatform()
    platform.start()
    try:
        yield platform
    finally:
        platform.stop()


def login(client: FlaskClient, platform: TestPlatform, **extra: str) -> tuple[str, str]:
    """Run the OIDC login against the tool; returns (state, nonce) from its redirect."""
    params = {
        "iss": platform.issuer,
        "login_hint": "user-hint",
        "target_link_uri": "http://localhost/lti/launch",
        "client_id": platform.client_id,
        "lti_deployment_id": platform.deployment_id,
        **extra,
    }
    response = client.get("/lti/login", query_string=params)
    assert response.status_code == 302, response.get_data(as_text=True)
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return query["state"][0], query["nonce"][0]


def unsigned_token(claims: dict[str, Any], header: dict[str, Any]) -> str:
    """An ``alg: none`` token, built by hand since PyJWT refuses to make one with a key."""
    import base64

    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


class RegisteredPlatform(Protocol):
    issuer: str
    client_id: str
    deployment_id: str


def register(app: Flask, platform: RegisteredPlatform, **extra: Any) -> None:
    """Register a test platform (its /auth, /token and /jwks) as `socle platform add` would."""
    from lti_tool.lti.registrations import PlatformInput, add_platform

    database = app.extensions["socle"].database
    with database.session() as session, session.begin():
        add_platform(
            session,
            PlatformInput(
                issuer=platform.issuer,
                client_id=platform.client_id,
                auth_login_url=f"{platform.issuer}/auth",
                auth_token_url=f"{platform.issuer}/token",
                key_set_url=f"{platform.issuer}/jwks",
                deployment_ids=(platform.deployment_id,),
                **extra,
            ),
        )
    app.extensions["socle"].framing.invalidate()
