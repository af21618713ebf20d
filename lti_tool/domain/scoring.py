"""Pix-style scoring: from knowledge elements to levels, score, mastery, stages and badges.

Rules (all within the parcours' target):

* a validated skill earns ``min(4, 8 / n)`` points, ``n`` being the number of target skills
  at its level in its competence: a level is "worth" 8 points, and a single skill can never
  be worth more than half a level;
* competence level = ``floor(points / 8)``, capped at the competence's highest target level;
* total score = ``floor`` of the sum of points (Pix floors the total, not each competence);
* mastery = validated target skills / all target skills; stage = highest threshold ≤ mastery;
  thematic result = mastery over its tubes ≥ its threshold; job-profile gap per competence.

Points are exact ``Fraction`` values (8/3 + 8/3 + 8/3 must be exactly 8, or a level would be
lost to rounding).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from lti_tool.domain.answers import KnowledgeElement, KnowledgeStatus
from lti_tool.domain.framework import JobProfile, Stage, Text
from lti_tool.domain.target import CompetenceTarget, ParcoursView

POINTS_PER_LEVEL = 8
#: The self-assessment (1–4 per area) and the measured average level each feeling matches:
#: the agent's results page and the training reports compare them with these bands.
FEELING_BANDS: dict[int, tuple[float, float]] = {1: (0, 1), 2: (1, 2), 3: (2, 4), 4: (4, 8)}
MAX_POINTS_PER_SKILL = 4


@dataclass(frozen=True, slots=True)
class CompetenceResult:
    """Outcome for one competence of the parcours."""

    code: str
    points: Fraction
    level: int
    max_level: int
    validated_count: int
    failed_count: int
    target_count: int

    @property
    def pix(self) -> int:
        """Points rounded down, as displayed."""
        return math.floor(self.points)


@dataclass(frozen=True, slots=True)
class StageResult:
    """The stage reached; ``index`` counts from 0, so it is also the number of stars."""

    index: int
    stage: Stage
    stage_count: int


@dataclass(frozen=True, slots=True)
class ThematicOutcome:
    """One badge: its mastery over its tubes and whether it is acquired."""

    id: str
    title: Text
    mastery: Fraction
    threshold: int
    acquired: bool


@dataclass(frozen=True, slots=True)
class ProfileGap:
    """Reached level minus expected level (negative: below expectations).

    ``level`` and ``gap`` are ``None`` when the parcours does not measure the competence.
    """

    competence_code: str
    expected: int
    level: int | None
    gap: int | None


@dataclass(frozen=True, slots=True)
class AssessmentResult:
    """Everything the results page, the gradebook (AGS) and the xAPI statements need."""

    parcours_id: str
    competences: tuple[CompetenceResult, ...]
    total_score: int
    validated_count: int
    target_count: int
    mastery: Fraction
    stage: StageResult | None
    thematic_results: tuple[ThematicOutcome, ...]
    profile_gaps: tuple[ProfileGap, ...]
    passed: bool | None

    @property
    def mastery_percent(self) -> float:
        """Mastery as a percentage (0–100), for display."""
        return float(self.mastery * 100)

    def levels(self) -> dict[str, int]:
        """``{competence code: level}``, e.g. for the xAPI ``levels`` extension."""
        return {result.code: result.level for result in self.competences}

    def competence(self, code: str) -> CompetenceResult:
        """Result of one competence (``KeyError`` if not measured by the parcours)."""
        for result in self.competences:
            if result.code == code:
                return result
        raise KeyError(code)


_WEIGHTS: weakref.WeakKeyDictionary[ParcoursView, dict[str, Fraction]] = weakref.WeakKeyDictionary()


def skill_points(view: ParcoursView) -> Mapping[str, Fraction]:
    """Points each target skill earns when validated (memoised per view)."""
    weights = _WEIGHTS.get(view)
    if weights is None:
        weights = {}
        for competence in view.competences:
            per_level: dict[int, int] = {}
            for skill in competence.skills:
                per_level[skill.level] = per_level.get(skill.level, 0) + 1
            for skill in competence.skills:
                weights[skill.id] = min(
                    Fraction(MAX_POINTS_PER_SKILL),
                    Fraction(POINTS_PER_LEVEL, per_level[skill.level]),
                )
        _WEIGHTS[view] = weights
    return weights


def level_from_points(points: Fraction, max_level: int) -> int:
    """``floor(points / 8)`` capped at ``max_level``."""
    return min(math.floor(points / POINTS_PER_LEVEL), max_level)


def competence_level(
    view: ParcoursView, competence: CompetenceTarget, validated: Collection[str]
) -> int:
    """Level of one competence given the ids of validated skills (used by the engine too)."""
    weights = skill_points(view)
    points = sum(
        (weights[skill.id] for skill in competence.skills if skill.id in validated), Fraction(0)
    )
    return level_from_points(points, competence.max_level)


def _latest_by_skill(
    view: ParcoursView, knowledge_elements: Iterable[KnowledgeElement]
) -> dict[str, KnowledgeElement]:
    latest: dict[str, KnowledgeElement] = {}
    for element in knowledge_elements:
        if element.skill_id in view.skills:
            latest[element.skill_id] = element
    return latest


def _mastery(skill_ids: Collection[str], validated: Collection[str]) -> Fraction:
    if not skill_ids:
        return Fraction(0)
    return Fraction(sum(1 for skill in skill_ids if skill in validated), len(skill_ids))


def score(
    view: ParcoursView,
    knowledge_elements: Iterable[KnowledgeElement],
    job_profile: JobProfile | None = None,
) -> AssessmentResult:
    """Score an attempt from its knowledge elements.

    Elements for skills outside the target are ignored; if a skill has several, the last one
    counts. Skills without an element count as not validated.
    """
    latest = _latest_by_skill(view, knowledge_elements)
    validated = {skill for skill, element in latest.items() if element.is_validated}
    weights = skill_points(view)
    competences: list[CompetenceResult] = []
    total = Fraction(0)
    for competence in view.competences:
        skills = competence.skills
        points = sum((weights[s.id] for s in skills if s.id in validated), Fraction(0))
        total += points
        competences.append(
            CompetenceResult(
                code=competence.code,
                points=points,
                level=level_from_points(points, competence.max_level),
                max_level=competence.max_level,
                validated_count=sum(1 for s in skills if s.id in validated),
                failed_count=sum(
                    1
                    for s in skills
                    if s.id in latest and latest[s.id].status is KnowledgeStatus.FAILED
                ),
                target_count=len(skills),
            )
        )
    mastery = _mastery(list(view.skills), validated)
    parcours = view.parcours
    return AssessmentResult(
        parcours_id=parcours.id,
        competences=tuple(competences),
        total_score=math.floor(total),
        validated_count=len(validated),
        target_count=len(view.skills),
        mastery=mastery,
        stage=_stage(parcours.stages, mastery),
        thematic_results=_thematic(view, validated),
        profile_gaps=_gaps(job_profile, competences),
        passed=(
            None
            if parcours.mastery_threshold is None
            else mastery * 100 >= parcours.mastery_threshold
        ),
    )


def _stage(stages: tuple[Stage, ...], mastery: Fraction) -> StageResult | None:
    reached: StageResult | None = None
    ordered = sorted(stages, key=lambda stage: stage.threshold)
    for index, stage in enumerate(ordered):
        if stage.threshold <= mastery * 100:
            reached = StageResult(index=index, stage=stage, stage_count=len(ordered))
    return reached


def _thematic(view: ParcoursView, validated: Collection[str]) -> tuple[ThematicOutcome, ...]:
    outcomes: list[ThematicOutcome] = []
    for badge in view.parcours.thematic_results:
        tubes = set(badge.tube_ids)
        skill_ids = [s for s, tube in view.tube_of_skill.items() if tube.tube.id in tubes]
        mastery = _mastery(skill_ids, validated)
        outcomes.append(
            ThematicOutcome(
                id=badge.id,
                title=badge.title,
                mastery=mastery,
                threshold=badge.threshold,
                acquired=bool(skill_ids) and mastery * 100 >= badge.threshold,
            )
        )
    return tuple(outcomes)


def _gaps(
    job_profile: JobProfile | None, competences: list[CompetenceResult]
) -> tuple[ProfileGap, ...]:
    if job_profile is None:
        return ()
    levels = {result.code: result.level for result in competences}
    gaps: list[ProfileGap] = []
    for code, expected in job_profile.expected:
        level = levels.get(code)
        gaps.append(
            ProfileGap(
                competence_code=code,
                expected=expected,
                level=level,
                gap=None if level is None else level - expected,
            )
        )
    return tuple(gaps)
