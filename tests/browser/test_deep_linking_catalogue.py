"""The deep-linking catalogue on the real content, as a trainer sees it: axe finds no WCAG 2.1
A/AA violation, it fits a 320 px screen, the competences of a long parcours open without
JavaScript-only widgets, and an English interface says the content is in French."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lti_tool.config import PROJECT_DIR
from tests.browser.helpers import Peers, Surface, axe_audit, screenshot
from tests.browser.test_accessibility import SPILL_JS

pytestmark = pytest.mark.browser

REAL_CONTENT = PROJECT_DIR / "content"


@pytest.mark.parametrize(("width", "locale"), [(320, "fr-FR"), (1024, "fr-FR"), (320, "en-GB")])
def test_catalogue_passes_axe_and_fits(
    start_peers: Callable[..., Peers],
    new_context: Callable[..., Any],
    width: int,
    locale: str,
) -> None:
    peers = start_peers(REAL_CONTENT)
    page = new_context(viewport={"width": width, "height": 700}, locale=locale).new_page()
    language = "en" if locale.startswith("en") else "fr-FR"
    page.goto(f"{peers.lms_url}/?utilisateur=enseignant&langue={language}")
    page.goto(f"{peers.lms_url}/deep-link/launch?target=window&utilisateur=enseignant")
    page.locator("fieldset[data-group='metiers']").wait_for()
    # Open every list of competences: the page must also hold with all of them open.
    for summary in page.locator("details.competence-details > summary").all():
        summary.click()
    assert page.locator("details[open] li[data-competence]").count() > 16
    report = axe_audit(page)
    screenshot(page, f"catalogue-{width}px-{locale}")
    assert not report.violations, report.summary()
    surface = Surface.top(page)
    assert surface.scroll_width() <= width
    assert surface.frame.evaluate(SPILL_JS) == []
    notice = page.locator("[data-content-language='fr']")
    assert notice.count() == (1 if locale.startswith("en") else 0)
    # Keyboard: the radios of every group are reachable, and a choice is sent back to the LMS.
    page.locator("input[name='parcours'][value='cybersecurite']").check()
    page.locator("button[type='submit']").click()
    page.wait_for_url("**/?ajout=*")
