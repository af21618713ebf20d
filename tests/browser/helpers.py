"""What the browser tests share: the two live peers, a person's way through the player, axe.

A "surface" is where the tool's pages show: the top-level page (the tool opened in its own
window) or the LMS's iframe. Every step is a real browser action (click, check, fill,
select, key press) followed by waiting for that surface to load its next document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests
from flask import Flask
from sqlalchemy import select

from lti_tool.app import create_app
from lti_tool.config import PROJECT_DIR, Settings
from lti_tool.demo import register_demo_platform
from lti_tool.demo_lms import ToolEndpoints, create_demo_lms
from lti_tool.demo_lms.lms import EXTENSION_KEY
from lti_tool.domain.framework import Challenge, ChallengeType, Content, FieldsSolution
from lti_tool.models import AnswerRecord
from tests.browser.servers import TestCertificates, TlsServer
from tests.live import forms
from tests.peers import missing_peer
from tests.player_helpers import right_answer, wrong_answer

CHROMIUM = Path("/usr/bin/chromium")
FIXTURE_CONTENT = PROJECT_DIR / "tests" / "fixtures" / "content-browser"
FIXTURE_PARCOURS = "tous-les-types"
SCREENSHOTS = PROJECT_DIR / "test-artifacts" / "screenshots"
#: WCAG 2.1 levels A and AA, as the brief and the RGAA ask.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


# --- the live peers --------------------------------------------------------------------------


@dataclass
class Peers:
    """The tool on ``127.0.0.1`` and the demo LMS on ``localhost`` (two sites), over https."""

    tool: TlsServer
    lms: TlsServer
    tool_app: Flask
    lms_app: Flask
    certificates: TestCertificates

    @classmethod
    def start(cls, make_settings: Callable[..., Settings], content_dir: Path, lms_dir: Path,
              certificates: TestCertificates) -> Peers:
        tool = TlsServer(certificates, "127.0.0.1")
        lms = TlsServer(certificates, "127.0.0.1", url_host="localhost")
        settings = make_settings(base_url=tool.url, content_dir=content_dir)
        tool_app = create_app(settings)
        # As a production deployment should: browsers keep the stylesheet and scripts instead
        # of revalidating them on every page (Flask's default), a round trip per file saved.
        tool_app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
        lms_app = create_demo_lms(
            lms.url,
            ToolEndpoints(
                login_url=f"{tool.url}/lti/login",
                launch_url=f"{tool.url}/lti/launch",
                deep_link_url=f"{tool.url}/lti/launch",
                jwks_url=f"{tool.url}/lti/jwks",
            ),
            lms_dir,
        )
        register_demo_platform(settings, lms_app)
        tool_app.extensions["socle"].framing.invalidate()
        tool.start(tool_app)
        lms.start(lms_app)
        return cls(tool, lms, tool_app, lms_app, certificates)

    def stop(self) -> None:
        self.tool_app.extensions["socle"].grades.stop()
        self.lms.stop()
        self.tool.stop()
        self.tool_app.extensions["socle"].database.dispose()

    @property
    def tool_url(self) -> str:
        return self.tool.url

    @property
    def lms_url(self) -> str:
        return self.lms.url

    @property
    def content(self) -> Content:
        return self.tool_app.extensions["socle"].catalogue.content  # type: ignore[no-any-return]

    def add_activity(self, parcours: str) -> str:
        """Add ``parcours`` to the course by a real Deep Linking exchange (over HTTP, without
        the browser: only tests about the catalogue page need to see it). Returns its id."""
        store = self.lms_app.extensions[EXTENSION_KEY].store
        before = {a.id for a in store.activities()}
        http = requests.Session()
        http.verify = str(self.certificates.ca_file)

        def submit(page: requests.Response, **values: str) -> requests.Response:
            form = forms(page.text)[0]
            response = http.request(form["method"], urljoin(page.url, form["action"]),
                                    data={**form["fields"], **values}, timeout=10)
            assert response.status_code == 200, response.text
            return response

        http.get(f"{self.lms_url}/?utilisateur=enseignant", timeout=10).raise_for_status()
        catalogue = submit(http.get(f"{self.lms_url}/deep-link/launch", timeout=10))
        submit(submit(catalogue, parcours=parcours))
        (added,) = {a.id for a in store.activities()} - before
        return str(added)

    def activity_page(self, activity_id: str, user: str = "agent") -> str:
        """The LMS page embedding the activity in its iframe."""
        return f"{self.lms_url}/activities/{activity_id}?utilisateur={user}"

    def window_launch(self, activity_id: str, user: str = "agent") -> str:
        """The LMS link that launches the activity in a window of its own (top level)."""
        return f"{self.lms_url}/activities/{activity_id}/launch?target=window&utilisateur={user}"

    def answer_records(self) -> list[tuple[int, str, str]]:
        """``(seq, challenge id, status)`` of every stored answer, in order."""
        with self.tool_app.extensions["socle"].database.session() as session:
            rows = session.scalars(select(AnswerRecord).order_by(AnswerRecord.seq)).all()
            return [(r.seq, r.challenge_id, r.status) for r in rows]


# --- surfaces --------------------------------------------------------------------------------

#: Resolves once the frame element has kept its place and size for five animation frames
#: (or after 300 frames, if something keeps resizing it: the click then shows what happens).
FRAME_SETTLED_JS = """(frame) => new Promise((done) => {
  let last = '', still = 0, frames = 0;
  const tick = () => {
    const box = frame.getBoundingClientRect();
    const now = [box.top, box.left, box.width, box.height].join(',');
    still = now === last ? still + 1 : 0;
    last = now;
    frames += 1;
    if (still >= 5 || frames >= 300) { done(); } else { requestAnimationFrame(tick); }
  };
  requestAnimationFrame(tick);
})"""


@dataclass
class Surface:
    """The frame showing the tool: the page's main frame, or the LMS iframe's frame."""

    page: Any
    frame: Any

    @classmethod
    def top(cls, page: Any) -> Surface:
        return cls(page, page.main_frame)

    @classmethod
    def iframe(cls, page: Any, selector: str = "iframe.tool") -> Surface:
        frame = page.locator(selector).element_handle().content_frame()
        assert frame is not None
        return cls(page, frame)

    def navigating(self, action: Callable[[], object]) -> None:
        """Do ``action`` and wait until this surface shows (and has loaded) the next page."""
        self.settle()
        with self.page.expect_event("framenavigated", predicate=lambda f: f == self.frame):
            action()
        self.frame.wait_for_load_state("load")

    def settle(self) -> None:
        """In an LMS frame, wait until the frame stops moving: each tool page asks the LMS to
        fit the frame to it (``lti.frameResize``) when it loads, and a click computed before
        that resize lands where the button was, on nothing."""
        if self.frame != self.page.main_frame:
            self.frame.frame_element().evaluate(FRAME_SETTLED_JS)

    def click(self, role: str, name: str) -> None:
        self.navigating(lambda: self.frame.get_by_role(role, name=name, exact=True).click())

    def kind(self) -> str:
        """Which player page is shown (from the stable hooks of architecture.md)."""
        return str(self.frame.evaluate(PAGE_KIND_JS))

    def challenge(self, content: Content) -> Challenge:
        challenge_id = self.frame.locator("form[data-challenge-id]").get_attribute(
            "data-challenge-id"
        )
        return content.challenges[challenge_id]

    def confirmed(self) -> int | None:
        """The question whose right answer the page confirms in one line, if any."""
        marker = self.frame.locator("[data-answered]")
        return int(marker.get_attribute("data-answered") or 0) if marker.count() else None

    def scroll_width(self) -> int:
        return int(self.frame.evaluate("document.documentElement.scrollWidth"))


PAGE_KIND_JS = """() => {
  const q = (s) => document.querySelector(s);
  const form = q('form[data-challenge-id]');
  if (form) {
    return 'challenge-' + form.dataset.challengeType + (form.dataset.deadline ? '-timed' : '');
  }
  const feedback = q('.feedback[data-answer-status]');
  if (feedback) { return 'feedback-' + feedback.dataset.answerStatus; }
  if (q('[data-checkpoint]')) { return 'checkpoint'; }
  if (q('[data-competence]')) { return 'results'; }
  if (q('form[action*="/play/timer"]')) { return 'timer-warning'; }
  if (q('form[action*="/play/self-assessment"]')) { return 'self-assessment'; }
  if (q('form[action*="/play/start"]')) { return 'start'; }
  if (q('[data-rejection]')) { return 'error'; }
  return 'unknown: ' + location.pathname;
}"""


# --- answering like a person -----------------------------------------------------------------


def _wrong_option(challenge: Challenge, key: str) -> str:
    """A drop-down choice that is not accepted for field ``key``."""
    solution = challenge.solution
    assert isinstance(solution, FieldsSolution)
    (field_,) = [f for f in challenge.fields if f.key == key]
    assert field_.options
    accepted = set(solution.for_field(key))
    return next(option for option in field_.options if option not in accepted)


def fill_answer(surface: Surface, challenge: Challenge, *, right: bool) -> None:
    """Check, fill or select the answer fields (right or wrong), without submitting."""
    frame = surface.frame
    values = right_answer(challenge) if right else wrong_answer(challenge)
    for name, value in values.items():
        if isinstance(value, list):  # qcm: tick each box
            for item in dict.fromkeys(value):
                frame.locator(f'input[name="answer"][value="{item}"]').check()
        elif challenge.type is ChallengeType.QCU:
            frame.locator(f'input[name="answer"][value="{value}"]').check()
        else:
            control = frame.locator(f'[name="{name}"]')
            key = name.removeprefix("answer.")
            if any(f.key == key and f.options for f in challenge.fields):  # a drop-down
                control.select_option(value if right else _wrong_option(challenge, key))
            else:
                control.fill(value)


def answer(surface: Surface, challenge: Challenge, how: str) -> None:
    """Answer the shown challenge ``right``, ``wrong``, or ``skip`` it."""
    if how == "skip":
        surface.navigating(
            lambda: surface.frame.locator('button[name="action"][value="skip"]').click()
        )
        return
    fill_answer(surface, challenge, right=how == "right")
    surface.navigating(
        lambda: surface.frame.locator('button[name="action"][value="validate"]').click()
    )


Policy = Callable[[int, Challenge], str]
#: The way forward on a feedback page: « Continuer » before a checkpoint, else the next one.
NEXT = re.compile(r"^(Continuer|Question suivante)$")


def always_right(_index: int, _challenge: Challenge) -> str:
    return "right"


def play_to_results(surface: Surface, content: Content, policy: Policy = always_right,
                    visit: Callable[[str], None] | None = None,
                    job_profile: str | None = None, stop_after: int | None = None) -> list[str]:
    """From the start page (or anywhere in the attempt) to the results page.

    ``visit(kind)`` is called on every page shown (axe, screenshots, measures); ``policy``
    says how to answer the n-th challenge. Stops at the results, or on the page that follows
    the ``stop_after``-th answer (its feedback when wrong or skipped; the next page, with its
    one-line confirmation, when right). Returns the kinds of the pages seen, in order.
    """
    seen: list[str] = []
    answered = 0
    for _step in range(1000):
        kind = surface.kind()
        seen.append(kind)
        if visit is not None:
            visit(kind)
        if kind == "results" or answered == stop_after:
            return seen
        if kind == "start":
            if job_profile is not None:
                surface.frame.get_by_label("Votre famille de métiers (facultatif)").select_option(
                    job_profile
                )
            surface.click("button", "Commencer le parcours")
        elif kind == "self-assessment":
            for position, group in enumerate(surface.frame.locator("fieldset.scale").all()):
                group.get_by_role("radio").nth(position % 4).check()
            surface.click("button", "Commencer les questions")
        elif kind == "timer-warning":
            surface.click("button", "Commencer l'épreuve chronométrée")
        elif kind.startswith("challenge-"):
            challenge = surface.challenge(content)
            answer(surface, challenge, policy(answered, challenge))
            answered += 1
        elif kind.startswith("feedback-"):
            surface.navigating(lambda: surface.frame.get_by_role("link", name=NEXT).click())
        elif kind == "checkpoint":
            surface.click("link", "Continuer le parcours")
        else:
            raise AssertionError(f"unexpected page {kind!r} at {surface.frame.url}")
    raise AssertionError("the parcours did not end")


# --- axe ---------------------------------------------------------------------------------


@dataclass
class AxeReport:
    violations: list[dict[str, Any]]
    framed_nodes: int = 0
    rules_run: int = 0
    incomplete: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = []
        for violation in self.violations:
            for node in violation["nodes"]:
                lines.append(
                    f"{violation['id']} ({violation['impact']}): {violation['help']} — "
                    f"{json.dumps(node['target'])}: {node.get('failureSummary', '')}"
                )
        return "\n".join(lines)


# axe first pings each frame and, with no answer within ``pingWaitTime`` (500 ms by default),
# leaves the frame out without a word: on a busy machine the tool's frame was then silently
# not audited. Frames here always run axe (injected above), so waiting longer costs nothing.
_AXE_RUN_JS = """(tags) => axe.run(document, {
  runOnly: {type: 'tag', values: tags},
  resultTypes: ['violations'],
  iframes: true,
  pingWaitTime: 15000,
})"""


def axe_audit(page: Any) -> AxeReport:
    """Run axe-core over the page and every frame in it, cross-origin frames included.

    axe's own runner only injects into the main frame; here the same ``axe.min.js`` goes into
    every frame, each is told to answer the top page whatever its origin, and the run starts
    from the top (browser-notes.md).
    """
    try:  # the axe-core that axe-playwright-python ships (works offline)
        from axe_playwright_python.base import AXE_SCRIPT
    except ImportError:
        missing_peer("axe-playwright-python is not installed (pip install axe-playwright-python)")
    for frame in page.frames:
        if not frame.evaluate("typeof window.axe !== 'undefined'"):
            frame.evaluate(AXE_SCRIPT)
        frame.evaluate("axe.configure({allowedOrigins: ['<unsafe_all_origins>']})")
    results = page.evaluate(_AXE_RUN_JS, list(WCAG_TAGS))
    framed = sum(
        1
        for group in ("passes", "incomplete", "violations")
        for rule in results[group]
        for node in rule["nodes"]
        if len(node["target"]) > 1
    )
    rules = sum(len(results[group]) for group in ("passes", "incomplete", "violations",
                                                  "inapplicable"))
    incomplete = [rule["id"] for rule in results["incomplete"]]
    return AxeReport(results["violations"], framed, rules, incomplete)


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save ``test-artifacts/screenshots/<name>.png`` for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
