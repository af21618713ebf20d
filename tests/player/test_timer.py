"""Timed challenges: a warning page comes first and starts the clock; an answer that arrives
after the time plus a grace period is ``timedout``; an answer to a timed challenge whose clock
never started is refused with a clear message and records nothing.

Time is moved the way the player allows it to move: by writing ``Attempt.timer_started_at``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from lti_tool.domain.framework import Challenge
from lti_tool.player.service import TIMER_GRACE_SECONDS
from tests.player.agent import Agent, Page, challenges_where
from tests.player.conftest import PlayerClock
from tests.player_helpers import right_answer


def timed_challenge(agent: Agent) -> Challenge:
    found = challenges_where(agent.content, agent.parcours, lambda c: bool(c.timer))
    assert found, f"the content has no timed challenge in {agent.parcours}"
    return found[0]


def show_warning(agent: Agent) -> tuple[Challenge, Page]:
    """Launch, start, and have the timed challenge served: its warning page."""
    challenge = timed_challenge(agent)
    agent.launch()
    agent.start()
    agent.change_attempt(current_challenge_id=challenge.id, timer_started_at=None)
    return challenge, agent.play()


@pytest.fixture
def timed_agent(make_agent: Callable[..., Agent]) -> Agent:
    return make_agent(parcours="socle-commun")


def test_the_warning_page_comes_first_and_starts_the_clock(timed_agent: Agent) -> None:
    challenge, warning = show_warning(timed_agent)
    assert warning.status == 200
    assert warning.is_timer_warning, warning.html
    assert warning.hidden("/play/timer")["challenge_id"] == challenge.id
    assert f"{challenge.timer} secondes" in warning.text()
    assert timed_agent.attempt().timer_started_at is None
    # Reloading the warning does not start the clock either.
    assert timed_agent.play().is_timer_warning
    assert timed_agent.attempt().timer_started_at is None

    before = datetime.now(UTC)
    page = timed_agent.start_timer(warning)
    started = timed_agent.attempt().timer_started_at
    assert started is not None
    started = started.replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= started <= datetime.now(UTC)
    assert page.challenge_id == challenge.id
    deadline = page.form_to("/play/answer")["attrs"]["data-deadline"]  # type: ignore[index]
    expected = started + timedelta(seconds=challenge.timer or 0)
    assert int(deadline) == int(expected.timestamp() * 1000)


def test_starting_the_clock_twice_does_not_restart_it(timed_agent: Agent) -> None:
    challenge, warning = show_warning(timed_agent)
    timed_agent.start_timer(warning)
    long_ago = datetime.now(UTC) - timedelta(seconds=(challenge.timer or 0) * 10)
    timed_agent.change_attempt(timer_started_at=long_ago)
    page = timed_agent.start_timer(warning)  # the old warning form, posted again
    stored = timed_agent.attempt().timer_started_at
    assert stored is not None
    assert abs(stored.replace(tzinfo=UTC) - long_ago) < timedelta(seconds=1)
    assert timed_agent.answer(page, "right").answer_status == "timedout"


def test_a_timer_form_for_another_challenge_starts_nothing(timed_agent: Agent) -> None:
    _challenge, _warning = show_warning(timed_agent)
    timed_agent.follow(timed_agent.post("/play/timer", {"challenge_id": "another"}))
    assert timed_agent.attempt().timer_started_at is None
    assert timed_agent.play().is_timer_warning


# (seconds elapsed since the clock started, relative to the timer; answer; expected status)
ELAPSED: dict[str, tuple[Callable[[int], float], str, str]] = {
    "well in time": (lambda t: t / 2, "right", "ok"),
    "wrong, in time": (lambda t: t / 2, "wrong", "ko"),
    "just after the timer, within the grace": (
        lambda t: t + TIMER_GRACE_SECONDS - 2,
        "right",
        "ok",
    ),
    "just after the grace": (lambda t: t + TIMER_GRACE_SECONDS + 2, "right", "timedout"),
    "wrong and late": (lambda t: t + TIMER_GRACE_SECONDS + 2, "wrong", "timedout"),
    "days later": (lambda t: 3 * 86_400, "right", "timedout"),
    "skipped late": (lambda t: t * 10, "skip", "skipped"),
}


@pytest.mark.parametrize("case", list(ELAPSED))
def test_answers_after_timer_and_grace_are_timed_out(
    case: str, timed_agent: Agent, player_clock: PlayerClock
) -> None:
    elapsed, how, status = ELAPSED[case]
    challenge, warning = show_warning(timed_agent)
    page = timed_agent.start_timer(warning)
    seconds = elapsed(challenge.timer or 0)
    timed_agent.change_attempt(timer_started_at=player_clock() - timedelta(seconds=seconds))
    feedback = timed_agent.answer(page, how)
    assert feedback.answer_status == status
    (record,) = timed_agent.records()
    assert record.status == status
    (answered,) = [s for s in timed_agent.statements() if s["verb"]["id"].endswith("/answered")]
    extensions = answered["result"]["extensions"]
    assert status in extensions.values()


@pytest.mark.parametrize("action", ["validate", "skip"])
def test_answering_a_timed_challenge_whose_clock_never_started_is_refused(
    action: str, timed_agent: Agent
) -> None:
    challenge, _warning = show_warning(timed_agent)
    fields = {"challenge_id": challenge.id, "seq": "1", "action": action, **right_answer(challenge)}
    response = timed_agent.post("/play/answer", fields)
    assert response.status_code == 409
    page = timed_agent.follow(response)
    assert "Cette épreuve chronométrée n'a pas été démarrée." in page.text()
    assert "lancez le chronomètre" in page.text()
    assert page.hook("data-rejection") == "timer_not_started"
    assert timed_agent.records() == []
    assert timed_agent.verbs().count("answered") == 0
    attempt = timed_agent.attempt()
    assert (attempt.answer_count, attempt.current_challenge_id) == (0, challenge.id)
    assert timed_agent.play().is_timer_warning


def test_a_resumed_timed_challenge_keeps_its_clock(timed_agent: Agent) -> None:
    """Coming back from another device does not offer a fresh clock."""
    challenge, warning = show_warning(timed_agent)
    page = timed_agent.start_timer(warning)
    deadline = page.form_to("/play/answer")["attrs"]["data-deadline"]  # type: ignore[index]
    timed_agent.launch()
    resumed = timed_agent.start()
    assert resumed.challenge_id == challenge.id
    assert not resumed.is_timer_warning
    assert resumed.form_to("/play/answer")["attrs"]["data-deadline"] == deadline  # type: ignore[index]
