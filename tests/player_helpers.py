"""Answering challenges as a test agent: the right answer, a wrong one, or a skip."""

from __future__ import annotations

from lti_tool.domain.framework import (
    Challenge,
    DependentSolution,
    FieldsSolution,
    MultipleChoiceSolution,
    NumberSolution,
    SingleChoiceSolution,
    TextSolution,
)


def right_answer(challenge: Challenge) -> dict[str, str | list[str]]:
    """Form fields that answer ``challenge`` correctly (as a knowledgeable agent would)."""
    solution = challenge.solution
    if isinstance(solution, SingleChoiceSolution):
        return {"answer": str(solution.index)}
    if isinstance(solution, MultipleChoiceSolution):
        return {"answer": [str(i) for i in sorted(solution.indexes)]}
    if isinstance(solution, TextSolution):
        return {"answer": solution.accepted[0]}
    if isinstance(solution, NumberSolution):
        return {"answer": str(solution.accepted[0]).replace(".", ",")}
    if isinstance(solution, FieldsSolution):
        return {f"answer.{f.key}": solution.for_field(f.key)[0] for f in challenge.fields}
    if isinstance(solution, DependentSolution):
        values = [group[0] for group in solution.groups]
        return {
            f"answer.{f.key}": values[i] if i < len(values) else ""
            for i, f in enumerate(challenge.fields)
        }
    raise AssertionError(f"unknown solution {solution!r}")


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
