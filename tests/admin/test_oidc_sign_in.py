"""Sign-in to /admin against a real OpenID provider (oidc-provider, configured like
ProConnect): success, refusals, tampering, logout."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.admin.models import AuditEntry
from lti_tool.app import create_app
from tests.admin.conftest import ADMIN_EMAIL, oidc_extra
from tests.admin.helpers import csrf_token, oidc_sign_in, start_oidc_sign_in
from tests.admin.oidc_peer import OidcProvider, ProviderBrowser, tool_path


def _audit(app: Flask) -> list[tuple[str, str]]:
    with app.extensions["socle"].database.session() as session:
        return [
            (e.action, e.actor) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/admin/").status_code == 200


def test_an_administrator_signs_in_with_pkce_state_and_nonce(
    oidc_app: Flask, oidc_client: FlaskClient, oidc: OidcProvider
) -> None:
    assert oidc_client.get("/admin/").status_code == 302  # not signed in yet
    url = start_oidc_sign_in(oidc_client)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{oidc.issuer}/auth?")
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"]
    assert query["state"]
    assert query["nonce"]
    assert query["redirect_uri"] == ["http://localhost/admin/callback"]
    assert set(query["scope"][0].split()) == {
        "openid",
        "email",
        "given_name",
        "usual_name",
        "uid",
        "siret",
    }

    callback = ProviderBrowser(oidc).follow(url, "alice")
    answer = oidc_client.get(tool_path(callback))

    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/admin/")
    home = oidc_client.get("/admin/")
    assert home.status_code == 200
    assert "Alice Martin" in home.get_data(as_text=True)  # given_name + usual_name (userinfo JWT)
    assert ("sign_in", ADMIN_EMAIL) in _audit(oidc_app)


def test_someone_not_in_the_list_is_refused_and_the_refusal_audited(
    oidc_app: Flask, oidc_client: FlaskClient, oidc: OidcProvider
) -> None:
    answer, _ = oidc_sign_in(oidc_client, oidc, "bob")

    assert answer.status_code == 403
    assert "data-refusal" in answer.get_data(as_text=True)
    assert not _signed_in(oidc_client)
    assert ("sign_in.refused", "bob.durand@exemple.fr") in _audit(oidc_app)


def test_a_claim_value_makes_an_administrator(make_settings: Any, oidc: OidcProvider) -> None:
    app = create_app(
        make_settings(extra=oidc_extra(oidc, SOCLE_ADMIN_CLAIM="siret=11122233300044"))
    )
    try:
        client = app.test_client()
        answer, _ = oidc_sign_in(client, oidc, "bob")
        assert answer.status_code == 302
        assert _signed_in(client)
    finally:
        app.extensions["socle"].database.dispose()


def test_a_wrong_state_is_refused(oidc_client: FlaskClient, oidc: OidcProvider) -> None:
    callback = ProviderBrowser(oidc).follow(start_oidc_sign_in(oidc_client))
    parts = urlsplit(callback)
    query = parse_qs(parts.query)
    forged = f"/admin/callback?code={query['code'][0]}&state=not-the-state&iss={oidc.issuer}"

    answer = oidc_client.get(forged)

    assert answer.status_code == 400
    assert "data-refusal" in answer.get_data(as_text=True)
    assert not _signed_in(oidc_client)


def test_a_callback_from_another_browser_is_refused(
    oidc_app: Flask, oidc_client: FlaskClient, oidc: OidcProvider
) -> None:
    callback = ProviderBrowser(oidc).follow(start_oidc_sign_in(oidc_client))
    other = oidc_app.test_client()  # a victim's browser handed the attacker's callback

    assert other.get(tool_path(callback)).status_code == 400
    assert not _signed_in(other)


def test_a_wrong_nonce_is_refused(oidc_client: FlaskClient, oidc: OidcProvider) -> None:
    url = start_oidc_sign_in(oidc_client)
    state = parse_qs(urlsplit(url).query)["state"][0]
    with oidc_client.session_transaction("/admin/") as session:
        key = next(k for k in session if k.endswith(state))
        data = session[key]
        data["data"]["nonce"] = "another-nonce"
        session[key] = data
    callback = ProviderBrowser(oidc).follow(url)

    answer = oidc_client.get(tool_path(callback))

    assert answer.status_code == 400
    assert not _signed_in(oidc_client)


def test_an_expired_code_is_refused(oidc_client: FlaskClient, oidc: OidcProvider) -> None:
    callback = ProviderBrowser(oidc).follow(start_oidc_sign_in(oidc_client))
    oidc.control("advance", seconds="120")  # the provider's codes live 60 s

    answer = oidc_client.get(tool_path(callback))

    assert answer.status_code == 400
    assert not _signed_in(oidc_client)


def test_a_code_is_used_once(oidc_app: Flask, oidc: OidcProvider) -> None:
    client = oidc_app.test_client()
    callback = ProviderBrowser(oidc).follow(start_oidc_sign_in(client))
    with client.session_transaction("/admin/") as session:
        saved = dict(session)
    assert client.get(tool_path(callback)).status_code == 302

    replay = oidc_app.test_client()
    with replay.session_transaction("/admin/") as session:
        session.update(saved)
    assert replay.get(tool_path(callback)).status_code == 400
    assert not _signed_in(replay)


def test_a_tampered_id_token_is_refused(oidc_client: FlaskClient, oidc: OidcProvider) -> None:
    callback = ProviderBrowser(oidc).follow(start_oidc_sign_in(oidc_client))
    oidc.control("tamper", target="id_token")

    answer = oidc_client.get(tool_path(callback))

    assert answer.status_code == 400
    assert not _signed_in(oidc_client)


def test_a_tampered_userinfo_is_refused(oidc_client: FlaskClient, oidc: OidcProvider) -> None:
    callback = ProviderBrowser(oidc).follow(start_oidc_sign_in(oidc_client))
    oidc.control("tamper", target="userinfo")

    answer = oidc_client.get(tool_path(callback))

    assert answer.status_code == 400
    assert not _signed_in(oidc_client)


def test_logout_ends_the_session_here_and_at_the_provider(
    oidc_app: Flask, oidc_client: FlaskClient, oidc: OidcProvider
) -> None:
    answer, browser = oidc_sign_in(oidc_client, oidc)
    assert answer.status_code == 302
    token = csrf_token(oidc_client.get("/admin/"))

    out = oidc_client.post("/admin/logout", data={"csrf_token": token})

    assert out.status_code == 302
    end_session = out.headers["Location"]
    assert end_session.startswith(f"{oidc.issuer}/session/end?")
    assert "id_token_hint=" in end_session
    assert not _signed_in(oidc_client)
    back = browser.follow(end_session)
    assert tool_path(back).startswith("/admin/signed-out")
    assert oidc_client.get(tool_path(back)).status_code == 200
    # the provider forgot the person too: the next sign-in asks for the login again
    assert browser.shows_login_form(start_oidc_sign_in(oidc_client))
    assert ("sign_out", ADMIN_EMAIL) in _audit(oidc_app)
