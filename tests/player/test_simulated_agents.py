"""Simulated agents post what a browser posts: their right answers are graded right."""

from __future__ import annotations

from pathlib import Path

from lti_tool.content import load_content
from lti_tool.domain.answers import AnswerStatus
from lti_tool.domain.checking import check_answer
from lti_tool.simulated_agents import form_for, submitted

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"


def test_right_forms_are_graded_right_and_wrong_ones_wrong_for_every_challenge() -> None:
    content = load_content(CONTENT_DIR)
    for challenge in content.challenges.values():
        for right in (True, False):
            answer = submitted(challenge, form_for(challenge, right))
            result = check_answer(challenge, answer, skipped=False, timed_out=False)
            expected = AnswerStatus.OK if right else AnswerStatus.KO
            assert result.status is expected, (challenge.id, right, answer)
