"""The public privacy notice: French by default, English on request, with the retention in
force and the DPO contact of the settings."""

from __future__ import annotations

from typing import Any

from lti_tool.app import create_app


def test_the_notice_in_french_with_the_settings(make_settings: Any) -> None:
    app = create_app(
        make_settings(extra={"SOCLE_DPO_CONTACT": "dpo@lille.fr", "SOCLE_RETENTION_DAYS": "730"})
    )
    try:
        page = app.test_client().get("/confidentialite")
    finally:
        app.extensions["socle"].database.dispose()
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="fr">' in text
    assert "Délégué à la protection des données : dpo@lille.fr" in text
    assert "730 jours" in text
    assert "Base légale" in text
    assert "LRS" in text
    assert "frame-ancestors" in page.headers["Content-Security-Policy"]


def test_the_notice_in_english(client: Any) -> None:
    page = client.get("/confidentialite?lang=en")
    text = page.get_data(as_text=True)
    assert '<html lang="en">' in text
    assert "Your data in Socle" in text
    assert "1095 days" in text  # the default: three years
    assert "Contact your employer's data protection officer." in text
    browser = client.get("/confidentialite", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert "Legal basis" in browser.get_data(as_text=True)
