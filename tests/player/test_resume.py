"""Resuming: an agent stops after N answers and comes back days later from another device
(a new LMS launch: new login, new page token, no cookie of the first browser). The start
page offers to resume, and the agent lands on the very challenge that was on screen, with
the same number, and not one answer more or less."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.player.agent import Agent, challenges_where


def mixed(index: int, _challenge: object) -> str:
    return ("right", "wrong", "skip")[index % 3]


# (parcours, answers given before stopping)
CASES: dict[str, tuple[str, int]] = {
    "before the first answer": ("sensibilisation-donnees", 0),
    "after one answer": ("sensibilisation-donnees", 1),
    "after four answers": ("sensibilisation-donnees", 4),
    "right after a checkpoint": ("sensibilisation-donnees", 5),
    "self-assessed parcours, after three answers": ("socle-commun", 3),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_new_launch_from_another_device_lands_on_the_same_challenge(
    case: str, make_agent: Callable[..., Agent]
) -> None:
    parcours, stop_after = CASES[case]
    agent = make_agent(parcours=parcours)
    agent.launch()
    page = agent.start()
    if stop_after:
        agent.run(mixed, stop_after=stop_after, page=page)
        page = agent.play()  # the next challenge is on screen when the agent leaves
    assert page.challenge_id, page.html
    before = (page.challenge_id, page.seq, agent.attempt().answer_count, len(agent.records()))
    first_token = agent.token

    home = agent.launch(
        new_device=True,
        lti_launch_presentation={"document_target": "window", "locale": "fr-FR"},
    )
    assert agent.token != first_token
    assert "Reprendre le parcours" in home.text()
    if stop_after:
        assert f"Vous avez déjà répondu à {stop_after} question" in home.text()
    assert "Commencer le parcours" not in home.text()

    resumed = agent.start()
    after = (resumed.challenge_id, resumed.seq, agent.attempt().answer_count, len(agent.records()))
    assert after == before
    assert before[1] == stop_after + 1
    assert len(agent.attempts()) == 1
    # Reloading the page, or following the old tab's link, shows it again.
    assert agent.play().challenge_id == before[0]


def test_resuming_keeps_the_proposals_in_the_same_order(make_agent: Callable[..., Agent]) -> None:
    """Shuffled proposals are shuffled once per attempt: a resumed agent sees the same list."""
    agent = make_agent(parcours="socle-commun")
    shuffled = challenges_where(
        agent.content, agent.parcours, lambda c: c.shuffle and len(c.proposals) >= 4
    )
    assert shuffled, "the content has no shuffled challenge with four proposals or more"
    agent.launch()
    agent.start()
    agent.change_attempt(current_challenge_id=shuffled[0].id, timer_started_at=None)

    def order() -> list[str]:
        page = agent.play()
        assert page.challenge_id == shuffled[0].id
        form = page.form_to("/play/answer")
        assert form is not None
        return [v for n, v, _k in form["inputs"] if n == "answer"]

    seen = order()
    assert sorted(seen) == [str(i) for i in range(1, len(shuffled[0].proposals) + 1)]
    agent.launch()
    agent.start()
    assert order() == seen


def test_the_agent_answers_on_after_resuming(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent()
    agent.launch()
    agent.run(mixed, stop_after=2, page=agent.start())
    agent.launch()
    results, given = agent.run(mixed, page=agent.start())
    assert results.levels
    records = agent.records()
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    assert len(records) == 2 + len(given)
    assert agent.verbs().count("attempted") == 1  # one attempt, started once
