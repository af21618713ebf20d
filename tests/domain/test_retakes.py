"""Retakes meet new challenges; exposure control keeps over-shown challenges aside."""

from __future__ import annotations

import random

from lti_tool.domain.adaptive import SocleAlgorithm, attempt_rng
from lti_tool.domain.simulation import simulate_retakes
from lti_tool.domain.synthetic import SYNTHETIC_PARCOURS, synthetic_content
from lti_tool.domain.target import parcours_view


def _deep_view():  # type: ignore[no-untyped-def]
    content = synthetic_content(
        random.Random(2),
        levels=(1, 2, 3, 4, 5, 6, 7),
        challenges_per_skill=3,
        tubes_per_competence=4,
    )
    return parcours_view(content, SYNTHETIC_PARCOURS)


def test_a_retake_meets_mostly_new_challenges_when_skills_have_three() -> None:
    report = simulate_retakes(
        _deep_view(), SocleAlgorithm(), learners=6, seed=4, exposure_control=False
    )
    assert report.unseen_share >= 0.7
    assert report.retakes_mostly_new >= 0.5


def test_over_exposed_challenges_are_asked_only_when_nothing_else_fits() -> None:
    view = _deep_view()
    allowed = {
        competence.code: next(
            challenge.id
            for tube in competence.tubes
            for skill in tube.skills
            for challenge in skill.served_challenges
        )
        for competence in view.competences
    }
    exposure = {cid: 0.0 if cid in allowed.values() else 0.9 for cid in view.challenges}
    algorithm = SocleAlgorithm()
    for seed in range(5):
        chosen = algorithm.next_challenge(view, [], attempt_rng(seed, 0), exposure=exposure)
        assert chosen is not None
        assert chosen.id in allowed.values()
    # Everything over the limit: the engine still asks (nothing else fits).
    everything = dict.fromkeys(view.challenges, 0.9)
    assert algorithm.next_challenge(view, [], attempt_rng(0, 0), exposure=everything) is not None
