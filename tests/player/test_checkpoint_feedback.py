"""Feedback and checkpoints: every fifth answer leads to a checkpoint that recaps exactly the
last five answers; the feedback of a failed skill (wrong, skipped, timed out) shows its
tutorials under « Pour réussir la prochaine fois » and « Pour en apprendre davantage », and
the feedback of a success shows none."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from lti_tool.domain.framework import Challenge
from tests.player.agent import Agent, Page, challenges_where

SUCCEED = "Pour réussir la prochaine fois"
LEARN_MORE = "Pour en apprendre davantage"


def mixed(index: int, _challenge: object) -> str:
    return ("right", "wrong", "right", "skip")[index % 4]


def recap(page: Page) -> list[tuple[int, str]]:
    """(answer number, status) of each line of the checkpoint's table."""
    body = page.html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    lines = []
    for row in re.findall(r"<tr.*?</tr>", body, re.S):
        number = re.search(r"<td[^>]*>\s*(\d+)\s*</td>", row)
        status = re.search(r"status-(ok|ko|skipped|timedout)", row)
        assert number, row
        assert status, row
        lines.append((int(number.group(1)), status.group(1)))
    return lines


def test_a_checkpoint_every_five_answers_recaps_exactly_those_five(
    make_agent: Callable[..., Agent],
) -> None:
    agent = make_agent(parcours="socle-commun")
    agent.launch()
    page = agent.start()
    given: list[tuple[int, str]] = []
    checkpoints: list[str] = []
    while len(given) < 12:
        if page.is_timer_warning:
            page = agent.start_timer(page)
            continue
        challenge = agent.content.challenges[page.challenge_id or ""]
        after = agent.answer(page, mixed(len(given), challenge))
        seq = len(given) + 1
        given.append((seq, after.answer_status or ""))
        if after.answer_status == "ok":
            # A right answer goes straight on: to the checkpoint every fifth answer, else to
            # the next challenge, with a one-line confirmation.
            assert f'data-answered="{seq}"' in after.html
            checkpoint = after if seq % 5 == 0 else None
            if checkpoint is None:
                assert after.challenge_id or after.is_timer_warning
                page = after
                continue
            assert checkpoint.checkpoint == str(seq)
            checkpoints.append(f"/play/checkpoint?lt={agent.token}&upto={seq}")
        else:
            onward = [link for link in after.links if "/play" in link]
            assert len(onward) == 1, onward
            if seq % 5 != 0:
                assert "/play/checkpoint" not in onward[0]
                page = agent.follow(agent.client.get(onward[0]))
                assert page.challenge_id or page.is_timer_warning
                continue
            assert "/play/checkpoint" in onward[0]
            assert f"upto={seq}" in onward[0]
            checkpoint = agent.follow(agent.client.get(onward[0]))
            checkpoints.append(onward[0])
        assert checkpoint.checkpoint == str(seq)
        assert recap(checkpoint) == given[-5:]
        ok = sum(1 for _n, status in given[-5:] if status == "ok")
        assert f"Sur ces 5 dernières questions, vous avez réussi {ok}" in checkpoint.text()
        onward = [link for link in checkpoint.links if "/play" in link]
        assert len(onward) == 1
        assert "/play/checkpoint" not in onward[0]
        page = agent.follow(agent.client.get(onward[0]))
        assert page.challenge_id or page.is_timer_warning
    assert len(checkpoints) == 2
    assert {s for _n, s in given} >= {"ok", "ko", "skipped"}
    # An earlier checkpoint, opened again later, still recaps its own five answers.
    assert recap(agent.follow(agent.client.get(checkpoints[0]))) == given[:5]


def _tutorial_titles(agent: Agent, ids: tuple[str, ...]) -> list[str]:
    return [agent.content.tutorials[t].title.fr for t in ids if t in agent.content.tutorials]


def _with_both_lists(c: Challenge, agent: Agent) -> bool:
    skill = agent.content.skills[c.skill_id]
    return bool(skill.tutorials and skill.learn_more)


def _with_tutorials_only(c: Challenge, agent: Agent) -> bool:
    skill = agent.content.skills[c.skill_id]
    return bool(skill.tutorials and not skill.learn_more)


# (which challenge, how it is answered, expected status)
FEEDBACK: dict[str, tuple[Callable[[Challenge, Agent], bool], str, str]] = {
    "success": (lambda c, a: not c.timer and _with_both_lists(c, a), "right", "ok"),
    "wrong answer": (lambda c, a: not c.timer and _with_both_lists(c, a), "wrong", "ko"),
    "skipped": (lambda c, a: not c.timer and _with_both_lists(c, a), "skip", "skipped"),
    "timed out": (lambda c, a: bool(c.timer), "right", "timedout"),
    "wrong, skill without learn-more": (
        lambda c, a: not c.timer and _with_tutorials_only(c, a),
        "wrong",
        "ko",
    ),
}


@pytest.mark.parametrize("case", list(FEEDBACK))
def test_feedback_shows_tutorials_only_for_failed_skills(
    case: str, make_agent: Callable[..., Agent]
) -> None:
    which, how, status = FEEDBACK[case]
    agent = make_agent(parcours="socle-commun")
    found = challenges_where(agent.content, agent.parcours, lambda c: which(c, agent))
    assert found, f"no challenge in the content for {case!r}"
    challenge = found[0]
    skill = agent.content.skills[challenge.skill_id]
    agent.launch()
    agent.start()
    started = datetime.now(UTC) - timedelta(seconds=10 * (challenge.timer or 0))
    agent.change_attempt(
        current_challenge_id=challenge.id,
        timer_started_at=started if challenge.timer else None,
    )
    feedback = agent.answer(agent.play(), how)
    assert feedback.answer_status == status
    text = feedback.text()
    succeed = _tutorial_titles(agent, skill.tutorials)
    more = _tutorial_titles(agent, skill.learn_more)
    if status == "ok":
        assert SUCCEED not in text
        assert LEARN_MORE not in text
        assert not any(title in text for title in succeed + more)
    else:
        assert (SUCCEED in text) == bool(succeed)
        assert (LEARN_MORE in text) == bool(more)
        assert succeed or more
        for title in succeed + more:
            assert title in text
        if succeed and more:
            assert text.index(SUCCEED) < text.index(succeed[0]) < text.index(LEARN_MORE)
            assert text.index(LEARN_MORE) < text.index(more[0])
