"""Pix-style scoring, checked against hand-computed examples."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import pytest

from lti_tool.domain.answers import KnowledgeElement, KnowledgeSource, KnowledgeStatus
from lti_tool.domain.framework import JobProfile, Text
from lti_tool.domain.scoring import level_from_points, score, skill_points
from lti_tool.domain.target import parcours_view

from .factories import small_content

V, F = KnowledgeStatus.VALIDATED, KnowledgeStatus.FAILED


def _elements(validated: Sequence[str], failed: Sequence[str] = ()) -> list[KnowledgeElement]:
    return [KnowledgeElement(s, V, KnowledgeSource.DIRECT) for s in validated] + [
        KnowledgeElement(s, F, KnowledgeSource.INFERRED) for s in failed
    ]


def test_points_per_skill() -> None:
    view = parcours_view(small_content(), "p")
    points = skill_points(view)
    # 1.1: two skills at levels 1 and 2 (4 points each), one at level 3 (capped at 4, not 8).
    assert points["t1-1"] == points["t2-2"] == points["t1-3"] == 4
    # 2.1: three skills per level: 8/3 each, exactly.
    assert points["b1-1"] == points["b3-2"] == Fraction(8, 3)


def test_hand_computed_attempt() -> None:
    view = parcours_view(small_content(), "p")
    validated = ["t1-1", "t1-2", "t1-3", "t2-1", "t2-2", "b1-1", "b2-1", "b3-1", "b1-2"]
    profile = JobProfile("accueil", Text("Accueil"), (("1.1", 3), ("2.1", 1), ("3.1", 2)))
    result = score(view, _elements(validated, ["b2-2", "b3-2"]), profile)

    first = result.competence("1.1")
    assert (first.points, first.level, first.max_level) == (20, 2, 3)  # 20 / 8 = 2.5
    assert (first.validated_count, first.failed_count, first.target_count) == (5, 0, 5)
    second = result.competence("2.1")
    assert second.points == Fraction(32, 3)  # 8 + 8/3
    assert (second.level, second.validated_count, second.failed_count) == (1, 4, 2)
    assert result.total_score == 30  # floor(20 + 10.67)
    assert result.mastery == Fraction(9, 11)
    assert result.stage is not None
    assert (result.stage.index, result.stage.stage.threshold) == (2, 80)
    badges = {b.id: (b.mastery, b.acquired) for b in result.thematic_results}
    assert badges == {
        "badge-a": (Fraction(1), True),
        "badge-b": (Fraction(3, 4), True),  # exactly the threshold (75 %)
        "badge-c": (Fraction(1, 2), False),
    }
    gaps = {g.competence_code: (g.level, g.gap) for g in result.profile_gaps}
    assert gaps == {"1.1": (2, -1), "2.1": (1, 0), "3.1": (None, None)}
    assert result.passed is True
    assert result.levels() == {"1.1": 2, "2.1": 1}


def test_three_thirds_make_exactly_one_level() -> None:
    view = parcours_view(small_content(), "p")
    result = score(view, _elements(["b1-1", "b2-1", "b3-1"]))
    assert result.competence("2.1").points == 8
    assert result.competence("2.1").level == 1


def test_nothing_validated() -> None:
    view = parcours_view(small_content(), "p")
    result = score(view, [])
    assert result.total_score == 0
    assert result.mastery == 0
    assert result.stage is not None
    assert result.stage.index == 0
    assert result.passed is False
    assert all(c.level == 0 for c in result.competences)
    assert result.profile_gaps == ()


def test_target_limits_the_skills_that_count() -> None:
    # t1 only up to level 2: t1-3 is outside the target and is ignored, even if validated.
    view = parcours_view(small_content({"t1": 2, "t2": 2}), "p")
    result = score(view, _elements(["t1-1", "t1-2", "t1-3", "t2-1", "t2-2", "zz-1"]))
    assert [c.code for c in result.competences] == ["1.1"]
    assert result.competence("1.1").points == 16
    assert result.competence("1.1").max_level == 2
    assert result.mastery == 1
    assert result.target_count == 4


def test_last_element_of_a_skill_wins() -> None:
    view = parcours_view(small_content(), "p")
    elements = _elements(["t1-1"]) + _elements([], ["t1-1"])
    assert score(view, elements).competence("1.1").validated_count == 0


@pytest.mark.parametrize(
    ("points", "cap", "level"),
    [
        (Fraction(0), 5, 0),
        (Fraction(63, 8), 5, 0),
        (Fraction(8), 5, 1),
        (Fraction(47), 5, 5),
        (Fraction(64), 3, 3),
    ],
)
def test_level_from_points(points: Fraction, cap: int, level: int) -> None:
    assert level_from_points(points, cap) == level
