"""The OpenID provider peer: panva's ``oidc-provider`` (OpenID Certified) as a child process,
started from ``tests/oidc/server.mjs`` (configured like ProConnect: PKCE, its scopes and
claims, userinfo signed as a JWT, RP-initiated logout), and a small browser that signs in.

The browser side is ``requests``: it follows the provider's own pages (its login and consent
forms) and stops at the first redirect that leaves the provider, which is the tool's
callback; the test then hands that URL to the tool's test client.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from lti_tool.config import PROJECT_DIR
from lti_tool.demo_lrs import free_port

OIDC_DIR = PROJECT_DIR / "tests" / "oidc"
SERVER = OIDC_DIR / "server.mjs"
PACKAGE = OIDC_DIR / "node_modules" / "oidc-provider" / "package.json"
CLIENT_ID = "socle-admin"
CLIENT_SECRET = "test-client-secret-for-the-admin-console-0123456789"
TOOL = "http://localhost"
ACCOUNTS = {
    # an administrator by email (SOCLE_ADMIN_EMAILS in the tests)
    "alice": {
        "email": "alice.martin@lille.fr",
        "given_name": "Alice",
        "usual_name": "Martin",
        "uid": "alice-1",
        "siret": "21590350100017",
    },
    # an agent of another organisation: signs in at the provider, is no administrator
    "bob": {
        "email": "bob.durand@exemple.fr",
        "given_name": "Bob",
        "usual_name": "Durand",
        "uid": "bob-2",
        "siret": "11122233300044",
    },
}


class OidcProvider:
    def __init__(self, node: str, workdir: Path) -> None:
        self.node = node
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        config = self.workdir / "oidc-config.json"
        config.write_text(
            json.dumps(
                {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": [f"{TOOL}/admin/callback"],
                    "post_logout_redirect_uris": [f"{TOOL}/admin/signed-out"],
                    "accounts": ACCOUNTS,
                }
            ),
            encoding="utf-8",
        )
        with (self.workdir / "oidc-provider.log").open("wb") as log:
            self.process = subprocess.Popen(
                [self.node, str(SERVER), str(self.port), str(config)],
                cwd=OIDC_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"oidc-provider exited: see {self.workdir}/oidc-provider.log")
            try:
                answer = requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2)
                if answer.status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass  # not listening yet, or listening but still starting
            time.sleep(0.1)
        raise RuntimeError("oidc-provider did not start in time")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    # test controls (tests/oidc/server.mjs)
    def control(self, action: str, **params: str) -> None:
        answer = requests.post(f"{self.issuer}/__test/{action}", params=params, timeout=5)
        assert answer.status_code == 204, answer.text

    def reset(self) -> None:
        self.control("reset")


class ProviderBrowser:
    """A person's browser at the provider: its cookies make the provider's session."""

    def __init__(self, provider: OidcProvider) -> None:
        self.provider = provider
        self.http = requests.Session()

    def follow(self, url: str, login: str = "alice") -> str:
        """Go through the provider's pages from ``url``; return the URL that leaves it."""
        method, data = "GET", None
        for _ in range(20):
            answer = self.http.request(method, url, data=data, allow_redirects=False, timeout=10)
            if answer.is_redirect:
                target = urljoin(url, answer.headers["Location"])
                if not target.startswith(self.provider.issuer):
                    return target
                url, method, data = target, "GET", None
                continue
            assert answer.status_code == 200, (answer.status_code, answer.text[:500])
            url, data = self._form(url, answer.text, login)
            method = "POST"
        raise AssertionError("the provider kept redirecting")

    def _form(self, url: str, page: str, login: str) -> tuple[str, dict[str, Any]]:
        if 'name="prompt" value="login"' in page:
            action = _attribute(page, "form", "action")
            return urljoin(url, action), {"prompt": "login", "login": login, "password": "x"}
        if 'name="prompt" value="consent"' in page:
            action = _attribute(page, "form", "action")
            return urljoin(url, action), {"prompt": "consent"}
        if 'id="op.logoutForm"' in page:
            action = _attribute(page, "form", "action")
            xsrf = re.search(r'name="xsrf" value="([^"]+)"', page)
            assert xsrf is not None, page
            return urljoin(url, action), {"xsrf": xsrf.group(1), "logout": "yes"}
        raise AssertionError(f"unexpected provider page: {page[:500]}")

    def shows_login_form(self, url: str) -> bool:
        """Whether the provider asks to sign in again (its session is gone)."""
        for _ in range(10):
            answer = self.http.get(url, allow_redirects=False, timeout=10)
            if answer.is_redirect:
                target = urljoin(url, answer.headers["Location"])
                if not target.startswith(self.provider.issuer):
                    return False
                url = target
                continue
            return 'name="prompt" value="login"' in answer.text
        return False


def _attribute(page: str, tag: str, name: str) -> str:
    match = re.search(rf"<{tag}[^>]*\s{name}=\"([^\"]+)\"", page)
    assert match is not None, page[:500]
    return match.group(1).replace("&amp;", "&")


def tool_path(url: str) -> str:
    """The path and query of a URL of the tool, for its test client."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == TOOL, url
    return parts.path + (f"?{parts.query}" if parts.query else "")
