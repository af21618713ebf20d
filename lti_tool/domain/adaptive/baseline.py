"""The baseline: a Pix-like algorithm, written from its public description only.

* The first challenge is a level-2 skill of an "easy" tube (a tube whose target stops at
  level 3 or below; every tube if there is none).
* A correct answer validates the skill and every easier skill of its tube; a wrong (skipped,
  timed-out) one fails the skill and every harder skill of its tube.
* One overall level is estimated from the direct answers with a logistic model:
  ``P(correct) = 1 / (1 + exp(-(estimate - skill level)))``, maximum likelihood on a grid of
  half levels (2 before any answer).
* Skills more than 2 levels above the estimate are not asked.
* Among the remaining untested skills, the one whose answer is expected to settle the most
  untested skills — ``p × (skills a success validates) + (1 - p) × (skills a failure
  fails)`` — is asked; ties are broken at random.
* The attempt stops when no untested skill can be asked any more.

It serves as the yardstick for Socle's algorithm in ``socle simulate``.
"""

from __future__ import annotations

import math
import random
import weakref
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from lti_tool.domain.adaptive.base import pick_challenge
from lti_tool.domain.answers import (
    Answer,
    KnowledgeElement,
    KnowledgeSource,
    KnowledgeStatus,
)
from lti_tool.domain.framework import Challenge, Skill
from lti_tool.domain.target import ParcoursView, TubeTarget

START_LEVEL = 2
EASY_TUBE_MAX_LEVEL = 3
LEVELS_ABOVE_ESTIMATE = 2
GRID_STEP = 0.5
#: Rewards closer than this are ties (floating-point noise must not decide).
TIE_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class _Model:
    """Per-view precomputation: the estimate grid and log-likelihood rows per level."""

    grid: tuple[float, ...]
    log_ok: dict[int, tuple[float, ...]]
    log_ko: dict[int, tuple[float, ...]]
    easy_tubes: tuple[TubeTarget, ...]


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _build_model(view: ParcoursView) -> _Model:
    top = max((c.max_level for c in view.competences), default=START_LEVEL)
    grid = tuple(i * GRID_STEP for i in range(round(top / GRID_STEP) + 1))
    levels = {skill.level for skill in view.skills.values()}
    log_ok = {
        level: tuple(math.log(_logistic(theta - level)) for theta in grid) for level in levels
    }
    log_ko = {
        level: tuple(math.log(1.0 - _logistic(theta - level)) for theta in grid) for level in levels
    }
    tubes = [tube for competence in view.competences for tube in competence.tubes]
    easy = tuple(tube for tube in tubes if tube.max_level <= EASY_TUBE_MAX_LEVEL)
    return _Model(grid=grid, log_ok=log_ok, log_ko=log_ko, easy_tubes=easy or tuple(tubes))


