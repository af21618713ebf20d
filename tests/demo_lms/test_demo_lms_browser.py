"""The demo LMS in a real browser: Deep Linking and launches inside the iframe, at 320 px,
checked with axe. Uses Debian's chromium through Playwright (never a downloaded browser)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from demo_lms_peer import TestTool

from lti_tool.demo_lms import create_demo_lms

pytestmark = pytest.mark.browser


@pytest.fixture
def live_lms(tool: TestTool, data_dir: Path) -> Iterator[str]:
    from werkzeug.serving import make_server

    holder: dict[str, Any] = {}

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return holder["app"](environ, start_response)  # type: ignore[no-any-return]

    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    holder["app"] = create_demo_lms(base_url, tool.endpoints, data_dir)
    tool.platform_issuer = base_url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _axe_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [violation["id"] for violation in results.response["violations"]]


def test_teacher_adds_an_activity_and_the_agent_takes_it_in_the_iframe(
    live_lms: str, tool: TestTool, chromium: Any
) -> None:
    context = chromium.new_context(viewport={"width": 320, "height": 700})
    try:
        page = context.new_page()
        page.goto(f"{live_lms}/")
        assert _axe_violations(page) == []
        page.get_by_label("Enseignant — Claire Martin").check()
        page.get_by_role("button", name="Valider").click()
        page.get_by_role("link", name="Ajouter une activité Socle").click()
        frame = page.frame_locator("iframe.tool")
        frame.get_by_role("button", name="Ajouter le parcours socle commun").click()
        page.wait_for_url("**/?ajout=*")
        status = page.get_by_role("status").first.inner_text()
        assert "« Parcours socle commun » a été ajoutée" in status
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        assert _axe_violations(page) == []

        page.goto(f"{live_lms}/?utilisateur=agent&langue=en")
        page.get_by_role("link", name="Parcours socle commun").click()
        launched = page.frame_locator("iframe.tool").locator("#launched")
        assert launched.inner_text() == "Karim Benali — socle-commun — en"
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        assert _axe_violations(page) == []
        with page.expect_popup() as popup_info:
            page.get_by_role("link", name="Ouvrir dans une nouvelle fenêtre").click()
        popup = popup_info.value
        assert popup.locator("#launched").inner_text() == "Karim Benali — socle-commun — en"
    finally:
        context.close()
