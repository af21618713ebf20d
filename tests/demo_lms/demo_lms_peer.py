"""A tiny LTI tool for testing the demo LMS: an RSA key, a JWKS server, and the messages a tool
sends (authentication request, deep-linking response, client assertion).

It is deliberately written from the specifications with PyJWT, not with the project's tool
code, so the demo LMS is checked against an independent peer.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import flask
import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient
from jwt.algorithms import RSAAlgorithm
from werkzeug.serving import make_server

from lti_tool.demo_lms import CLIENT_ID, DEPLOYMENT_ID, ToolEndpoints

LMS_BASE_URL = "http://127.0.0.1:5000"
"""Base URL the demo LMS is created with in tests served by the Flask test client."""

DL_RESPONSE = "LtiDeepLinkingResponse"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"


@dataclass
class ToolKey:
    """One RSA key of the test tool, with its `kid`."""

    kid: str
    private_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def public_jwk(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def sign(self, claims: Mapping[str, Any], kid: str | None = None) -> str:
        return jwt.encode(
            dict(claims), self.private_key, algorithm="RS256", headers={"kid": kid or self.kid}
        )


class TestTool:
    """The tool side: serves its JWKS over real HTTP (the LMS fetches it with `requests`)."""

    __test__ = False

    def __init__(self, key: ToolKey) -> None:
        self.key = key
        self.published: list[ToolKey] = [key]
        self.jwks_fetches = 0
        self.base_url = ""
        app = flask.Flask(__name__)

        @app.get("/lti/jwks")
        def jwks() -> flask.Response:
            self.jwks_fetches += 1
            return flask.jsonify({"keys": [k.public_jwk() for k in self.published]})

        app.add_url_rule("/lti/login", view_func=self._login, methods=["GET", "POST"])
        app.add_url_rule("/lti/launch", view_func=self._launch, methods=["POST"])
        self._app = app
        self.platform_issuer = ""
        self._pending: dict[str, str] = {}

    # --- a minimal tool front end, for browser tests ---------------------------------------

    def _login(self) -> flask.Response:
        """Third-party initiated login: answer with the authentication request."""
        params = flask.request.values
        assert params["iss"] == self.platform_issuer
        state, nonce = uuid.uuid4().hex, uuid.uuid4().hex
        self._pending[state] = nonce  # kept server-side: no third-party cookie needed
        query = auth_params(params, self.endpoints.launch_url, state=state, nonce=nonce)
        return flask.redirect(f"{self.platform_issuer}/auth?{urlencode(query)}")

    def _launch(self) -> str:
        """Verify the id_token with the platform's JWKS and show what was launched."""
        form = flask.request.form
        nonce = self._pending.pop(form["state"])
        keys = requests.get(f"{self.platform_issuer}/jwks", timeout=30).json()["keys"]
        kid = jwt.get_unverified_header(form["id_token"])["kid"]
        (jwk,) = [key for key in keys if key["kid"] == kid]
        claims = jwt.decode(
            form["id_token"],
            jwt.PyJWK(jwk).key,
            algorithms=["RS256"],
            audience=CLIENT_ID,
            issuer=self.platform_issuer,
        )
        assert claims["nonce"] == nonce
        message_type = claims[CLAIM + "message_type"]
        if message_type == "LtiDeepLinkingRequest":
            settings = claims[DL_CLAIM + "deep_linking_settings"]
            response = self.key.sign(
                self.deep_link_response(
                    self.platform_issuer, settings["data"], [resource_link_item()]
                )
            )
            return flask.render_template_string(
                _TOOL_PAGE,
                message_type=message_type,
                action=settings["deep_link_return_url"],
                jwt=response,
            )
        return flask.render_template_string(
            _TOOL_PAGE,
            message_type=message_type,
            name=claims["name"],
            custom=claims.get(CLAIM + "custom", {}),
            locale=claims[CLAIM + "launch_presentation"]["locale"],
        )

    @contextmanager
    def serving(self) -> Iterator[TestTool]:
        server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.base_url = f"http://127.0.0.1:{server.server_port}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            thread.join(timeout=5)

    @property
    def endpoints(self) -> ToolEndpoints:
        return ToolEndpoints(
            login_url=f"{self.base_url}/lti/login",
            launch_url=f"{self.base_url}/lti/launch",
            deep_link_url=f"{self.base_url}/lti/launch",
            jwks_url=f"{self.base_url}/lti/jwks",
        )

    # --- messages the tool sends -----------------------------------------------------------

    def client_assertion(self, token_url: str, **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": CLIENT_ID,
            "sub": CLIENT_ID,
            "aud": token_url,
            "iat": now,
            "exp": now + 60,
            "jti": str(uuid.uuid4()),
        }
        claims.update(overrides)
        return self.key.sign({k: v for k, v in claims.items() if v is not None})

    def deep_link_response(
        self, issuer: str, data: str | None, items: list[dict[str, Any]], **overrides: Any
    ) -> dict[str, Any]:
        """The claims of a LtiDeepLinkingResponse; sign them with `self.key.sign`."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": CLIENT_ID,
            "aud": issuer,
            "iat": now,
            "exp": now + 300,
            "nonce": str(uuid.uuid4()),
            CLAIM + "message_type": DL_RESPONSE,
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": DEPLOYMENT_ID,
            DL_CLAIM + "content_items": items,
        }
        if data is not None:
            claims[DL_CLAIM + "data"] = data
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}


_TOOL_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Outil de test</title></head>
<body><main>
<h1 data-message-type="{{ message_type }}">Outil LTI de test</h1>
{% if action %}
<form method="post" action="{{ action }}">
  <input type="hidden" name="JWT" value="{{ jwt }}">
  <button type="submit">Ajouter le parcours socle commun</button>
</form>
{% else %}
<p id="launched">{{ name }} — {{ custom.get("parcours") }} — {{ locale }}</p>
{% endif %}
</main></body></html>"""