class BaselineAlgorithm:
    """Pix-like adaptive algorithm (see module docstring). Stateless and deterministic."""

    name = "baseline"

    def __init__(self) -> None:
        self._models: weakref.WeakKeyDictionary[ParcoursView, _Model] = weakref.WeakKeyDictionary()

    def _model(self, view: ParcoursView) -> _Model:
        model = self._models.get(view)
        if model is None:
            model = _build_model(view)
            self._models[view] = model
        return model

    def knowledge_elements(
        self, view: ParcoursView, answers: Sequence[Answer]
    ) -> list[KnowledgeElement]:
        """Direct elements from answers, inferred ones from the tube rules.

        The first element settling a skill stays, except that a direct answer replaces an
        inference (an agent's own answer says more than a deduction).
        """
        settled: dict[str, KnowledgeElement] = {}
        for answer in answers:
            skill = view.skills.get(answer.skill_id)
            if skill is None:
                continue
            current = settled.get(skill.id)
            status = KnowledgeStatus.VALIDATED if answer.is_correct else KnowledgeStatus.FAILED
            if current is None or current.source is KnowledgeSource.INFERRED:
                settled[skill.id] = KnowledgeElement(
                    skill.id, status, KnowledgeSource.DIRECT, answer.challenge_id
                )
            for other in view.tube_of_skill[skill.id].skills:
                implied = (
                    other.level < skill.level if answer.is_correct else other.level > skill.level
                )
                if implied and other.id not in settled:
                    settled[other.id] = KnowledgeElement(
                        other.id, status, KnowledgeSource.INFERRED, answer.challenge_id
                    )
        return list(settled.values())

    def estimate(self, view: ParcoursView, answers: Sequence[Answer]) -> float:
        """Maximum-likelihood overall level from the direct answers (2 before any)."""
        model = self._model(view)
        totals = [0.0] * len(model.grid)
        counted = 0
        for answer in answers:
            skill = view.skills.get(answer.skill_id)
            if skill is None:
                continue
            row = model.log_ok[skill.level] if answer.is_correct else model.log_ko[skill.level]
            totals = [total + value for total, value in zip(totals, row, strict=True)]
            counted += 1
        if not counted:
            return float(START_LEVEL)
        best = max(totals)
        maximisers = [
            theta for theta, total in zip(model.grid, totals, strict=True) if total >= best - 1e-9
        ]
        return sum(maximisers) / len(maximisers)

    def _candidates(
        self, view: ParcoursView, answers: Sequence[Answer]
    ) -> tuple[list[tuple[float, Skill]], set[str]]:
        asked = {answer.challenge_id for answer in answers}
        settled = {element.skill_id for element in self.knowledge_elements(view, answers)}
        estimate = self.estimate(view, answers)
        candidates: list[tuple[float, Skill]] = []
        for competence in view.competences:
            for tube in competence.tubes:
                open_skills = [s for s in tube.skills if s.id not in settled]
                for skill in open_skills:
                    if skill.level > estimate + LEVELS_ABOVE_ESTIMATE:
                        continue
                    if all(c.id in asked for c in skill.served_challenges):
                        continue
                    p = _logistic(estimate - skill.level)
                    validates = sum(1 for s in open_skills if s.level <= skill.level)
                    fails = sum(1 for s in open_skills if s.level >= skill.level)
                    candidates.append((p * validates + (1 - p) * fails, skill))
        return candidates, asked

    def next_challenge(
        self,
        view: ParcoursView,
        answers: Sequence[Answer],
        rng: random.Random,
        *,
        seen: Collection[str] = frozenset(),
        exposure: Mapping[str, float] | None = None,
    ) -> Challenge | None:
        """The challenge of the most "settling" untested skill, or ``None`` when done."""
        asked = {answer.challenge_id for answer in answers}
        if not any(answer.skill_id in view.skills for answer in answers):
            first = self._first_skills(view, asked)
            if first:
                skill = rng.choice(first)
                return pick_challenge(skill.served_challenges, asked, seen, rng)
        candidates, asked = self._candidates(view, answers)
        if not candidates:
            return None
        best = max(reward for reward, _ in candidates)
        top = [skill for reward, skill in candidates if reward >= best - TIE_EPSILON]
        skill = rng.choice(top)
        return pick_challenge(skill.served_challenges, asked, seen, rng)

    def _first_skills(self, view: ParcoursView, asked: Collection[str]) -> list[Skill]:
        """Level-2 skills of easy tubes that can be asked (the nearest level if none)."""
        askable = [
            skill
            for tube in self._model(view).easy_tubes
            for skill in tube.skills
            if any(c.id not in asked for c in skill.served_challenges)
        ]
        if not askable:
            return []
        nearest = min(abs(skill.level - START_LEVEL) for skill in askable)
        return [skill for skill in askable if abs(skill.level - START_LEVEL) == nearest]

    def progress(self, view: ParcoursView, answers: Sequence[Answer]) -> int:
        """Share of target skills settled so far, 100 once nothing is left to ask."""
        candidates, _ = self._candidates(view, answers)
        if not candidates:
            return 100
        settled = len(self.knowledge_elements(view, answers))
        return min(99, round(100 * settled / max(1, settled + len(candidates))))
