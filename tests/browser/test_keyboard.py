"""An agent who uses only the keyboard (Tab, Shift+Tab, Space, Enter, arrows) starts a parcours,
answers a single-choice and a multiple-choice challenge, skips one and reaches the feedback.

On every page, focus must move in the visual order (top to bottom, left to right on a line),
always land on something visible with a visible focus outline, and every control reached must
have an accessible name.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from lti_tool.domain.framework import (
    Challenge,
    ChallengeType,
    MultipleChoiceSolution,
    SingleChoiceSolution,
)
from tests.browser.helpers import FIXTURE_PARCOURS, Peers, Surface

pytestmark = pytest.mark.browser

FOCUSED_JS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) { return null; }
  const r = e.getBoundingClientRect();
  const style = getComputedStyle(e);
  return {
    tag: e.tagName.toLowerCase(), type: e.getAttribute('type') || '', name: e.name || '',
    value: e.value || '', checked: !!e.checked,
    top: r.top + window.scrollY, left: r.left + window.scrollX,
    width: r.width, height: r.height,
    outline: style.outlineStyle === 'none' ? 0 : parseFloat(style.outlineWidth),
  };
}"""
#: Roles (as Chromium's accessibility tree names them) of things a person operates.
CONTROL_ROLES = {
    "button", "link", "textbox", "searchbox", "combobox", "listbox", "radio", "checkbox",
    "spinbutton", "slider", "switch", "tab", "menuitem", "DisclosureTriangle",
}


@dataclass
class Stop:
    """Where one key press left the focus."""

    key: str
    tag: str
    type: str
    name: str
    value: str
    checked: bool
    top: float
    left: float
    width: float
    height: float
    outline: float
    role: str
    label: str


class Keyboard:
    """Presses keys on a page and keeps, per page, the focus stops in order.

    Roles and names come from Chromium's own accessibility tree (DevTools protocol): what a
    screen reader is given.
    """

    def __init__(self, page: Any) -> None:
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self.stops: list[Stop] = []
        self.pages: list[tuple[str, list[Stop]]] = []

    def focused_role_and_name(self) -> tuple[str, str]:
        result = self.cdp.send("Runtime.evaluate", {"expression": "document.activeElement"})
        tree = self.cdp.send(
            "Accessibility.getPartialAXTree",
            {"objectId": result["result"]["objectId"], "fetchRelatives": False},
        )
        node = tree["nodes"][0]
        return node["role"]["value"], node.get("name", {}).get("value", "").strip()

    def unnamed_controls(self) -> list[str]:
        """Controls of the page (not hidden from assistive technologies) without a name."""
        tree = self.cdp.send("Accessibility.getFullAXTree")
        return [
            f"{self.page.url}: unnamed {node['role']['value']}"
            for node in tree["nodes"]
            if not node.get("ignored")
            and node.get("role", {}).get("value") in CONTROL_ROLES
            and not node.get("name", {}).get("value", "").strip()
        ]

    def press(self, key: str) -> Stop:
        self.page.keyboard.press(key)
        focused = self.page.evaluate(FOCUSED_JS)
        assert focused is not None, f"{key} left the focus nowhere"
        role, name = self.focused_role_and_name()
        assert name, f"the focused {focused['tag']} ({role}) has no accessible name"
        stop = Stop(key=key, role=role, label=name, **focused)
        self.stops.append(stop)
        return stop

    def tab_until(self, wanted: Callable[[Stop], bool], limit: int = 40) -> Stop:
        for _ in range(limit):
            stop = self.press("Tab")
            if wanted(stop):
                return stop
        raise AssertionError(f"Tab never reached the control; stops: {self.stops}")

    def leave(self, kind: str, key: str = "Enter") -> None:
        """Press ``key`` on the focused control, which opens the next page."""
        surface = Surface.top(self.page)
        surface.navigating(lambda: self.page.keyboard.press(key))
        self.pages.append((kind, self.stops))
        self.stops = []


def check_page(kind: str, stops: list[Stop]) -> list[str]:
    """Problems of one page's focus path: order against the layout, visibility, names."""
    problems = []
    forward = [s for s in stops if s.key == "Tab"]
    for before, after in itertools.pairwise(forward):
        same = (before.tag, before.name, before.value) == (after.tag, after.name, after.value)
        lower = after.top > before.top + 2
        same_line_right = abs(after.top - before.top) <= 2 and after.left > before.left
        if not (same or lower or same_line_right):
            problems.append(f"{kind}: focus went up/left from {before.label!r} to {after.label!r}")
    for stop in stops:
        if stop.width < 1 or stop.height < 1:
            problems.append(f"{kind}: focus on an invisible {stop.tag} {stop.label!r}")
        if stop.outline < 2:
            problems.append(f"{kind}: no visible focus outline on {stop.tag} {stop.label!r}")
    return problems


