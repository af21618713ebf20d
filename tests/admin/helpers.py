"""Helpers of the admin tests: sign in (provider or one-time link), read CSRF tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from lti_tool.admin.auth import create_sign_in_link
from tests.admin.oidc_peer import OidcProvider, ProviderBrowser, tool_path


def csrf_token(page: TestResponse | str) -> str:
    text = page if isinstance(page, str) else page.get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert match is not None, text[:1000]
    return match.group(1)


def start_oidc_sign_in(client: FlaskClient) -> str:
    """The provider URL the tool redirects to."""
    answer = client.get("/admin/login/oidc")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return str(answer.headers["Location"])


def oidc_sign_in(
    client: FlaskClient, provider: OidcProvider, login: str = "alice"
) -> tuple[TestResponse, ProviderBrowser]:
    browser = ProviderBrowser(provider)
    callback = browser.follow(start_oidc_sign_in(client), login)
    return client.get(tool_path(callback)), browser


def link_sign_in(app: Flask, client: FlaskClient, email: str = "dpo@lille.fr") -> TestResponse:
    database = app.extensions["socle"].database
    with database.session() as session, session.begin():
        secret = create_sign_in_link(session, email, minutes=10, now=datetime.now(UTC))
    page = client.get(f"/admin/link/{secret}")
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(f"/admin/link/{secret}", data={"csrf_token": csrf_token(page)})
