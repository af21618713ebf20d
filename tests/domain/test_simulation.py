"""Simulated learners, the synthetic content and parcours views."""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence

import pytest

from lti_tool.domain.adaptive import BaselineAlgorithm, SocleAlgorithm
from lti_tool.domain.answers import Answer, KnowledgeElement
from lti_tool.domain.framework import Challenge
from lti_tool.domain.simulation import (
    SimulationConfig,
    draw_learner,
    draw_world,
    format_table,
    percentile,
    run_attempt,
    simulate,
    true_levels,
)
from lti_tool.domain.synthetic import FRAMEWORK_CODES, synthetic_content
from lti_tool.domain.target import ParcoursView, parcours_view


@pytest.fixture(scope="module")
def view() -> ParcoursView:
    return parcours_view(synthetic_content(random.Random(1)), "socle-commun")


def test_synthetic_content_has_the_shape_of_socle_commun(view: ParcoursView) -> None:
    assert [c.code for c in view.competences] == [c for _, codes in FRAMEWORK_CODES for c in codes]
    assert all(2 <= len(c.tubes) <= 3 for c in view.competences)
    assert {s.level for s in view.skills.values()} == {1, 2, 3, 4, 5}
    per_skill = len(view.challenges) / len(view.skills)
    assert 1.5 <= per_skill <= 1.9
    kinds = {c.type for c in view.challenges.values()}
    assert len(kinds) == 5


def test_true_levels_follow_the_hidden_abilities(view: ParcoursView) -> None:
    config = SimulationConfig()
    world = draw_world(view, random.Random(1), config)
    rng = random.Random(2)
    population = [draw_learner(view, rng, config) for _ in range(300)]
    levels = [true_levels(view, world, learner) for learner in population]
    seen = {level for learner_levels in levels for level in learner_levels.values()}
    assert seen == {0, 1, 2, 3, 4, 5}  # the population spans every level
    weak = min(population, key=lambda learner: learner.general)
    strong = max(population, key=lambda learner: learner.general)
    assert max(true_levels(view, world, weak).values()) <= 1
    assert min(true_levels(view, world, strong).values()) >= 3


def test_simulation_report(view: ParcoursView) -> None:
    ticks = iter(range(10**6))
    reports = simulate(
        view,
        [BaselineAlgorithm(), SocleAlgorithm()],
        learners=12,
        seed=5,
        clock=lambda: next(ticks) / 1000,
    )
    assert [r.algorithm for r in reports] == ["baseline", "socle"]
    for report in reports:
        assert report.learners == 12
        assert 16 <= report.mean_challenges <= report.p95_challenges <= len(view.challenges)
        assert 0 <= report.exact_accuracy <= report.within_one_accuracy <= 1
        assert report.selection_p50_ms == pytest.approx(1.0)  # one fake tick per call
    assert reports[1].mean_challenges < reports[0].mean_challenges
    again = simulate(view, [SocleAlgorithm()], learners=12, seed=5)
    assert again[0].mean_challenges == reports[1].mean_challenges
    assert again[0].selection_p99_ms is None
    table = format_table(reports)
    assert table.splitlines()[0].startswith("algorithm")
    assert "socle" in table
    assert "baseline" in table


class _Stubborn:
    """A broken algorithm that always asks the same challenge."""

    name = "stubborn"

    def next_challenge(
        self,
        view: ParcoursView,
        answers: Sequence[Answer],
        rng: random.Random,
        *,
        seen: Collection[str] = frozenset(),
    ) -> Challenge | None:
        return next(iter(view.challenges.values()))

    def knowledge_elements(
        self, view: ParcoursView, answers: Sequence[Answer]
    ) -> list[KnowledgeElement]:
        return []

    def progress(self, view: ParcoursView, answers: Sequence[Answer]) -> int:
        return 0


def test_the_simulator_catches_repeated_challenges(view: ParcoursView) -> None:
    config = SimulationConfig()
    world = draw_world(view, random.Random(1), config)
    learner = draw_learner(view, random.Random(1), config)
    with pytest.raises(AssertionError, match="stubborn asked"):
        run_attempt(_Stubborn(), view, world, learner, seed=1, answer_rng=random.Random(1))


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([3.0, 1.0, 2.0], 50, 2.0), ([1.0, 2.0, 3.0, 4.0], 95, 4.0), ([5.0], 99, 5.0)],
)
def test_percentile(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == expected