def resource_link_item(**overrides: Any) -> dict[str, Any]:
    """The content item a Socle tool returns for a parcours."""
    item: dict[str, Any] = {
        "type": "ltiResourceLink",
        "title": "Parcours socle commun",
        "text": "Évaluez vos compétences numériques.",
        "custom": {"parcours": "socle-commun"},
        "lineItem": {"label": "Socle commun", "scoreMaximum": 100, "tag": "socle"},
        "iframe": {"height": 800},
    }
    item.update(overrides)
    return {k: v for k, v in item.items() if v is not None}


# --- browser side: following the OIDC flow with a Flask test client --------------------------


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.action = values.get("action")
        elif tag == "input" and values.get("name"):
            self.fields[str(values["name"])] = values.get("value") or ""


def parse_form(html: str) -> tuple[str | None, dict[str, str]]:
    parser = _FormParser()
    parser.feed(html)
    return parser.action, parser.fields


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def login_initiation(client: FlaskClient, path: str) -> dict[str, str]:
    """Follow the LMS link that starts a launch; return the login request sent to the tool."""
    response = client.get(path)
    assert response.status_code == 302, response.get_data(as_text=True)
    return query_of(response.headers["Location"])


def auth_params(login: Mapping[str, str], redirect_uri: str, **overrides: str) -> dict[str, str]:
    """The authentication request a tool sends back to the platform (LTI 1.3 §5.1.1.2)."""
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": login["client_id"],
        "redirect_uri": redirect_uri,
        "login_hint": login["login_hint"],
        "lti_message_hint": login["lti_message_hint"],
        "state": "state-" + uuid.uuid4().hex,
        "nonce": "nonce-" + uuid.uuid4().hex,
    }
    params.update(overrides)
    return params


def verify_id_token(client: FlaskClient, id_token: str, issuer: str) -> dict[str, Any]:
    """Verify an id_token against the LMS's published JWKS, as a tool does."""
    keys = client.get("/jwks").get_json()["keys"]
    kid = jwt.get_unverified_header(id_token)["kid"]
    (jwk,) = [key for key in keys if key["kid"] == kid]
    return jwt.decode(
        id_token,
        jwt.PyJWK(jwk).key,
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=issuer,
    )


def launch(
    client: FlaskClient, path: str, tool: TestTool, issuer: str
) -> tuple[dict[str, Any], dict[str, str], str | None]:
    """Run a whole launch (login initiation, authentication) and return verified claims,
    the authentication request sent, and the form action (where the id_token goes)."""
    login = login_initiation(client, path)
    # A tool sends its registered redirect URI, whatever the target_link_uri is.
    params = auth_params(login, tool.endpoints.launch_url)
    response = client.post("/auth", data=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    action, fields = parse_form(response.get_data(as_text=True))
    assert fields["state"] == params["state"]
    return verify_id_token(client, fields["id_token"], issuer), params, action


def add_activity(
    client: FlaskClient, tool: TestTool, issuer: str, item: dict[str, Any] | None = None
) -> str:
    """A teacher adds an activity through a real Deep Linking round trip; returns its id."""
    claims, _, _ = launch(client, "/deep-link/launch?utilisateur=enseignant", tool, issuer)
    data = claims[DL_CLAIM + "deep_linking_settings"]["data"]
    token = tool.key.sign(tool.deep_link_response(issuer, data, [item or resource_link_item()]))
    response = client.post("/deep-link-return", data={"JWT": token})
    assert response.status_code == 303, response.get_data(as_text=True)
    return query_of(response.headers["Location"])["ajout"]
