"""Harsher simulated worlds, and the engine's defences against them."""

from __future__ import annotations

import itertools
import random
import statistics

import pytest

from lti_tool.domain.adaptive import SocleAlgorithm, SocleSettings, attempt_rng
from lti_tool.domain.answers import Answer, AnswerStatus
from lti_tool.domain.simulation import (
    MIXED_POPULATIONS,
    WORLD_PRESETS,
    SimulationConfig,
    draw_learner,
    draw_world,
    simulate,
)
from lti_tool.domain.synthetic import synthetic_content
from lti_tool.domain.target import ParcoursView, parcours_view

OK, KO = AnswerStatus.OK, AnswerStatus.KO


@pytest.fixture(scope="module")
def view() -> ParcoursView:
    return parcours_view(synthetic_content(random.Random(1)), "socle-commun")


# --- the worlds -----------------------------------------------------------------------------


def test_presets_cover_the_harsher_worlds() -> None:
    assert set(WORLD_PRESETS) == {
        "standard",
        "spread-tubes",
        "uneven-competences",
        "off-level-items",
        "mixed-populations",
        "weak-discrimination",
        "harsh",
    }
    assert WORLD_PRESETS["standard"] == SimulationConfig()
    harsh = WORLD_PRESETS["harsh"]
    assert harsh.tube_sd == 0.7
    assert harsh.discrimination == (0.6, 2.2)
    assert 0.03 <= harsh.off_level_share <= 0.05
    assert all(p.competence_sd >= 1.0 for p in harsh.populations)


def test_off_level_items_are_far_from_their_skill(view: ParcoursView) -> None:
    def far(config: SimulationConfig) -> int:
        world = draw_world(view, random.Random(4), config)
        return sum(
            1
            for challenge in view.challenges.values()
            if abs(
                world.items[challenge.id].difficulty - world.skill_difficulty[challenge.skill_id]
            )
            > 1.0
        )

    assert far(WORLD_PRESETS["standard"]) == 0
    share = far(WORLD_PRESETS["off-level-items"]) / len(view.challenges)
    assert 0.02 <= share <= 0.09  # 5 % of 338 challenges, drawn


def test_standard_world_is_the_documented_one(view: ParcoursView) -> None:
    """Adding the harsher worlds did not change the random draws of the documented one."""
    world = draw_world(view, random.Random(4), WORLD_PRESETS["standard"])
    rng = random.Random(4)
    for skill in sorted(view.skills.values(), key=lambda s: s.id):
        assert world.skill_difficulty[skill.id] == skill.level + rng.gauss(0.0, 0.25)
        for challenge in skill.served_challenges:
            item = world.items[challenge.id]
            assert item.difficulty == world.skill_difficulty[skill.id] + rng.gauss(0.0, 0.2)
            assert item.discrimination == rng.uniform(1.2, 2.6)
            assert item.slip == rng.uniform(0.02, 0.10)


def test_spreads_and_mixtures_reach_the_learners(view: ParcoursView) -> None:
    def tube_sd(config: SimulationConfig) -> float:
        rng = random.Random(5)
        deviations = []
        for _ in range(200):
            learner = draw_learner(view, rng, config)
            for competence in view.competences:
                ability = learner.competence_abilities[competence.code]
                deviations += [
                    learner.tube_abilities[t.tube.id] - ability for t in competence.tubes
                ]
        return statistics.pstdev(deviations)

    assert 0.25 <= tube_sd(WORLD_PRESETS["standard"]) <= 0.35
    assert 0.62 <= tube_sd(WORLD_PRESETS["spread-tubes"]) <= 0.78
    rng = random.Random(6)
    mixed = WORLD_PRESETS["mixed-populations"]
    generals = [draw_learner(view, rng, mixed).general for _ in range(600)]
    low = min(p.low for p in MIXED_POPULATIONS)
    high = max(p.high for p in MIXED_POPULATIONS)
    assert all(low <= g <= high for g in generals)
    novices = sum(g < 1.0 for g in generals) / len(generals)
    assert 0.25 <= novices <= 0.45  # 40 % novices, part of the 35 % specialists above 1


# --- the engine's defences ------------------------------------------------------------------


def _answers_at(view: ParcoursView, code: str, level: float) -> list[Answer]:
    """Answers of someone exactly at ``level`` to one challenge per skill of a competence."""
    competence = next(c for c in view.competences if c.code == code)
    return [
        Answer(skill.served_challenges[0].id, skill.id, OK if skill.level <= level else KO)
        for tube in competence.tubes
        for skill in tube.skills
        if skill.level in (1, 2, 3, 4, 5)
    ][::3]


