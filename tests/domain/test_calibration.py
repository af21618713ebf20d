"""Calibration from answers: known parameters are recovered, the review list finds the odd ones.

Answers are drawn here straight from a known model (no engine: fast), on the synthetic
content; the proof through the player and the engine is ``benchmarks/calibration.py`` and
``tests/player/test_calibration_proof.py``.
"""

from __future__ import annotations

import math
import random
import statistics

import pytest

from lti_tool.domain.adaptive.socle import DEFAULT_SLIP, default_guessing
from lti_tool.domain.answers import AnswerStatus
from lti_tool.domain.calibration import CalibrationSettings, Response, calibrate
from lti_tool.domain.calibration_review import ReviewThresholds, review_list
from lti_tool.domain.framework import Content
from lti_tool.domain.synthetic import synthetic_content


def _world(content: Content, rng: random.Random) -> dict[str, tuple[float, float]]:
    """Hidden ``(a, b)`` per challenge: near its level, except every 15th, 1.8 levels off."""
    truth: dict[str, tuple[float, float]] = {}
    for number, challenge_id in enumerate(sorted(content.challenges)):
        level = content.skills[content.challenges[challenge_id].skill_id].level
        offset = 1.8 * (1 if number % 2 else -1) if number % 15 == 0 else rng.gauss(0, 0.3)
        truth[challenge_id] = (rng.uniform(1.0, 2.4), level + offset)
    return truth


def _responses(
    content: Content,
    truth: dict[str, tuple[float, float]],
    rng: random.Random,
    *,
    attempts: int,
    per_attempt: int,
    skip: frozenset[str] = frozenset(),
) -> list[Response]:
    ids = sorted(content.challenges)
    responses: list[Response] = []
    for attempt in range(attempts):
        general = rng.uniform(-0.5, 5.5)
        abilities = {code: general + rng.gauss(0, 0.6) for code in content.competences}
        for challenge_id in rng.sample(ids, per_attempt):
            challenge = content.challenges[challenge_id]
            theta = abilities[content.skills[challenge.skill_id].competence_code]
            a, b = truth[challenge_id]
            c = default_guessing(challenge)
            p = c + (1 - c - DEFAULT_SLIP) / (1 + math.exp(-a * (theta - b)))
            if challenge_id in skip and rng.random() < 0.4:
                status = AnswerStatus.SKIPPED
            else:
                status = AnswerStatus.OK if rng.random() < p else AnswerStatus.KO
            responses.append(Response(f"attempt-{attempt}", challenge_id, status))
    return responses


@pytest.fixture(scope="module")
def setting() -> tuple[Content, dict[str, tuple[float, float]], list[Response]]:
    rng = random.Random(7)
    content = synthetic_content(random.Random(3))
    truth = _world(content, rng)
    skipped = frozenset(sorted(content.challenges)[1:3])
    responses = _responses(content, truth, rng, attempts=700, per_attempt=40, skip=skipped)
    return content, truth, responses


def test_difficulties_are_recovered_better_than_the_nominal_levels(
    setting: tuple[Content, dict[str, tuple[float, float]], list[Response]],
) -> None:
    content, truth, responses = setting
    result = calibrate(content, responses, CalibrationSettings(min_answers=40))
    assert result.answers == len(responses)
    assert result.attempts == 700
    assert result.converged
    fits = list(result.fits.values())
    assert len(fits) > 0.9 * len(content.challenges)
    true_b = [truth[fit.challenge_id][1] for fit in fits]
    fitted = [fit.difficulty for fit in fits]
    nominal = [float(fit.level) for fit in fits]
    assert statistics.correlation(true_b, fitted) > 0.95
    assert statistics.correlation(true_b, fitted) > statistics.correlation(true_b, nominal)
    error = math.sqrt(statistics.mean((t - f) ** 2 for t, f in zip(true_b, fitted, strict=True)))
    nominal_error = math.sqrt(
        statistics.mean((t - n) ** 2 for t, n in zip(true_b, nominal, strict=True))
    )
    assert error < 0.7 * nominal_error
    # Standard errors say how far the truth may be: most true values lie within 2 of them.
    inside = sum(
        abs(t - fit.difficulty) <= 2 * fit.difficulty_se
        for t, fit in zip(true_b, fits, strict=True)
    )
    assert inside >= 0.85 * len(fits)
    true_a = [truth[fit.challenge_id][0] for fit in fits]
    assert statistics.correlation(true_a, [fit.discrimination for fit in fits]) > 0.2


def test_only_challenges_with_enough_answers_are_fitted(
    setting: tuple[Content, dict[str, tuple[float, float]], list[Response]],
) -> None:
    content, _, responses = setting
    extra = [Response("late", "no-longer-in-the-content", AnswerStatus.OK)]
    result = calibrate(content, responses + extra, CalibrationSettings(min_answers=95))
    assert result.unknown_answers == 1
    for challenge_id, fit in result.fits.items():
        assert fit.answers >= 95
        assert challenge_id not in result.too_few
    assert result.too_few
    assert all(0 < count < 95 for count in result.too_few.values())
    assert set(result.counts) == set(result.fits) | set(result.too_few)


def test_review_lists_off_level_and_often_skipped_challenges(
    setting: tuple[Content, dict[str, tuple[float, float]], list[Response]],
) -> None:
    content, truth, responses = setting
    result = calibrate(content, responses, CalibrationSettings(min_answers=40))
    flags = review_list(content, result, reports={sorted(content.challenges)[5]: 2})
    reasons: dict[str, set[str]] = {}
    for flag in flags:
        reasons.setdefault(flag.reason, set()).add(flag.challenge_id)
    off_level = {
        cid
        for cid, (_, b) in truth.items()
        if abs(b - content.skills[content.challenges[cid].skill_id].level) > 1.5
        and cid in result.fits
    }
    found = reasons.get("difficulty-off-level", set())
    assert len(found & off_level) >= 0.7 * len(off_level)
    assert len(found - off_level) <= 0.05 * len(result.fits)
    assert reasons["often-skipped"] == set(sorted(content.challenges)[1:3])
    assert reasons["reported-problems"] == {sorted(content.challenges)[5]}
    strict = review_list(content, result, thresholds=ReviewThresholds(max_skip_rate=0.9))
    assert "often-skipped" not in {flag.reason for flag in strict}


def test_without_answers_nothing_is_fitted() -> None:
    content = synthetic_content(random.Random(3))
    result = calibrate(content, [])
    assert result.fits == {}
    assert result.answers == 0
    assert result.converged
