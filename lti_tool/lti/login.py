"""The OIDC login request, bounded: what ``/lti/login`` accepts and how its state is bound.

What may arrive: ``/lti/login`` is reached without authentication, by anyone, as often as
they like, with parameters of any length and content. Each accepted call writes a
``login_state`` row and sets a cookie, so an unbounded login is a way to fill the database
and the browser's cookie jar (until it answers 431).

What must never happen: a parameter the database cannot store (over the column size, a NUL
that PostgreSQL refuses) reaching a query; a login for an issuer we do not know or for a URL
that is not this tool's launch URL; more unexpired states than ``login_states_per_address``
for one client address or ``login_states_total`` in all; more than one state cookie per
browser.

How: :func:`validated_login` checks every parameter before any query. The browser carries
one cookie, :data:`BROWSER_COOKIE`, holding a random browser id; each state ends with an
HMAC of that id (:class:`LoginBinding`), so the launch checks that the state was issued to
this browser without a cookie per login and without storing the id. The state also starts
with a keyed digest of the client address, so the unexpired states of one address can be
counted without storing the address itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from lti_tool.lti.launch import BROWSER_COOKIE, LaunchRejected

__all__ = ["BROWSER_COOKIE", "LoginBinding", "LoginParams", "launch_url", "validated_login"]

BROWSER_COOKIE_MAX_AGE = 7 * 24 * 3600
"""The browser id is random and stored nowhere on the server; a week spares a browser the
rare race of two first logins at once (two tabs), without becoming a long-lived identifier."""

_BROWSER_ID = re.compile(r"[A-Za-z0-9_-]{32}")
_STATE = re.compile(r"state-([0-9a-f]{12})-[A-Za-z0-9_-]{32}\.([A-Za-z0-9_-]{22})")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

# Longest value accepted per parameter. Column sizes bound the stored ones (issuer 500,
# client and deployment ids 255, target_link_uri 1000); the hints are only passed back to
# the platform, so their bound leaves room for a signed JWT (Canvas sends one as
# lti_message_hint) while a login URL stays far below what browsers and proxies accept.
LIMITS = {
    "iss": 500,
    "client_id": 255,
    "lti_deployment_id": 255,
    "target_link_uri": 1000,
    "login_hint": 1024,
    "lti_message_hint": 4096,
}
REQUIRED = ("iss", "login_hint", "target_link_uri")


@dataclass(frozen=True)
class LoginParams:
    iss: str
    login_hint: str
    target_link_uri: str
    client_id: str | None
    lti_deployment_id: str | None
    lti_message_hint: str | None


def launch_url(base_url: str) -> str:
    """The tool's redirect URI, the one URL a login may target."""
    return base_url.rstrip("/") + "/lti/launch"


def _same_endpoint(target: str, base_url: str) -> bool:
    """Same scheme, host, port and path as our launch URL; a query string is allowed.

    Deep-linking and resource-link logins both target ``/lti/launch`` (that is what the
    dynamic registration, the deep-linking response and the demo LMS declare); which
    message it is comes from the signed id_token, not from the URL.
    """
    ours = urlsplit(launch_url(base_url))
    try:
        asked = urlsplit(target)
        asked_port, our_port = asked.port, ours.port
    except ValueError:
        return False
    return (
        asked.scheme.lower() == ours.scheme.lower()
        and (asked.hostname or "") == (ours.hostname or "")
        and asked_port == our_port
        and not asked.username
        and not asked.password
        and asked.path == ours.path
    )


def validated_login(params: dict[str, str], *, base_url: str) -> LoginParams:
    """The login parameters, each bounded and free of control characters, or a 400."""
    for name, limit in LIMITS.items():
        value = params.get(name, "")
        if len(value) > limit:
            raise LaunchRejected("bad_login", f"{name} is longer than {limit} characters")
        if _CONTROL.search(value):
            raise LaunchRejected("bad_login", f"{name} contains control characters")
    missing = [name for name in REQUIRED if not params.get(name)]
    if missing:
        raise LaunchRejected("bad_login", f"{', '.join(missing)} required")
    target = params["target_link_uri"]
    if not _same_endpoint(target, base_url):
        raise LaunchRejected(
            "bad_login", f"target_link_uri {target!r} is not {launch_url(base_url)}"
        )
    return LoginParams(
        iss=params["iss"],
        login_hint=params["login_hint"],
        target_link_uri=target,
        client_id=params.get("client_id") or None,
        lti_deployment_id=params.get("lti_deployment_id") or None,
        lti_message_hint=params.get("lti_message_hint") or None,
    )


class LoginBinding:
    """Binds login states to one browser and tags them with their client address."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"socle-login-binding\0" + secret.encode()).digest()

    @staticmethod
    def browser_id(cookie: str | None) -> str:
        """The browser's id from its cookie, or a new one when absent or malformed."""
        if cookie and _BROWSER_ID.fullmatch(cookie):
            return cookie
        return secrets.token_urlsafe(24)

    def address_tag(self, client_address: str) -> str:
        digest = hmac.new(self._key, b"address\0" + client_address.encode(), hashlib.sha256)
        return digest.hexdigest()[:12]

    def address_prefix(self, client_address: str) -> str:
        return f"state-{self.address_tag(client_address)}-"

    def _mac(self, browser_id: str, body: str) -> str:
        digest = hmac.new(
            self._key, b"browser\0" + browser_id.encode() + b"\0" + body.encode(), hashlib.sha256
        ).digest()
        return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")

    def new_state(self, browser_id: str, client_address: str) -> str:
        body = self.address_prefix(client_address) + secrets.token_urlsafe(24)
        return f"{body}.{self._mac(browser_id, body)}"

    def issued_to(self, state: str, browser_id: str) -> bool:
        """Whether ``state`` was issued to the browser holding ``browser_id``."""
        if not _STATE.fullmatch(state) or not _BROWSER_ID.fullmatch(browser_id):
            return False
        body, mac = state.rsplit(".", 1)
        return hmac.compare_digest(mac, self._mac(browser_id, body))
