"""Agents take parcours in a real browser, inside the LMS's cross-site iframe where
third-party cookies are blocked: a whole parcours to its results, and a parcours stopped on
one device and resumed on another, with the back button and a stale tab in the way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lti_tool.config import PROJECT_DIR
from tests.browser.helpers import Peers, Surface, answer, play_to_results

pytestmark = pytest.mark.browser

REAL_CONTENT = PROJECT_DIR / "content"


def open_in_lms(context: Any, peers: Peers, activity_id: str) -> Surface:
    """The agent opens the activity from the course: the tool loads in the LMS iframe."""
    page = context.new_page()
    page.goto(peers.activity_page(activity_id))
    page.frame_locator("iframe.tool").locator("form[action*='/play/start']").wait_for()
    return Surface.iframe(page)


def assert_third_party_cookies_blocked(surface: Surface) -> None:
    """The tool's frame cannot keep an ordinary cookie: the tool must live without one."""
    kept = surface.frame.evaluate(
        "() => { document.cookie = 'probe=1; SameSite=None; Secure; Path=/';"
        " return document.cookie; }"
    )
    assert "probe" not in kept


def test_agent_completes_socle_commun_in_the_lms_iframe(
    start_peers: Callable[..., Peers], new_context: Callable[..., Any]
) -> None:
    peers = start_peers(REAL_CONTENT)
    activity = peers.add_activity("socle-commun")
    # On a 320 px phone: every page of the real content must fit the LMS's narrow frame.
    surface = open_in_lms(new_context(viewport={"width": 320, "height": 640}), peers, activity)
    assert_third_party_cookies_blocked(surface)
    too_wide: list[str] = []

    def fits(kind: str) -> None:
        width, room = surface.frame.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if width > room:
            too_wide.append(f"{kind} {surface.frame.url}: {width} px in {room} px")

    seen = play_to_results(surface, peers.content, visit=fits)
    assert not too_wide, too_wide

    assert seen[-1] == "results"
    rows = surface.frame.locator("tr[data-competence]")
    assert rows.count() == 16
    codes = rows.evaluate_all("rows => rows.map(r => r.dataset.competence)")
    assert len(set(codes)) == 16
    answers = [kind for kind in seen if kind.startswith("challenge-")]
    records = peers.answer_records()
    assert len(records) == len(answers)
    assert {status for _seq, _id, status in records} == {"ok"}


def test_agent_resumes_on_another_device_and_answers_count_once(
    start_peers: Callable[..., Peers], new_context: Callable[..., Any]
) -> None:
    peers = start_peers(REAL_CONTENT)
    activity = peers.add_activity("socle-commun")

    # At the office: three answers, then the next challenge is on screen when the agent leaves.
    office = open_in_lms(new_context(), peers, activity)
    play_to_results(office, peers.content, stop_after=3)
    assert office.confirmed() == 3  # right answers go straight on to the next challenge
    if office.kind() == "timer-warning":
        office.click("button", "Commencer l'épreuve chronométrée")
    waiting = office.challenge(peers.content)
    assert len(peers.answer_records()) == 3

    # At home, another browser (no shared cookie or storage), launched again from the LMS.
    home = open_in_lms(new_context(), peers, activity)
    assert "Vous avez déjà répondu à 3 questions." in home.frame.locator("main").inner_text()
    home.click("button", "Reprendre le parcours")
    if home.kind() == "timer-warning":
        home.click("button", "Commencer l'épreuve chronométrée")
    assert home.challenge(peers.content).id == waiting.id
    assert len(peers.answer_records()) == 3

    answer(home, waiting, "right")
    assert home.confirmed() == 4
    assert len(peers.answer_records()) == 4

    # Back to the challenge page, and its form sent again: never a second answer.
    home.navigating(lambda: home.page.evaluate("history.back()"))
    if home.kind() == "timer-warning":
        home.click("button", "Commencer l'épreuve chronométrée")
    shown = home.challenge(peers.content)
    answer(home, shown, "right")
    records = peers.answer_records()
    recorded_ids = [challenge_id for _seq, challenge_id, _status in records]
    assert recorded_ids.count(waiting.id) == 1
    assert len(records) == (4 if shown.id == waiting.id else 5)

    # The office tab still shows the old form: sending it (wrong, this time) records nothing
    # and shows where the attempt really is.
    answer(office, waiting, "wrong")
    where = office.kind()
    assert where.startswith("challenge-") or where in {"timer-warning", "checkpoint"}, where
    assert peers.answer_records() == records
    assert [seq for seq, _id, _status in records] == list(range(1, len(records) + 1))
