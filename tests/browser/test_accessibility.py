"""axe-core finds no WCAG 2.1 A/AA violation on any page type of the tool, as people see it:
inside the LMS's cross-site iframe and in a window of its own.

The walk uses a tiny content tree (``tests/fixtures/content-browser``) whose parcours serves
one challenge of each type and a timed one, so every player page appears in a few clicks.
Each page type is audited once, and a screenshot of it is saved for a person to look at
(``test-artifacts/screenshots``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from lti_tool.demo_lms.lms import EXTENSION_KEY
from lti_tool.lti.tokens import LaunchTokens
from tests.browser.helpers import (
    AxeReport,
    Peers,
    Surface,
    axe_audit,
    play_to_results,
    screenshot,
)
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.browser

#: Every page type of the tool an agent or a trainer can meet.
PAGE_TYPES = (
    "deep-linking",
    "teacher-activity",
    "start",
    "self-assessment",
    "challenge-qcu",
    "challenge-qcm",
    "challenge-qroc",
    "challenge-qrocm-ind",
    "challenge-qrocm-dep",
    "timer-warning",
    "challenge-qcu-timed",
    "challenge-blank-refused",
    "challenge-report-open",
    "feedback-ko",
    "feedback-skipped",
    "checkpoint",
    "results",
    "restart-confirmation",
    "error-invalid-token",
    "error-expired-token",
    "error-404",
)


def expired_token() -> str:
    """A page token issued with the tool's key ten days ago: the tool must say it expired."""
    ten_days_ago = datetime.now(UTC) - timedelta(days=10)
    tokens = LaunchTokens(TEST_SECRET, idle_lifetime=1800, clock=lambda: ten_days_ago)
    return tokens.issue_raw("a-launch-that-lived-long-ago", "user-digest")


def error_pages(peers: Peers) -> dict[str, tuple[str, str, str]]:
    """Error page type → (URL, the status the page must state, words it must say)."""
    return {
        "error-invalid-token": (f"{peers.tool_url}/play?lt=not-a-real-token", "401",
                                "depuis votre plateforme"),
        "error-expired-token": (f"{peers.tool_url}/play?lt={expired_token()}", "401",
                                "expiré"),
        "error-404": (f"{peers.tool_url}/cette-page-n-existe-pas", "404", "n'existe pas"),
    }


class Auditor:
    """Runs axe once per page type on the whole page (frames included), measures the page's
    width when asked, and saves a screenshot."""

    def __init__(self, page: Any, surface: Callable[[], Surface], prefix: str, *,
                 framed: bool, max_width: int | None = None) -> None:
        self.page = page
        self.surface = surface
        self.prefix = prefix
        self.framed = framed
        self.max_width = max_width
        self.reports: dict[str, AxeReport] = {}
        self.widths: dict[str, int] = {}
        self.spills: list[str] = []

    def __call__(self, kind: str) -> None:
        if kind in self.reports:
            return
        surface = self.surface()
        if kind == "feedback-ko":
            assert surface.frame.locator(".tutorials .tutorial").count() > 0, "no tutorials"
        report = axe_audit(self.page)
        if self.framed:
            assert report.framed_nodes > 0, f"axe did not reach into the tool's frame ({kind})"
        self.reports[kind] = report
        if self.max_width is not None:
            self.widths[kind] = surface.scroll_width()
            self.spills.extend(f"{kind}: {what}" for what in surface.frame.evaluate(SPILL_JS))
        if self.framed:
            # The whole tool page in the shot: for a moment the iframe grows to its content
            # and the window to the page (Chromium paints a cross-site frame only where the
            # window shows it, so a "full page" shot would leave the rest blank).
            viewport = self.page.viewport_size
            height = surface.frame.evaluate("document.documentElement.scrollHeight")
            self.page.evaluate(RESIZE_FRAME_JS, height)
            total = self.page.evaluate("document.documentElement.scrollHeight")
            self.page.set_viewport_size({"width": viewport["width"], "height": total})
            surface.frame.evaluate(NEXT_PAINT_JS)
            screenshot(self.page, f"{self.prefix}{kind}", full_page=False)
            self.page.set_viewport_size(viewport)
            self.page.evaluate(RESIZE_FRAME_JS, None)
            # The frame then asks the LMS to fit it again (`lti.frameResize`).
            surface.settle()
        else:
            screenshot(self.page, f"{self.prefix}{kind}")

    def check(self, expected: tuple[str, ...]) -> None:
        missing = [kind for kind in expected if kind not in self.reports]
        assert not missing, f"page types never reached: {missing}"
        failures = {k: r.summary() for k, r in self.reports.items() if r.violations}
        assert not failures, "axe violations:\n" + "\n".join(
            f"[{kind}]\n{text}" for kind, text in failures.items()
        )
        if self.max_width is not None:
            too_wide = {k: w for k, w in self.widths.items() if w > self.max_width}
            assert not too_wide, f"horizontal scrolling at {self.max_width} px: {too_wide}"
            assert not self.spills, "content spilling out of its card:\n" + "\n".join(
                self.spills
            )


#: Elements sticking out of their card's content box (tables may scroll in their wrapper).
SPILL_JS = """() => [...document.querySelectorAll('.card *')].filter((e) => {
  if (e.closest('.table-scroll') || getComputedStyle(e).position === 'absolute') {
    return false;
  }
  const card = e.closest('.card');
  const padding = parseFloat(getComputedStyle(card).paddingRight);
  const inner = card.getBoundingClientRect().right - padding;
  return e.getBoundingClientRect().right > inner + 0.5;
}).map((e) => e.tagName.toLowerCase() + ' « ' + e.textContent.trim().slice(0, 40) + ' »')"""
NEXT_PAINT_JS = "() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))"
SET_FRAME_SOURCE_JS = "(src) => { document.querySelector('iframe.tool').src = src; }"
RESIZE_FRAME_JS = """(height) => {
  document.querySelector('iframe.tool').style.height = height === null ? '' : height + 'px';
}"""


