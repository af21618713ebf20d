"""A small LTI platform over real HTTP: key set, OAuth2 token endpoint and AGS score endpoint.

The gradebook tests need a platform that can say no. This one signs launches like
``tests.lti.forge.TestPlatform`` and also answers the tool's grade calls, with a switch per
endpoint (``token_mode``, ``score_mode``) to make it fail in the ways real LMSs fail: a 500,
a body that is not what the spec says, a hang. It checks what a strict platform checks (the
client assertion is signed by a key of the tool's JWKS, the bearer token is one it issued, the
score is a well-formed ``application/vnd.ims.lis.v1.score+json`` document) and records every
accepted score, so tests can count what reached the gradebook.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt

from tests.lti.forge import TestPlatform

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    SCORE_SCOPE,
]
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
NRPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


@dataclass
class ReceivedScore:
    lineitem: str
    body: dict[str, Any]


@dataclass
class GradebookPlatform(TestPlatform):
    """``/jwks``, ``POST /token`` and ``POST /lineitems/<id>/scores`` on 127.0.0.1.

    ``token_mode`` and ``score_mode`` say how those endpoints behave: ``ok``; ``500``;
    ``garbage`` (200 with a JSON list where an object is due); ``hang`` (the request is held
    until ``release`` is set, then answered 500).
    """

    __test__ = False

    token_mode: str = "ok"
    score_mode: str = "ok"
    tool_jwks: dict[str, Any] = field(default_factory=dict)
    scores: list[ReceivedScore] = field(default_factory=list)
    token_requests: int = 0
    score_requests: int = 0
    problems: list[str] = field(default_factory=list)
    # Course members served by ``GET /memberships`` (NRPS), ``nrps_mode`` as for the others;
    # ``page_size`` splits them into pages linked by ``Link: rel="next"``.
    members: list[dict[str, Any]] = field(default_factory=list)
    nrps_mode: str = "ok"
    nrps_page_size: int = 50
    nrps_requests: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    hanging: threading.Event = field(default_factory=threading.Event)
    _issued: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def ags_claim(self, lineitem: str = "1") -> dict[str, Any]:
        return {
            "scope": list(AGS_SCOPES),
            "lineitem": f"{self.issuer}/lineitems/{lineitem}",
            "lineitems": f"{self.issuer}/lineitems",
        }

    def nrps_claim(self) -> dict[str, Any]:
        return {
            "context_memberships_url": f"{self.issuer}/memberships",
            "service_versions": ["2.0"],
        }

    def _check_assertion(self, form: dict[str, str]) -> str | None:
        """Why the client-credentials request is refused, or ``None``."""
        if form.get("grant_type") != "client_credentials":
            return "grant_type"
        if form.get("client_assertion_type") != (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return "client_assertion_type"
        assertion = form.get("client_assertion", "")
        try:
            kid = jwt.get_unverified_header(assertion).get("kid")
            keys = {k["kid"]: k for k in self.tool_jwks.get("keys", [])}
            if kid not in keys:
                return f"unknown tool kid {kid!r}"
            key = jwt.PyJWK(keys[kid]).key
            claims = jwt.decode(
                assertion, key, algorithms=["RS256"], audience=f"{self.issuer}/token"
            )
        except jwt.PyJWTError as exc:
            return f"bad client assertion: {exc}"
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            return "assertion iss/sub is not the client id"
        if not {SCORE_SCOPE, NRPS_SCOPE} & set(form.get("scope", "").split()):
            return "neither the score nor the memberships scope asked"
        return None

    @staticmethod
    def _check_score(body: Any) -> str | None:
        if not isinstance(body, dict):
            return "score is not an object"
        for name in ("userId", "activityProgress", "gradingProgress", "timestamp"):
            if not isinstance(body.get(name), str):
                return f"score without {name}"
        if not isinstance(body.get("scoreGiven"), int | float) or not isinstance(
            body.get("scoreMaximum"), int | float
        ):
            return "score without numbers"
        if not 0 <= body["scoreGiven"] <= body["scoreMaximum"]:
            return "scoreGiven out of range"
        stamp = body["timestamp"]
        if not (stamp.endswith("+00:00") or stamp.endswith("Z")):
            return f"timestamp {stamp!r} is not ISO 8601 UTC with a colon"
        return None

    def start(self) -> None:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: Any = None, kind: str = "application/json") -> None:
                data = (
                    b""
                    if body is None
                    else (body if isinstance(body, bytes) else json.dumps(body).encode())
                )
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _misbehave(self, mode: str) -> bool:
                """Answer as ``mode`` says when it is not ``ok``; ``True`` if answered."""
                if mode == "ok":
                    return False
                if mode == "hang":
                    platform.hanging.set()
                    platform.release.wait(20)
                    self._send(500, {"error": "server_error"})
                elif mode == "garbage":
                    self._send(200, ["this", "is", "not", "a", "token"])
                else:
                    self._send(500, b"<h1>Internal Server Error</h1>", "text/html")
                return True

            def do_GET(self) -> None:
                if self.path.startswith("/memberships"):
                    self._memberships()
                    return
                if self.path != "/jwks":
                    self._send(404)
                    return
                with platform._lock:
                    platform.jwks_fetches += 1
                self._send(200, {"keys": [k.jwk for k in platform.keys]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path == "/token":
                    with platform._lock:
                        platform.token_requests += 1
                    if self._misbehave(platform.token_mode):
                        return
                    form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                    problem = platform._check_assertion(form)
                    if problem:
                        platform.problems.append(problem)
                        self._send(400, {"error": "invalid_client", "error_description": problem})
                        return
                    token = secrets.token_urlsafe(16)
                    with platform._lock:
                        platform._issued.add(token)
                    self._send(
                        200,
                        {
                            "access_token": token,
                            "token_type": "Bearer",
                            "expires_in": 3600,
                            "scope": form.get("scope", ""),
                        },
                    )
                    return
                if self.path.startswith("/lineitems/") and self.path.endswith("/scores"):
                    with platform._lock:
                        platform.score_requests += 1
                    bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    if bearer not in platform._issued:
                        platform.problems.append("score without a token we issued")
                        self._send(401, {"error": "invalid_token"})
                        return
                    if self._misbehave(platform.score_mode):
                        return
                    if self.headers.get("Content-Type") != SCORE_TYPE:
                        platform.problems.append(f"content type {self.headers.get('Content-Type')}")
                        self._send(415)
                        return
                    body = json.loads(raw or b"null")
                    problem = platform._check_score(body)
                    if problem:
                        platform.problems.append(problem)
                        self._send(400, {"error": problem})
                        return
                    lineitem = self.path.removesuffix("/scores")
                    with platform._lock:
                        platform.scores.append(ReceivedScore(lineitem, body))
                    self._send(204)
                    return
                self._send(404)

            def _memberships(self) -> None:
                with platform._lock:
                    platform.nrps_requests.append(self.path)
                bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if bearer not in platform._issued:
                    platform.problems.append("memberships without a token we issued")
                    self._send(401, {"error": "invalid_token"})
                    return
                if self._misbehave(platform.nrps_mode):
                    return
                query = parse_qs(self.path.partition("?")[2])
                page = int(query.get("page", ["1"])[0])
                size = platform.nrps_page_size
                chunk = platform.members[(page - 1) * size : page * size]
                body = json.dumps(
                    {"id": f"{platform.issuer}/memberships", "members": chunk}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", NRPS_TYPE)
                if page * size < len(platform.members):
                    rlid = query.get("rlid", [""])[0]
                    following = f"{platform.issuer}/memberships?rlid={rlid}&page={page + 1}"
                    self.send_header("Link", f'<{following}>; rel="next"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        server = self._server
        # A short poll interval: ``shutdown()`` waits for it, at the end of every test.
        threading.Thread(target=lambda: server.serve_forever(0.05), daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        super().stop()

    def wait_hanging(self, timeout: float = 10.0) -> bool:
        """Wait until a request is held by a ``hang`` endpoint."""
        return self.hanging.wait(timeout)
