"""The admin console in a real browser: axe finds no WCAG 2.1 A/AA violation on any of its
pages, at desktop width and at 320 px (no horizontal scrolling), and a keyboard-only
administrator signs in, allows a host and signs out. Screenshots of every page go to
``test-artifacts/screenshots/admin-*.png``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from werkzeug.serving import make_server

from lti_tool.admin.auth import create_sign_in_link
from lti_tool.app import create_app
from lti_tool.lti.keys import KeyService
from lti_tool.models import Deployment, LtiUser, Platform
from tests.browser.helpers import axe_audit, screenshot
from tests.browser.test_keyboard import Keyboard, check_page
from xapi.outbox import enqueue, outbox_table

pytestmark = pytest.mark.browser


class LiveTool:
    def __init__(self, make_settings: Any) -> None:
        self.server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.app: Flask = create_app(
            make_settings(base_url=self.url, extra={"SOCLE_DPO_CONTACT": "dpo@lille.fr"})
        )
        self.server.app = self.app  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.app.extensions["socle"].database.dispose()

    def link(self) -> str:
        database = self.app.extensions["socle"].database
        with database.session() as session, session.begin():
            secret = create_sign_in_link(session, "dpo@lille.fr", minutes=10)
        return f"{self.url}/admin/link/{secret}"


@pytest.fixture
def tool(make_settings: Any) -> Iterator[LiveTool]:
    live = LiveTool(make_settings)
    _seed(live.app)
    yield live
    live.stop()


def _seed(app: Flask) -> None:
    """A platform with an agent, a dead letter and a delivered statement, two keys."""
    socle = app.extensions["socle"]
    with socle.database.session() as session, session.begin():
        platform = Platform(
            name="Moodle de Lille",
            issuer="https://moodle.lille.fr",
            client_id="socle-1",
            auth_login_url="https://moodle.lille.fr/mod/lti/auth.php",
            auth_token_url="https://moodle.lille.fr/mod/lti/token.php",
            key_set_url="https://moodle.lille.fr/mod/lti/certs.php",
            store_personal_data=True,
        )
        platform.deployments.append(Deployment(deployment_id="1"))
        session.add(platform)
        session.flush()
        session.add(
            LtiUser(
                platform_id=platform.id,
                sub="agent-7f3a",
                email="agent@lille.fr",
                name="Camille Agent",
            )
        )
        enqueue(
            session,
            [
                {
                    "id": "00000000-0000-4000-8000-000000000001",
                    "actor": {},
                    "verb": {},
                    "object": {},
                },
                {
                    "id": "00000000-0000-4000-8000-000000000002",
                    "actor": {},
                    "verb": {},
                    "object": {},
                },
            ],
            now=datetime.now(UTC),
        )
        session.execute(
            update(outbox_table)
            .where(outbox_table.c.statement_id == "00000000-0000-4000-8000-000000000001")
            .values(
                status="dead",
                attempts=1,
                last_status_code=400,
                last_error='HTTP 400: {"message": "actor: invalid"}',
            )
        )
        keys = KeyService.from_settings(session, socle.settings)
        keys.ensure_key()
        keys.rotate(3600)


ADMIN_PAGES = {
    "home": "/admin/",
    "platforms": "/admin/platforms",
    "platform": "/admin/platforms/1",
    "registration-hosts": "/admin/registration-hosts",
    "xapi": "/admin/xapi",
    "keys": "/admin/keys",
    "agents": "/admin/agents?sub=agent-7f3a",
    "agent": "/admin/agents/1",
    "audit": "/admin/audit",
    "problem-reports": "/admin/problem-reports",
    "organisation-report": "/admin/platforms/1/report",
}


def _sign_in(page: Any, tool: LiveTool) -> None:
    page.goto(tool.link())
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{tool.url}/admin/")


def test_every_admin_page_passes_axe_at_desktop_and_320px(
    tool: LiveTool, new_context: Callable[..., Any]
) -> None:
    problems: list[str] = []
    for width, suffix in ((1024, ""), (320, "-320")):
        page = new_context(viewport={"width": width, "height": 800}).new_page()
        page.goto(f"{tool.url}/admin/login")
        login = axe_audit(page)
        if login.violations:
            problems.append(f"login{suffix}: {login.summary()}")
        screenshot(page, f"admin-login{suffix}")
        _sign_in(page, tool)
        for name, path in ADMIN_PAGES.items():
            page.goto(f"{tool.url}{path}")
            report = axe_audit(page)
            if report.violations:
                problems.append(f"{name}{suffix}: {report.summary()}")
            assert report.rules_run > 20
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                problems.append(f"{name}{suffix}: {scroll} px wide at {width} px")
            screenshot(page, f"admin-{name}{suffix}")
        for lang in ("fr", "en"):
            page.goto(f"{tool.url}/confidentialite?lang={lang}")
            report = axe_audit(page)
            if report.violations:
                problems.append(f"confidentialite-{lang}{suffix}: {report.summary()}")
            screenshot(page, f"confidentialite-{lang}{suffix}")
    assert problems == []


def test_a_keyboard_only_administrator_signs_in_allows_a_host_and_signs_out(
    tool: LiveTool, new_context: Callable[..., Any]
) -> None:
    page = new_context().new_page()
    page.goto(tool.link())
    keys = Keyboard(page)
    keys.tab_until(lambda s: s.label == "Se connecter")
    keys.leave("link")
    page.wait_for_url(f"{tool.url}/admin/")
    keys.tab_until(lambda s: s.label == "Enregistrement automatique")
    keys.leave("home")
    page.wait_for_url("**/admin/registration-hosts")
    keys.tab_until(lambda s: s.tag == "input" and s.name == "host")
    page.keyboard.type("moodle.rennes.fr")
    keys.tab_until(lambda s: s.label == "Autoriser")
    keys.leave("registration-hosts")
    page.locator("[data-host]").wait_for()
    assert page.locator("[data-host]").inner_text() == "moodle.rennes.fr"
    assert keys.unnamed_controls() == []
    keys.tab_until(lambda s: s.label == "Se déconnecter")
    keys.leave("registration-hosts-after")
    page.wait_for_url("**/admin/signed-out")
    problems = [p for kind, stops in keys.pages for p in check_page(kind, stops)]
    assert problems == []