def test_an_uneven_agent_gets_wider_priors(view: ParcoursView) -> None:
    """Competences far apart make the engine trust each competence's own answers more."""
    codes = [c.code for c in view.competences]
    alike = [a for code in codes[:8] for a in _answers_at(view, code, 3.5)]
    uneven = [
        a
        for index, code in enumerate(codes[:8])
        for a in _answers_at(view, code, 0.5 if index % 2 else 4.5)
    ]
    last = codes[8]
    probe = [Answer(a.challenge_id, a.skill_id, KO) for a in _answers_at(view, last, 0)[:2]]
    fixed = SocleAlgorithm(SocleSettings(wide_competence_sd=0.0))
    adaptive = SocleAlgorithm(SocleSettings(wide_competence_sd=1.3))

    def mean(engine: SocleAlgorithm, answers: list[Answer]) -> float:
        return engine.estimates(view, [*answers, *probe])[8].mean

    # Two wrong answers say "low". For an agent whose competences all sit at 3.5 the general
    # level is trusted as before; for one whose competences are scattered it says less, so the
    # competence's own answers count more than with a fixed spread.
    assert abs(mean(adaptive, alike) - mean(fixed, alike)) < 0.15
    assert mean(adaptive, uneven) < mean(fixed, uneven) - 0.1


def test_contamination_bounds_the_weight_of_one_answer() -> None:
    """Mixed with a coin toss, no single answer can overturn the others on its own."""
    from lti_tool.domain.adaptive.socle import _success_curves

    grid = [x / 5 for x in range(-5, 35)]
    plain_right, _ = _success_curves(grid, (2.0, 3.0, 0.02, 0.05), 0.0)
    right, wrong = _success_curves(grid, (2.0, 3.0, 0.02, 0.05), 0.06)
    assert max(plain_right) / min(plain_right) > 40  # a lucky free-text answer: 47 to 1
    assert max(right) / min(right) < 20
    assert max(wrong) / min(wrong) < 20
    assert all(r + w == pytest.approx(1.0) for r, w in zip(right, wrong, strict=True))