def choose_radio(keys: Keyboard, wanted: str) -> None:
    """Enter a radio group with Tab, then check ``wanted`` with Space and the arrows."""
    stop = keys.tab_until(lambda s: s.type == "radio" and s.name == "answer")
    stop = keys.press("Space")
    for _ in range(10):
        if stop.checked and stop.value == wanted:
            return
        stop = keys.press("ArrowDown")
    raise AssertionError(f"the arrows never reached proposal {wanted}")


def tick_boxes(keys: Keyboard, wanted: set[str], count: int) -> None:
    """Tab through the ``count`` check boxes, ticking the wanted ones with Space."""
    boxes = []
    for _ in range(count):
        stop = keys.tab_until(lambda s: s.type == "checkbox")
        boxes.append(stop.value)
        if stop.value in wanted:
            assert keys.press("Space").checked
    # Shift+Tab goes back to the box before, Tab returns: the reverse path is the same.
    assert keys.press("Shift+Tab").value == boxes[-2]
    assert keys.press("Tab").value == boxes[-1]


def test_keyboard_only_agent_answers_skips_and_reaches_feedback(
    start_peers: Callable[..., Peers], new_context: Callable[..., Any]
) -> None:
    peers = start_peers()
    activity = peers.add_activity(FIXTURE_PARCOURS)
    page = new_context().new_page()
    page.goto(peers.window_launch(activity))
    page.locator("form[action*='/play/start']").wait_for()
    keys = Keyboard(page)
    problems: list[str] = []

    # Start page: skip link, job family (arrows choose one), then the start button.
    assert keys.press("Tab").label == "Aller au contenu"
    keys.tab_until(lambda s: s.tag == "select")
    assert keys.press("ArrowDown").value != ""
    keys.tab_until(lambda s: s.label == "Commencer le parcours")
    problems += keys.unnamed_controls()
    keys.leave("start")

    # Self-assessment: a feeling for the first area with Space and an arrow, then go on.
    keys.tab_until(lambda s: s.type == "radio")
    keys.press("Space")
    assert keys.press("ArrowDown").checked
    keys.tab_until(lambda s: s.label == "Commencer les questions")
    problems += keys.unnamed_controls()
    keys.leave("self-assessment")

    done: dict[str, Challenge] = {}
    while True:
        kind = Surface.top(page).kind()
        problems += keys.unnamed_controls()
        if kind == "timer-warning":
            keys.tab_until(lambda s: s.tag == "button")
            keys.leave(kind)
            continue
        if kind.startswith("feedback-"):
            if {"qcu", "qcm", "skip"} <= set(done):
                break
            keys.tab_until(lambda s: s.tag == "a" and s.label in {"Question suivante",
                                                                  "Continuer"})
            keys.leave(kind)
            continue
        if kind == "checkpoint":
            keys.tab_until(lambda s: s.label == "Continuer le parcours")
            keys.leave(kind)
            continue
        if kind == "results" and {"qcu", "qcm", "skip"} <= set(done):
            # The engine ended this short parcours on a right answer, which goes straight to
            # the results: the feedback pages met on the way were walked when left.
            assert any(seen.startswith("feedback-") for seen, _stops in keys.pages)
            break
        assert kind.startswith("challenge-"), kind
        challenge = Surface.top(page).challenge(peers.content)
        solution = challenge.solution
        if challenge.type is ChallengeType.QCU and "qcu" not in done:
            assert isinstance(solution, SingleChoiceSolution)
            choose_radio(keys, str(solution.index))
            keys.tab_until(lambda s: s.tag == "button" and s.value == "validate")
            done["qcu"] = challenge
        elif challenge.type is ChallengeType.QCM and "qcm" not in done:
            assert isinstance(solution, MultipleChoiceSolution)
            tick_boxes(keys, {str(i) for i in solution.indexes}, len(challenge.proposals))
            keys.tab_until(lambda s: s.tag == "button" and s.value == "validate")
            done["qcm"] = challenge
        else:
            keys.tab_until(lambda s: s.tag == "button" and s.value == "skip")
            done.setdefault("skip", challenge)
        keys.leave(kind, "Space" if len(done) % 2 else "Enter")

    if kind.startswith("feedback-"):
        # The last feedback page: its whole focus path, to the way forward.
        keys.tab_until(lambda s: s.tag == "a" and s.label in {"Question suivante", "Continuer"})
        keys.pages.append(("feedback", keys.stops))
    for kind, stops in keys.pages:
        problems += check_page(kind, stops)
    assert not problems, "\n".join(problems)

    statuses = {challenge_id: status for _seq, challenge_id, status in peers.answer_records()}
    assert statuses[done["qcu"].id] == "ok"
    assert statuses[done["qcm"].id] == "ok"
    assert statuses[done["skip"].id] == "skipped"