def with_page_states(audit: Auditor, surface: Callable[[], Surface]) -> Callable[[str], None]:
    """``audit`` for every page of the walk, plus the states a person reaches on the first
    untimed challenge: « Valider » with nothing chosen (refused on the page), and the
    « Signaler un problème » form opened."""
    done: set[str] = set()

    def visit(kind: str) -> None:
        audit(kind)
        if not kind.startswith("challenge-") or kind.endswith("-timed") or done:
            return
        done.add(kind)
        frame = surface().frame
        frame.get_by_role("button", name="Valider").click()
        frame.locator("#answer-error:not([hidden])").wait_for()
        assert "Je passe" in frame.locator("#answer-error").inner_text()
        audit("challenge-blank-refused")
        report = frame.locator("details.report-problem summary")
        report.click()
        frame.get_by_role("button", name="Envoyer le signalement").wait_for()
        audit("challenge-report-open")
        report.click()

    return visit


def restart_confirmation(surface: Surface, audit: Auditor) -> None:
    """« Recommencer le parcours » on the results asks first, on a page of its own."""
    surface.click("link", "Recommencer le parcours")
    surface.frame.get_by_role("button", name="Oui, recommencer").wait_for()
    audit("restart-confirmation")


def walk_policy(index: int, _challenge: object) -> str:
    """The first answer wrong (feedback with tutorials), the second skipped, then right."""
    return {0: "wrong", 1: "skip"}.get(index, "right")


def test_every_page_in_the_lms_iframe_passes_axe(
    start_peers: Callable[..., Peers], new_context: Callable[..., Any]
) -> None:
    peers = start_peers()
    page = new_context().new_page()
    audit = Auditor(page, lambda: Surface.iframe(page), "iframe-", framed=True)
    tool = page.frame_locator("iframe.tool")

    # The trainer adds the parcours from the catalogue shown in the course's iframe.
    page.goto(f"{peers.lms_url}/deep-link?utilisateur=enseignant")
    tool.get_by_role("button", name="Ajouter cette activité").wait_for()
    audit("deep-linking")
    tool.get_by_role("button", name="Ajouter cette activité").click()
    page.wait_for_url("**/?ajout=*")
    (activity,) = peers.lms_app.extensions[EXTENSION_KEY].store.activities()

    page.goto(peers.activity_page(activity.id, "enseignant"))
    tool.get_by_role("button", name="Prévisualiser le parcours").wait_for()
    audit("teacher-activity")

    page.goto(peers.activity_page(activity.id, "agent"))
    tool.get_by_role("button", name="Commencer le parcours").wait_for()
    surface = Surface.iframe(page)
    seen = play_to_results(surface, peers.content, walk_policy,
                           visit=with_page_states(audit, lambda: Surface.iframe(page)),
                           job_profile="accueil-usagers")
    assert seen[-1] == "results"
    restart_confirmation(Surface.iframe(page), audit)

    for kind, (url, status, words) in error_pages(peers).items():
        surface = Surface.iframe(page)
        surface.navigating(partial(page.evaluate, SET_FRAME_SOURCE_JS, url))
        text = surface.frame.locator("[data-rejection]").inner_text()
        assert f"Code {status}" in text
        assert words in text
        audit(kind)

    audit.check(PAGE_TYPES)

    # Positive control: an unlabelled field added inside the cross-site frame is reported.
    Surface.iframe(page).frame.evaluate(
        "document.querySelector('main').append(document.createElement('input'))"
    )
    control = axe_audit(page)
    assert any(
        v["id"] == "label" and any(len(n["target"]) == 2 for n in v["nodes"])
        for v in control.violations
    ), control.summary()


def test_every_page_in_its_own_window_on_a_320px_screen_passes_axe_and_fits(
    start_peers: Callable[..., Peers], new_context: Callable[..., Any]
) -> None:
    """The tool opened in a window of its own on a small phone: axe, and no horizontal
    scrolling (WCAG 1.4.10, reflow at 320 CSS px) on any page."""
    peers = start_peers()
    page = new_context(viewport={"width": 320, "height": 640}).new_page()
    audit = Auditor(page, lambda: Surface.top(page), "320px-", framed=False, max_width=320)

    page.goto(f"{peers.tool_url}/")
    audit("landing")

    page.goto(f"{peers.lms_url}/deep-link/launch?target=window&utilisateur=enseignant")
    page.get_by_role("button", name="Ajouter cette activité").wait_for()
    audit("deep-linking")
    page.get_by_role("button", name="Ajouter cette activité").click()
    page.wait_for_url("**/?ajout=*")
    (activity,) = peers.lms_app.extensions[EXTENSION_KEY].store.activities()

    page.goto(peers.window_launch(activity.id, "enseignant"))
    page.get_by_role("button", name="Prévisualiser le parcours").wait_for()
    audit("teacher-activity")

    page.goto(peers.window_launch(activity.id, "agent"))
    page.get_by_role("button", name="Commencer le parcours").wait_for()
    seen = play_to_results(Surface.top(page), peers.content, walk_policy,
                           visit=with_page_states(audit, lambda: Surface.top(page)),
                           job_profile="accueil-usagers")
    assert seen[-1] == "results"
    restart_confirmation(Surface.top(page), audit)

    for kind, (url, status, words) in error_pages(peers).items():
        response = page.goto(url)
        assert response is not None
        assert response.status == int(status)
        assert words in page.locator("[data-rejection]").inner_text()
        audit(kind)

    audit.check(("landing", *PAGE_TYPES))
