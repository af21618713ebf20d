"""One ability per tube (``SocleSettings(tube_abilities=True)``, ``adaptive/tubes.py``)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from lti_tool.domain.adaptive import SocleAlgorithm, SocleSettings, attempt_rng
from lti_tool.domain.adaptive import socle as engine
from lti_tool.domain.adaptive import tubes as tube_model
from lti_tool.domain.answers import Answer, AnswerStatus
from lti_tool.domain.framework import Skill
from lti_tool.domain.simulation import WORLD_PRESETS, simulate
from lti_tool.domain.synthetic import synthetic_content
from lti_tool.domain.target import ParcoursView, parcours_view

OK, KO = AnswerStatus.OK, AnswerStatus.KO


@pytest.fixture(scope="module")
def view() -> ParcoursView:
    return parcours_view(synthetic_content(random.Random(1)), "socle-commun")


def tubes_engine(skill_spread: float = 0.0) -> SocleAlgorithm:
    return SocleAlgorithm(SocleSettings(tube_abilities=True, skill_spread=skill_spread))


def skill_at(view: ParcoursView, competence: int, tube: int, level: int) -> Skill:
    target = view.competences[competence]
    return next(s for s in target.tubes[tube].skills if s.level == level)


def answer(skill: Skill, ok: bool, which: int = 0) -> Answer:
    return Answer(skill.served_challenges[which].id, skill.id, OK if ok else KO)


def test_kernel_rows_are_distributions_and_spread_as_assumed(view: ParcoursView) -> None:
    model = tubes_engine()._model(view)
    ct = model.competences[0].tubes
    assert ct is not None
    grid = np.asarray(model.grid)
    assert np.allclose(ct.kernel.sum(axis=1), 1.0)
    middle = len(grid) // 2
    row = ct.kernel[middle]
    mean = float(row @ grid)
    sd = math.sqrt(float(row @ (grid - mean) ** 2))
    assert mean == pytest.approx(grid[middle], abs=1e-6)
    # A normal of sd 0.4 integrated over cells of 0.2: variance 0.4² + 0.2²/12.
    assert sd == pytest.approx(math.sqrt(0.4**2 + 0.2**2 / 12), abs=0.01)


@pytest.mark.parametrize(("skill_spread", "tolerance"), [(0.0, 0.05), (0.25, 0.12)])
def test_without_answers_the_level_table_is_the_engines(
    view: ParcoursView, skill_spread: float, tolerance: float
) -> None:
    """The grid version of P(level | θ) is close to the continuous one the engine builds
    (the same when skills of a tube are nested; the same total spread otherwise)."""
    model = tubes_engine(skill_spread)._model(view)
    engine_model = SocleAlgorithm()._model(view)
    for cm, reference in zip(model.competences, engine_model.competences, strict=True):
        assert cm.tubes is not None
        table = tube_model.level_table(cm.tubes, [t.prior for t in cm.tubes.tubes])
        assert np.allclose(table.sum(axis=1), 1.0)
        continuous = np.zeros_like(table)
        for index, (start, stop, band) in enumerate(reference.level_rows):
            continuous[start:stop, index] = band
        assert np.abs(table - continuous).max() < tolerance
        for layout in cm.tubes.tubes:
            assert np.allclose(layout.buckets.sum(axis=1), 1.0)
            # Mastery falls with the skill's level, whatever θ_t.
            assert (np.diff(layout.mastery, axis=1) <= 1e-12).all()


def test_a_tubes_answers_inform_its_own_skills_first(view: ParcoursView) -> None:
    strong = [answer(skill_at(view, 0, 0, 2), True), answer(skill_at(view, 0, 0, 4), True)]
    weak = [answer(skill_at(view, 0, 1, 2), False), answer(skill_at(view, 0, 1, 4), False)]
    answers = strong + weak
    gaps = []
    for make in (tubes_engine, SocleAlgorithm):
        state = make()._states(view, answers)[0]
        cm = state.model
        if cm.tubes is None:
            tail = engine._tail(state.posterior)
            mastery = {sid: tail[start] for sid, (start, _) in cm.row_of.items()}
        else:
            mastery = engine._tube_mastery(cm.tubes, state.tally, state.posterior)
        gaps.append(mastery[skill_at(view, 0, 0, 3).id] - mastery[skill_at(view, 0, 1, 3).id])
    # One ability per competence: both tubes' level-3 skills are equally likely mastered;
    # one per tube: the tube answered right is ahead (the spread of 0.4 keeps them close).
    assert gaps[1] == pytest.approx(0.0, abs=1e-9)
    assert gaps[0] > 0.1


def test_answers_in_one_tube_say_less_about_the_competence(view: ParcoursView) -> None:
    """Four answers in one tube: the competence ability stays less certain than when each
    answer is taken as a measure of the competence itself."""
    tube = view.competences[0].tubes[0]
    answers = [
        Answer(challenge.id, skill.id, OK if skill.level <= 3 else KO)
        for skill in tube.skills
        for challenge in skill.served_challenges[:1]
    ]
    sd_tubes = tubes_engine().estimates(view, answers)[0].sd
    sd_competence = SocleAlgorithm().estimates(view, answers)[0].sd
    assert sd_tubes > 1.04 * sd_competence


@pytest.mark.parametrize("skill_spread", [0.0, 0.25])
def test_expected_entropy_matches_rebuilding_the_state(
    view: ParcoursView, skill_spread: float
) -> None:
    """The vectorised expected entropy equals the one obtained by adding each answer and
    rebuilding the competence's level table."""
    algorithm = tubes_engine(skill_spread)
    answers = [answer(skill_at(view, 1, 0, 3), True), answer(skill_at(view, 1, 1, 2), False)]
    state = algorithm._states(view, answers)[1]
    cm, tally = state.model, state.tally
    assert cm.tubes is not None
    posterior = np.asarray(state.posterior)
    outcomes = engine._tube_outcomes(cm.tubes, tally)
    asked = {a.challenge_id for a in answers}
    checked = 0
    for item in cm.items:
        if item.challenge.id in asked or item.skill.level not in (2, 4):
            continue
        position = cm.tubes.position[item.tube_id]
        likelihood = tally.tube_likelihoods.get(item.tube_id)
        expected = tube_model.expected_entropies(
            cm.tubes,
            posterior,
            tube_model.levels_by_outcome(cm.tubes, outcomes, position),
            position,
            likelihood=likelihood,
            curves=np.array([item.curve]),
        )[0]
        base = np.ones(len(posterior)) if likelihood is None else likelihood
        kernel = cm.tubes.kernel
        p_ok = float(posterior @ ((kernel @ (base * item.curve)) / (kernel @ base)))
        rebuilt = 0.0
        for ok, share in ((True, p_ok), (False, 1.0 - p_ok)):
            new = Answer(item.challenge.id, item.skill.id, OK if ok else KO)
            after = algorithm._states(view, [*answers, new])
            masses = after[1].level_masses
            total = sum(masses)
            rebuilt -= share * sum(m / total * math.log(m / total) for m in masses if m > 0)
        assert expected == pytest.approx(rebuilt, abs=2e-3)
        checked += 1
    assert checked >= 4


def test_one_ability_per_tube_measures_well_in_a_small_simulation(view: ParcoursView) -> None:
    report = simulate(
        view, [tubes_engine()], learners=25, seed=5, config=WORLD_PRESETS["standard"]
    )[0]
    assert report.within_one_accuracy >= 0.95
    assert report.exact_accuracy >= 0.55
    assert 30 <= report.mean_challenges <= 55


def test_deterministic_and_stateless(view: ParcoursView) -> None:
    rng = random.Random(3)
    algorithm = tubes_engine()
    answers: list[Answer] = []
    while chosen := algorithm.next_challenge(view, answers, attempt_rng("a", len(answers))):
        answers.append(Answer(chosen.id, chosen.skill_id, OK if rng.random() < 0.6 else KO))
    replay = tubes_engine()
    for index in range(len(answers)):
        again = replay.next_challenge(view, answers[:index], attempt_rng("a", index))
        assert again is not None
        assert again.id == answers[index].challenge_id
