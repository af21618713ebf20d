"""Calibration: each challenge's difficulty and discrimination, fitted from recorded answers.

The engine's model (``adaptive/socle.py``) answers a challenge right with probability
``c + (1 - c - s) · logistic(a · (θ - b))``. Until real answers exist, ``b`` is the skill's
level and ``a`` a common guess. This module fits ``a`` and ``b`` per challenge from the
answers of many attempts; ``c`` stays fixed from the challenge's form and ``s`` at the
engine's slip (neither is identifiable from a few hundred answers).

Method (explained with figures in ``docs/adaptive-algorithm.md``): marginal maximum likelihood
by EM on a grid of abilities (Bock & Aitkin, 1981), with weak priors on the parameters (a
Bayesian modal estimate):

* **E step.** For every attempt and competence, the posterior of the ability on the grid given
  that attempt's answers to that competence under the current parameters; its prior is the
  engine's own hierarchy (the general level ``N(2.5, 1.5²)``, measured by the attempt's
  *other* competences, plus ``N(0, 0.8²)``). Each answer adds that posterior to its
  challenge's expected count of answers at each grid point, and of right answers.
* **M step.** Per challenge, maximise the expected log-likelihood of those counts plus the log
  of the priors ``b ~ N(nominal level, 1²)`` and ``log a ~ N(log 1.7, 0.5²)`` by Fisher
  scoring on ``(log a, b)``. The priors anchor the scale (a level-3 skill's challenges stay
  near 3 unless many answers say otherwise) and keep a challenge seen by few agents sensible.
* Repeat until no parameter moves by more than ``tolerance`` (or ``iterations`` passes).

Standard errors come from the inverse of the information (expected, plus the priors') at the
estimate. Only challenges with at least ``min_answers`` answers are fitted; the others keep
their current parameters and still take part (they help place the attempts).

Vectorised with numpy (``benchmarks/calibrate.py``: 100 000 answers in a few seconds).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from lti_tool.domain.adaptive.socle import (
    DEFAULT_DISCRIMINATION,
    DEFAULT_SLIP,
    PRIOR_COMPETENCE_SD,
    PRIOR_GENERAL_SD,
    PRIOR_MEAN,
    default_guessing,
)
from lti_tool.domain.answers import AnswerStatus
from lti_tool.domain.framework import Calibration, Challenge, Content

#: Defaults of ``CalibrationSettings``.
MIN_ANSWERS = 150
DIFFICULTY_PRIOR_SD = 1.0
LOG_DISCRIMINATION_PRIOR_SD = 0.5
GRID_STEP = 0.25
#: Discriminations are kept in this range (a challenge outside it needs an author, not a fit).
DISCRIMINATION_RANGE = (0.2, 4.0)


@dataclass(frozen=True, slots=True)
class Response:
    """One recorded answer: which attempt, which challenge, and how it went."""

    attempt: str
    challenge_id: str
    status: AnswerStatus


@dataclass(frozen=True, slots=True)
class CalibrationSettings:
    """How the fit runs; the defaults are the ones documented and measured."""

    min_answers: int = MIN_ANSWERS
    iterations: int = 30
    #: Stop when no fitted parameter moved by more than this in one pass.
    tolerance: float = 0.005
    difficulty_prior_sd: float = DIFFICULTY_PRIOR_SD
    log_discrimination_prior_sd: float = LOG_DISCRIMINATION_PRIOR_SD
    slip: float = DEFAULT_SLIP


@dataclass(frozen=True, slots=True)
class ItemFit:
    """The fitted parameters of one challenge, with their uncertainty and the evidence."""

    challenge_id: str
    skill_id: str
    level: int
    difficulty: float
    discrimination: float
    difficulty_se: float
    discrimination_se: float
    guessing: float
    answers: int
    right: int
    skipped: int
    timed_out: int
    #: Correlation between being right and the attempt's ability estimate in the competence
    #: (point-biserial): low or negative means the challenge does not measure the competence.
    ability_correlation: float | None

    @property
    def calibration(self) -> Calibration:
        """What the engine reads (guessing and slip stay derived from the form)."""
        return Calibration(difficulty=self.difficulty, discrimination=self.discrimination)


@dataclass(frozen=True, slots=True)
class AnswerCounts:
    """How one challenge was answered, whether or not it had enough answers to be fitted."""

    answers: int
    right: int
    skipped: int
    timed_out: int


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """Fitted challenges, the ones left out (too few answers), and how the fit went."""

    fits: dict[str, ItemFit]
    #: Challenge id -> number of answers, for challenges below ``min_answers``.
    too_few: dict[str, int]
    #: Answers to challenges no longer in the content (ignored).
    unknown_answers: int
    attempts: int
    answers: int
    iterations: int
    converged: bool
    #: Largest parameter change of the last pass.
    last_change: float
    #: Mean and sd of the agents' general level, as estimated along the fit.
    general_level: tuple[float, float] = (PRIOR_MEAN, PRIOR_GENERAL_SD)
    #: Every answered challenge's counts (fitted or not).
    counts: dict[str, AnswerCounts] = field(default_factory=dict)


def _grid(top_level: int) -> NDArray[np.float64]:
    count = round((top_level + 3.0 - -2.0) / GRID_STEP) + 1
    return -2.0 + GRID_STEP * np.arange(count, dtype=np.float64)


def current_parameters(challenge: Challenge, level: int) -> tuple[float, float]:
    """``(discrimination, difficulty)`` the engine uses today for this challenge."""
    calibration = challenge.calibration
    if calibration is None:
        return DEFAULT_DISCRIMINATION, float(level)
    return calibration.discrimination or DEFAULT_DISCRIMINATION, calibration.difficulty


@dataclass(frozen=True, slots=True)
class _Parameters:
    """Discrimination, difficulty and guessing of some challenges (one row each)."""

    a: NDArray[np.float64]
    b: NDArray[np.float64]
    c: NDArray[np.float64]

    def __getitem__(self, rows: NDArray[np.intp]) -> _Parameters:
        return _Parameters(self.a[rows], self.b[rows], self.c[rows])


@dataclass(slots=True)
class _Data:
    """Answers as arrays, sorted by (attempt, competence) group."""

    item: NDArray[np.intp]
    correct: NDArray[np.bool_]
    #: First answer of each group, and each group's attempt.
    group_starts: NDArray[np.intp]
    group_attempt: NDArray[np.intp]
    group_of_answer: NDArray[np.intp]
    attempts: int
    #: Answers sorted by challenge, and where each challenge's answers start.
    by_item: NDArray[np.intp]
    item_starts: NDArray[np.intp]
    items_present: NDArray[np.intp]


def calibrate(
    content: Content,
    responses: Iterable[Response],
    settings: CalibrationSettings | None = None,
    *,
    progress: Callable[[int, float], None] | None = None,
) -> CalibrationResult:
    """Fit difficulty and discrimination of every challenge with enough answers.

    ``responses`` may come in any order; answers of one attempt are grouped by its id.
    Skipped and timed-out answers count as wrong, as in the engine. ``progress`` is called
    after each EM pass with the pass number and the largest parameter change.
    """
    settings = settings or CalibrationSettings()
    challenges: list[Challenge] = []
    levels: list[int] = []
    competences: list[str] = []
    for skill in sorted(content.skills.values(), key=lambda skill: skill.id):
        for challenge in skill.challenges:
            challenges.append(challenge)
            levels.append(skill.level)
            competences.append(skill.competence_code)
    index = {challenge.id: i for i, challenge in enumerate(challenges)}
    count = len(challenges)
    level = np.array(levels, dtype=np.float64)
    current = [current_parameters(c, lv) for c, lv in zip(challenges, levels, strict=True)]
    a = np.array([x for x, _ in current], dtype=np.float64)
    b = np.array([y for _, y in current], dtype=np.float64)
    c = np.array([default_guessing(challenge) for challenge in challenges], dtype=np.float64)
    answers_n = np.zeros(count, dtype=np.int64)
    right_n = np.zeros(count, dtype=np.int64)
    skipped_n = np.zeros(count, dtype=np.int64)
    timed_out_n = np.zeros(count, dtype=np.int64)

    attempt_index: dict[str, int] = {}
    group_index: dict[tuple[int, str], int] = {}
    rows_item: list[int] = []
    rows_correct: list[bool] = []
    rows_group: list[int] = []
    group_attempts: list[int] = []
    unknown = 0
    for response in responses:
        found = index.get(response.challenge_id)
        if found is None:
            unknown += 1
            continue
        i = found
        attempt = attempt_index.setdefault(response.attempt, len(attempt_index))
        key = (attempt, competences[i])
        group = group_index.get(key)
        if group is None:
            group = group_index[key] = len(group_attempts)
            group_attempts.append(attempt)
        status = response.status
        rows_item.append(i)
        rows_correct.append(status is AnswerStatus.OK)
        rows_group.append(group)
        answers_n[i] += 1
        right_n[i] += status is AnswerStatus.OK
        skipped_n[i] += status is AnswerStatus.SKIPPED
        timed_out_n[i] += status is AnswerStatus.TIMEDOUT
    total = len(rows_item)
    fitted = np.flatnonzero(answers_n >= settings.min_answers)
    too_few = {
        challenges[i].id: int(answers_n[i])
        for i in np.flatnonzero((answers_n > 0) & (answers_n < settings.min_answers))
    }
    grid = _grid(max(levels, default=5))
    population = (PRIOR_MEAN, PRIOR_GENERAL_SD**2)
    passes, change, converged = 0, 0.0, True
    correlation = np.full(count, np.nan)
    se_log_a = np.zeros(count)
    se_b = np.zeros(count)
    if total:
        data = _arrays(rows_item, rows_correct, rows_group, group_attempts, len(attempt_index))
        converged = fitted.size == 0
        while fitted.size and passes < settings.iterations:
            passes += 1
            params = _Parameters(a, b, c)
            counts, rights, population, _ = _expectations(
                grid, data, params, settings=settings, population=population
            )
            new_a, new_b = _maximise(
                grid, (counts[fitted], rights[fitted]), params[fitted], level[fitted], settings
            )
            stretch, shift = _link_to_levels(new_b, level[fitted])
            new_a, new_b = new_a / stretch, stretch * new_b + shift
            change = float(
                max(np.max(np.abs(new_a - a[fitted])), np.max(np.abs(new_b - b[fitted])))
            )
            a[fitted], b[fitted] = new_a, new_b
            population = (stretch * population[0] + shift, stretch**2 * population[1])
            if progress is not None:
                progress(passes, change)
            if change <= settings.tolerance:
                converged = True
                break
        params = _Parameters(a, b, c)
        counts, rights, population, ability = _expectations(
            grid, data, params, settings=settings, population=population
        )
        correlation = _correlations(data, ability, count)
        if fitted.size:
            info = _information(
                grid, (counts[fitted], rights[fitted]), params[fitted], settings.slip
            )
            se_log_a[fitted], se_b[fitted] = _standard_errors(info, settings)
    fits: dict[str, ItemFit] = {}
    for i in map(int, fitted):
        challenge = challenges[i]
        corr = float(correlation[i])
        fits[challenge.id] = ItemFit(
            challenge_id=challenge.id,
            skill_id=challenge.skill_id,
            level=levels[i],
            difficulty=round(float(b[i]), 3),
            discrimination=round(float(a[i]), 3),
            difficulty_se=round(float(se_b[i]), 3),
            discrimination_se=round(float(a[i] * se_log_a[i]), 3),
            guessing=float(c[i]),
            answers=int(answers_n[i]),
            right=int(right_n[i]),
            skipped=int(skipped_n[i]),
            timed_out=int(timed_out_n[i]),
            ability_correlation=None if math.isnan(corr) else round(corr, 3),
        )
    return CalibrationResult(
        fits=fits,
        too_few=too_few,
        unknown_answers=unknown,
        attempts=len(attempt_index),
        answers=total,
        iterations=passes,
        converged=converged,
        last_change=change,
        general_level=(round(population[0], 3), round(math.sqrt(population[1]), 3)),
        counts={
            challenges[i].id: AnswerCounts(
                int(answers_n[i]), int(right_n[i]), int(skipped_n[i]), int(timed_out_n[i])
            )
            for i in map(int, np.flatnonzero(answers_n))
        },
    )


def _arrays(
    rows_item: list[int],
    rows_correct: list[bool],
    rows_group: list[int],
    group_attempts: list[int],
    attempts: int,
) -> _Data:
    group = np.array(rows_group, dtype=np.intp)
    order = np.argsort(group, kind="stable")
    item = np.array(rows_item, dtype=np.intp)[order]
    correct = np.array(rows_correct, dtype=np.bool_)[order]
    group = group[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    by_item = np.argsort(item, kind="stable")
    sorted_items = item[by_item]
    item_starts = np.flatnonzero(np.r_[True, sorted_items[1:] != sorted_items[:-1]])
    return _Data(
        item=item,
        correct=correct,
        group_starts=starts,
        group_attempt=np.array(group_attempts, dtype=np.intp),
        group_of_answer=group,
        attempts=attempts,
        by_item=by_item,
        item_starts=item_starts,
        items_present=sorted_items[item_starts],
    )


def _curves(grid: NDArray[np.float64], params: _Parameters, slip: float) -> NDArray[np.float64]:
    """``P(right | θ)`` of each challenge (rows) at each grid point (columns)."""
    a, b, c = params.a, params.b, params.c
    logistic = 1.0 / (1.0 + np.exp(-a[:, None] * (grid[None, :] - b[:, None])))
    return c[:, None] + (1.0 - c - slip)[:, None] * logistic


def _expectations(
    grid: NDArray[np.float64],
    data: _Data,
    params: _Parameters,
    *,
    settings: CalibrationSettings,
    population: tuple[float, float],
) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[float, float], NDArray[np.float64]]:
    """E step: per challenge, expected answers and right answers at each grid point.

    Each (attempt, competence) group's ability posterior has the engine's hierarchical prior:
    the general level (``population``: mean, variance), measured by the attempt's *other*
    competences (each summarised by its likelihood's mean and variance), plus
    ``N(0, PRIOR_COMPETENCE_SD²)``. Also returns the population re-estimated from the
    attempts' posterior general levels, and each answer's ability estimate (posterior mean).
    """
    p = _curves(grid, params, settings.slip)
    log_right, log_wrong = np.log(p), np.log1p(-p)
    rows = np.where(data.correct[:, None], log_right[data.item], log_wrong[data.item])
    log_likelihood = np.add.reduceat(rows, data.group_starts, axis=0)
    log_likelihood -= log_likelihood.max(axis=1, keepdims=True)
    likelihood = np.exp(log_likelihood)
    likelihood /= likelihood.sum(axis=1, keepdims=True)
    mean = likelihood @ grid
    var = np.maximum(likelihood @ (grid * grid) - mean * mean, 1e-3)
    competence_var = PRIOR_COMPETENCE_SD**2
    general_mean, general_var = population
    weight = 1.0 / (var + competence_var)
    precision_all = 1.0 / general_var + np.bincount(
        data.group_attempt, weights=weight, minlength=data.attempts
    )
    weighted_all = general_mean / general_var + np.bincount(
        data.group_attempt, weights=weight * mean, minlength=data.attempts
    )
    precision = precision_all[data.group_attempt] - weight
    prior_mean = (weighted_all[data.group_attempt] - weight * mean) / precision
    prior_var = 1.0 / precision + competence_var
    posterior = likelihood * np.exp(
        -0.5 * (grid[None, :] - prior_mean[:, None]) ** 2 / prior_var[:, None]
    )
    posterior /= posterior.sum(axis=1, keepdims=True)
    per_answer = posterior[data.group_of_answer]
    count = params.a.size
    counts = np.zeros((count, grid.size))
    rights = np.zeros((count, grid.size))
    ordered = per_answer[data.by_item]
    counts[data.items_present] = np.add.reduceat(ordered, data.item_starts, axis=0)
    ordered_right = ordered * data.correct[data.by_item][:, None]
    rights[data.items_present] = np.add.reduceat(ordered_right, data.item_starts, axis=0)
    general = weighted_all / precision_all
    new_mean = float(general.mean())
    new_var = float(np.mean(1.0 / precision_all + (general - new_mean) ** 2))
    ability = (posterior @ grid)[data.group_of_answer]
    return counts, rights, (new_mean, max(new_var, 0.05)), ability


def _information(
    grid: NDArray[np.float64],
    expected: tuple[NDArray[np.float64], NDArray[np.float64]],
    params: _Parameters,
    slip: float,
) -> tuple[NDArray[np.float64], ...]:
    """Gradient and expected information of each challenge's log-likelihood in ``(log a, b)``.

    ``expected``: the expected answers and right answers at each grid point (E step).
    """
    counts, rights = expected
    a, b, c = params.a, params.b, params.c
    span = (1.0 - c - slip)[:, None]
    z = a[:, None] * (grid[None, :] - b[:, None])
    sigma = 1.0 / (1.0 + np.exp(-z))
    p = c[:, None] + span * sigma
    dp_dz = span * sigma * (1.0 - sigma)
    d1 = dp_dz * z  # d p / d log a
    d2 = -dp_dz * a[:, None]  # d p / d b
    pq = np.maximum(p * (1.0 - p), 1e-12)
    residual = (rights - counts * p) / pq
    weight = counts / pq
    return (
        (residual * d1).sum(axis=1),
        (residual * d2).sum(axis=1),
        (weight * d1 * d1).sum(axis=1),
        (weight * d1 * d2).sum(axis=1),
        (weight * d2 * d2).sum(axis=1),
    )


def _maximise(
    grid: NDArray[np.float64],
    expected: tuple[NDArray[np.float64], NDArray[np.float64]],
    params: _Parameters,
    level: NDArray[np.float64],
    settings: CalibrationSettings,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """M step: Fisher scoring on ``(log a, b)`` with the priors, every challenge at once."""
    log_a, b, c = np.log(params.a), params.b.copy(), params.c
    prior_log_a = math.log(DEFAULT_DISCRIMINATION)
    p_log_a = 1.0 / settings.log_discrimination_prior_sd**2
    p_b = 1.0 / settings.difficulty_prior_sd**2
    low, high = (math.log(x) for x in DISCRIMINATION_RANGE)
    for _ in range(8):
        g1, g2, i11, i12, i22 = _information(
            grid, expected, _Parameters(np.exp(log_a), b, c), settings.slip
        )
        g1 = g1 - p_log_a * (log_a - prior_log_a)
        g2 = g2 - p_b * (b - level)
        i11 = i11 + p_log_a
        i22 = i22 + p_b
        det = i11 * i22 - i12 * i12
        # Damped: never more than half a level, or a factor e^0.5, per step.
        step_log_a = np.clip((i22 * g1 - i12 * g2) / det, -0.5, 0.5)
        step_b = np.clip((i11 * g2 - i12 * g1) / det, -0.5, 0.5)
        log_a = np.clip(log_a + step_log_a, low, high)
        b = np.clip(b + step_b, grid[0], grid[-1])
        if max(float(np.max(np.abs(step_log_a))), float(np.max(np.abs(step_b)))) < 1e-4:
            break
    return np.exp(log_a), b


def _link_to_levels(b: NDArray[np.float64], level: NDArray[np.float64]) -> tuple[float, float]:
    """``(k, m)`` so that ``k · b + m`` agrees with the nominal levels on average.

    The latent scale of an IRT model is arbitrary (``θ → kθ + m`` with ``b → kb + m`` and
    ``a → a / k`` fits equally well); the engine's is the level scale, where a level-ℓ skill
    is mastered at ``θ = ℓ``. Each pass therefore maps the fitted difficulties onto the nominal
    levels (the least-squares line of difficulty against level becomes ``b = level``):
    individual challenges may sit far from their level, the whole bank cannot drift. Needs
    fitted challenges at two levels at least; otherwise the identity.
    """
    if np.unique(level).size < 2:
        return 1.0, 0.0
    centred_level = level - level.mean()
    sbl = float(np.sum((b - b.mean()) * centred_level))
    sll = float(np.sum(centred_level**2))
    if sbl <= 1e-9:
        return 1.0, 0.0
    # Regress b on the level (levels are exact, difficulties scatter): slope sbl / sll.
    stretch = max(0.5, min(2.0, sll / sbl))
    return stretch, float(level.mean() - stretch * b.mean())


def _standard_errors(
    info: tuple[NDArray[np.float64], ...], settings: CalibrationSettings
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Standard errors of ``log a`` and ``b``: the inverse information, priors included."""
    _, _, i11, i12, i22 = info
    i11 = i11 + 1.0 / settings.log_discrimination_prior_sd**2
    i22 = i22 + 1.0 / settings.difficulty_prior_sd**2
    det = i11 * i22 - i12 * i12
    return np.sqrt(i22 / det), np.sqrt(i11 / det)


def _correlations(data: _Data, ability: NDArray[np.float64], count: int) -> NDArray[np.float64]:
    """Per challenge: correlation of right answers with the attempt's ability estimate."""
    y = data.correct.astype(np.float64)
    n = np.bincount(data.item, minlength=count).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        sx = np.bincount(data.item, weights=ability, minlength=count)
        sy = np.bincount(data.item, weights=y, minlength=count)
        sxx = np.bincount(data.item, weights=ability * ability, minlength=count)
        sxy = np.bincount(data.item, weights=ability * y, minlength=count)
        cov = sxy / n - (sx / n) * (sy / n)
        var_x = sxx / n - (sx / n) ** 2
        var_y = (sy / n) * (1.0 - sy / n)
        result = cov / np.sqrt(var_x * var_y)
    result[(n < 3) | ~np.isfinite(result) | (var_x <= 1e-12) | (var_y <= 0)] = np.nan
    return result
