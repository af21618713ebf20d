"""The training report as a trainer meets it: inside the LMS's cross-site iframe, with the
keyboard only, and on a 320 px phone — axe finds no WCAG 2.1 A/AA violation, nothing
overflows the page (the heatmap and tables scroll in their own focusable wrappers), and a
screenshot of each page is saved (``test-artifacts/screenshots``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.helpers import FIXTURE_PARCOURS, Peers, Surface, axe_audit, play_to_results
from tests.browser.test_accessibility import SPILL_JS, Auditor

pytestmark = pytest.mark.browser

REPORT_LINK = "Voir le rapport de formation"


def _played(peers: Peers, new_context: Callable[..., Any]) -> str:
    """An activity with one agent who finished it (job family declared)."""
    activity = peers.add_activity(FIXTURE_PARCOURS)
    page = new_context().new_page()
    page.goto(peers.window_launch(activity, "agent"))
    surface = Surface.top(page)
    surface.frame.get_by_role("button", name="Commencer le parcours").wait_for()
    surface.frame.get_by_label("Catégorie B").check()
    seen = play_to_results(surface, peers.content, job_profile="accueil-usagers")
    assert seen[-1] == "results"
    page.close()
    return activity


def test_report_pages_in_the_lms_iframe_pass_axe(
    start_peers: Callable[..., Peers], new_context: Callable[..., Any]
) -> None:
    peers = start_peers()
    activity = _played(peers, new_context)
    page = new_context().new_page()
    audit = Auditor(page, lambda: Surface.iframe(page), "iframe-", framed=True)
    page.goto(peers.activity_page(activity, "enseignant"))
    surface = Surface.iframe(page)
    surface.frame.get_by_role("link", name=REPORT_LINK).wait_for()
    surface.navigating(
        lambda: surface.frame.get_by_role("link", name=REPORT_LINK, exact=False).click()
    )
    assert surface.frame.locator("svg.heatmap").count() == 1
    assert surface.frame.locator("[data-report-status='finished']").count() == 1
    audit("report-course")
    agent_link = surface.frame.locator("[data-agents-table] tbody th a").first
    surface.navigating(agent_link.click)
    assert surface.frame.locator("[data-answer-status]").count() > 0
    audit("report-agent")
    audit.check(("report-course", "report-agent"))


def test_report_filters_work_with_the_keyboard(
    start_peers: Callable[..., Peers], new_context: Callable[..., Any]
) -> None:
    peers = start_peers()
    activity = _played(peers, new_context)
    page = new_context().new_page()
    page.goto(peers.window_launch(activity, "enseignant"))
    surface = Surface.top(page)
    link = surface.frame.get_by_role("link", name=REPORT_LINK, exact=False)
    link.focus()
    surface.navigating(lambda: page.keyboard.press("Enter"))
    category = page.get_by_label("Catégorie", exact=True)
    category.focus()
    # A native select: arrows choose, then Tab moves on through the form to « Appliquer ».
    page.keyboard.press("ArrowDown")
    assert category.input_value() == "B"
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Appliquer":
            break
    else:
        raise AssertionError("« Appliquer » never reached with Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    surface.navigating(lambda: page.keyboard.press("Enter"))
    assert "category=B" in page.url
    assert page.locator("[data-report-status]").count() == 1


def test_report_on_a_320px_screen_passes_axe_and_fits(
    start_peers: Callable[..., Peers], new_context: Callable[..., Any]
) -> None:
    peers = start_peers()
    activity = _played(peers, new_context)
    page = new_context(viewport={"width": 320, "height": 640}).new_page()
    audit = Auditor(page, lambda: Surface.top(page), "320px-", framed=False, max_width=320)
    page.goto(peers.window_launch(activity, "enseignant"))
    surface = Surface.top(page)
    surface.navigating(
        lambda: surface.frame.get_by_role("link", name=REPORT_LINK, exact=False).click()
    )
    audit("report-course")
    assert page.evaluate(SPILL_JS) == []
    audit.check(("report-course",))
    assert axe_audit(page).violations == []
