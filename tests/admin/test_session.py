"""The console's session and page protections: one-time links, idle timeout, cookie flags,
CSRF on every form, never framed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.admin.auth import create_sign_in_link
from lti_tool.app import create_app
from lti_tool.cli import main
from tests.admin.helpers import csrf_token, link_sign_in


def test_without_oidc_the_login_page_points_to_the_link_command(client: FlaskClient) -> None:
    page = client.get("/admin/login").get_data(as_text=True)
    assert "socle admin link" in page
    assert client.get("/admin/login/oidc").status_code == 404


def test_a_one_time_link_signs_in_once(app: Flask, client: FlaskClient) -> None:
    database = app.extensions["socle"].database
    with database.session() as session, session.begin():
        secret = create_sign_in_link(session, "DPO@lille.fr", minutes=10)
    page = client.get(f"/admin/link/{secret}")  # a mail scanner's GET does not use it up
    assert client.get(f"/admin/link/{secret}").status_code == 200
    token = csrf_token(page)

    assert client.post(f"/admin/link/{secret}", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 200

    other = app.test_client()
    again = other.get(f"/admin/link/{secret}")
    assert again.status_code == 400
    assert other.get("/admin/").status_code == 302


def test_an_expired_link_is_refused(app: Flask, client: FlaskClient) -> None:
    database = app.extensions["socle"].database
    past = datetime.now(UTC) - timedelta(minutes=11)
    with database.session() as session, session.begin():
        secret = create_sign_in_link(session, "dpo@lille.fr", minutes=10, now=past)
    assert client.get(f"/admin/link/{secret}").status_code == 400
    assert client.get("/admin/").status_code == 302


def test_socle_admin_link_prints_a_working_link(
    app: Flask, make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = app.extensions["socle"].settings
    monkeypatch.setenv("SOCLE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SOCLE_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("SOCLE_BASE_URL", "http://localhost")
    monkeypatch.setenv("SOCLE_INSTANCE_DIR", str(settings.instance_dir))

    result = CliRunner().invoke(main, ["admin", "link", "--email", "dpo@lille.fr"])

    assert result.exit_code == 0, result.output
    url = result.stdout.strip().splitlines()[0]
    assert url.startswith("http://localhost/admin/link/")
    client = app.test_client()
    path = url.removeprefix("http://localhost")
    token = csrf_token(client.get(path))
    assert client.post(path, data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 200
    bad = CliRunner().invoke(main, ["admin", "link", "--email", "not-an-email"])
    assert bad.exit_code != 0
    assert "not an email address" in bad.output


def test_the_session_ends_after_the_idle_time(app: Flask, client: FlaskClient) -> None:
    link_sign_in(app, client)
    console = app.extensions["socle_admin"]
    start = datetime.now(UTC)
    console.clock = lambda: start + timedelta(minutes=29)
    assert client.get("/admin/").status_code == 200  # activity moves the idle deadline
    console.clock = lambda: start + timedelta(minutes=29 + 29)
    assert client.get("/admin/").status_code == 200
    console.clock = lambda: start + timedelta(minutes=29 + 29 + 31)

    answer = client.get("/admin/")

    assert answer.status_code == 302
    assert "expired=1" in answer.headers["Location"]
    assert client.get("/admin/").status_code == 302  # and it stays closed


def test_the_session_cookie_is_httponly_lax_on_admin_only(app: Flask, client: FlaskClient) -> None:
    answer = link_sign_in(app, client)
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("socle_admin=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/admin" in cookie


def test_the_session_cookie_is_secure_on_https(make_settings: Any) -> None:
    app = create_app(make_settings(base_url="https://socle.lille.fr"))
    try:
        database = app.extensions["socle"].database
        with database.session() as session, session.begin():
            secret = create_sign_in_link(session, "dpo@lille.fr", minutes=10)
        client = app.test_client()

        page = client.get(f"/admin/link/{secret}", base_url="https://socle.lille.fr")

        cookie = page.headers["Set-Cookie"]  # the CSRF token's session
        assert cookie.startswith("socle_admin=")
        assert "; Secure" in cookie
    finally:
        app.extensions["socle"].database.dispose()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/logout",
        "/admin/platforms",
        "/admin/keys/rotate",
        "/admin/xapi/retry",
        "/admin/registration-hosts",
    ],
)
def test_every_form_needs_its_csrf_token(app: Flask, client: FlaskClient, path: str) -> None:
    link_sign_in(app, client)

    answer = client.post(path, data={"host": "moodle.lille.fr", "delay": "0"})

    assert answer.status_code == 400
    assert client.get("/admin/").status_code == 200  # still signed in: nothing happened


def test_admin_pages_are_never_framed_nor_cached(app: Flask, client: FlaskClient) -> None:
    link_sign_in(app, client)
    for path in ("/admin/login", "/admin/", "/admin/keys"):
        answer = client.get(path)
        csp = answer.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["Cache-Control"] == "no-store"


def test_other_pages_keep_their_framing_policy(client: FlaskClient) -> None:
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in csp
