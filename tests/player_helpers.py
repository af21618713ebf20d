"""Answering challenges as a test agent: the right answer, a wrong one, or a skip."""

from __future__ import annotations

from lti_tool.domain.framework import (
    Challenge,
    MultipleChoiceSolution,
    SingleChoiceSolution,
)
from lti_tool.simulated_agents import form_for


def right_answer(challenge: Challenge) -> dict[str, str | list[str]]:
    """Form fields that answer ``challenge`` correctly (as a knowledgeable agent would): the
    same form the simulated agents post."""
    return form_for(challenge, right=True)


def wrong_answer(challenge: Challenge) -> dict[str, str | list[str]]:
    """Form fields that answer ``challenge`` wrongly."""
    solution = challenge.solution
    if isinstance(solution, SingleChoiceSolution):
        wrong = next(i for i in range(1, len(challenge.proposals) + 1) if i != solution.index)
        return {"answer": str(wrong)}
    if isinstance(solution, MultipleChoiceSolution):
        others = [
            str(i) for i in range(1, len(challenge.proposals) + 1) if i not in solution.indexes
        ]
        return {"answer": others or ["1", "1"]}
    if challenge.fields:
        return {f"answer.{f.key}": "zzz-faux" for f in challenge.fields}
    return {"answer": "zzz-faux-9999"}