def test_cached_tallies_give_the_same_choices_as_a_cold_engine(view: ParcoursView) -> None:
    warm = SocleAlgorithm()
    rng = random.Random(3)
    answers: list[Answer] = []
    for _ in range(40):
        challenge = warm.next_challenge(view, answers, attempt_rng("cache", len(answers)))
        if challenge is None:
            break
        # a cold engine (empty cache) and a replay from a shorter prefix agree
        cold = SocleAlgorithm().next_challenge(view, answers, attempt_rng("cache", len(answers)))
        assert cold is not None
        assert cold.id == challenge.id
        answers.append(Answer(challenge.id, challenge.skill_id, OK if rng.random() < 0.6 else KO))
        warm.next_challenge(view, answers[: len(answers) // 2], random.Random(0))
    assert warm.knowledge_elements(view, answers) == SocleAlgorithm().knowledge_elements(
        view, answers
    )


def test_socle_stays_accurate_in_the_harsh_world(view: ParcoursView) -> None:
    """A small fixed-seed run: deterministic, so the margins below cannot flake."""
    reports = simulate(
        view, [SocleAlgorithm()], learners=25, seed=11, config=WORLD_PRESETS["harsh"]
    )
    socle = reports[0]
    # The harsh world may cost more than the standard one's 50 (uncertain discriminations and
    # up to 9 answers for uneven agents: about 60–70 on the synthetic content).
    assert socle.mean_challenges <= 75
    assert socle.within_one_accuracy >= 0.94
    assert socle.exact_accuracy >= 0.5


def test_the_quick_level_is_the_level_reported(view: ParcoursView) -> None:
    """Deciding whether a competence is done uses the same level as its knowledge elements."""
    from lti_tool.domain.adaptive.socle import _level_masses

    socle = SocleAlgorithm()
    rng = random.Random(8)
    answers: list[Answer] = []
    checked = 0
    while (challenge := socle.next_challenge(view, answers, rng)) is not None:
        answers.append(Answer(challenge.id, challenge.skill_id, OK if rng.random() < 0.5 else KO))
        model, prepared = socle._prepare(view, answers)
        for cm, tally, prior in prepared:
            posterior = socle._posterior(model.grid, tally, prior)
            state = socle._settle(cm, tally, posterior)
            masses = _level_masses(cm, posterior)
            assert socle._reported_level(cm, tally, posterior, masses) == state.level
            checked += 1
    assert checked > 300


@pytest.mark.parametrize("tube_abilities", [False, True], ids=["engine", "per-tube option"])
def test_what_is_settled_is_what_the_estimates_say(
    view: ParcoursView, tube_abilities: bool
) -> None:
    """The progress line's shortcut (``settled``) agrees with the full estimates."""
    for seed, right in ((4, 0.5), (5, 0.9), (6, 0.2)):
        socle = SocleAlgorithm(SocleSettings(tube_abilities=tube_abilities))
        rng = random.Random(seed)
        answers: list[Answer] = []
        while True:
            estimates = socle.estimates(view, answers)
            assert socle.settled(view, answers) == [(e.answers, e.done) for e in estimates]
            challenge = socle.next_challenge(view, answers, rng)
            if challenge is None:
                break
            status = OK if rng.random() < right else KO
            answers.append(Answer(challenge.id, challenge.skill_id, status))
        assert all(finished for _, finished in socle.settled(view, answers))


def test_uncertain_discrimination_flattens_the_curve() -> None:
    """Integrating the slope over a spread of values: answers far from the item count less."""
    from lti_tool.domain.adaptive.socle import _success_curves

    grid = [x / 5 for x in range(-5, 35)]
    parameters = (1.7, 3.0, 0.25, 0.05)
    nominal, _ = _success_curves(grid, parameters, 0.0)
    same, _ = _success_curves(grid, parameters, 0.0, (1.0,))
    assert same == pytest.approx(nominal, abs=1e-15)
    right, wrong = _success_curves(grid, parameters, 0.0, (0.6, 1.0, 1.4))
    assert all(r + w == pytest.approx(1.0) for r, w in zip(right, wrong, strict=True))
    at_b = grid.index(3.0)
    assert right[at_b] == pytest.approx(nominal[at_b])
    # Below the difficulty a right answer is likelier (a lucky weak item), above it a wrong one.
    assert all(r > n for r, n in zip(right[:at_b], nominal[:at_b], strict=True))
    assert all(r < n for r, n in zip(right[at_b + 1 :], nominal[at_b + 1 :], strict=True))
    # ...still increasing, between the guessing and 1 − slip.
    assert all(low < high for low, high in itertools.pairwise(right))
    assert min(right) > 0.25
    assert max(right) < 0.95


def test_uncertain_discrimination_needs_more_evidence(view: ParcoursView) -> None:
    """The same answers leave a wider posterior: the engine asks more before stopping."""
    plain = SocleAlgorithm(SocleSettings(discrimination_factors=()))
    robust = SocleAlgorithm()  # the default integrates the discrimination out
    assert robust.settings.discrimination_factors == (0.6, 1.0, 1.4)
    code = view.competences[0].code
    answers = _answers_at(view, code, 2.5)
    sd_plain = plain.estimates(view, answers)[0].sd
    sd_robust = robust.estimates(view, answers)[0].sd
    assert sd_robust > sd_plain
    lengths = [
        simulate(
            view, [engine], learners=12, seed=3, config=WORLD_PRESETS["weak-discrimination"]
        )[0].mean_challenges
        for engine in (plain, robust)
    ]
    assert lengths[1] > lengths[0]


def test_uneven_agents_get_a_stricter_stop_by_default(view: ParcoursView) -> None:
    """The within-one threshold moves from 0.95 to 0.98 with the weight of the wide spread,
    and an uneven agent's competence may get 9 answers instead of 7."""
    socle = SocleAlgorithm()
    assert (socle.settings.uneven_within_one, socle.settings.uneven_max_per_competence) == (
        0.98,
        9,
    )
    code = view.competences[0].code
    answers = _answers_at(view, code, 2.5)[:3]
    _, prepared = socle._prepare(view, answers)
    cm, tally, _ = prepared[0]
    assert tally.count == 3
    middle = len(cm.levels) // 2
    masses = [0.0] * len(cm.levels)
    masses[middle], masses[middle - 1], masses[middle + 1] = 0.6, 0.18, 0.18
    masses[0] += 0.04  # within one: 0.96
    level = cm.levels[middle]
    assert socle._done(cm, tally, masses, level, wide=0.0)
    assert not socle._done(cm, tally, masses, level, wide=1.0)
    plain = SocleAlgorithm(SocleSettings(uneven_within_one=0.95, uneven_max_per_competence=7))
    assert plain._done(cm, tally, masses, level, wide=1.0)
    assert socle._max_answers(0.4) == 7
    assert socle._max_answers(0.6) == 9
