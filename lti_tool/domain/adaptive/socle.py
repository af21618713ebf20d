"""Socle's adaptive algorithm: Bayesian ability per competence, informative items, early stop.

The reasoning is in ``docs/adaptive-algorithm.md``; in short:

* **Model.** Each competence has an ability ``θ`` on the level scale: a skill of level ``ℓ`` is
  mastered when ``θ ≥ ℓ``. A challenge is answered correctly with probability
  ``c + (1 - c - s) · logistic(a · (θ - b))`` (3PL with slip): ``b`` is the skill level (or a
  calibrated difficulty), ``a`` a discrimination, ``c`` the chance of guessing (``1/n`` for a
  ``qcu`` with ``n`` proposals, much less for free text), ``s`` the chance of a slip. The
  discrimination is uncertain: each curve is averaged over 0.6–1.4 times the nominal ``a``.
* **Posterior on a grid.** ``θ`` lives on a grid of fifths of a level. The prior of one
  competence is a normal centred on what the *other* competences say about the person's general
  level (a normal–normal hierarchy): people good at some competences tend to be good at others,
  so measuring broadly also speeds up each competence. How alike *this* agent's competences
  are is weighed from their answers (two spreads, mixed): uneven agents get wider priors.
* **Level, knowledge elements.** Tubes and skills are assumed to sit ``N(0, spread²)`` around
  the competence ability, which turns ``θ`` into a distribution of Pix-style levels (computed
  once per parcours). Asked skills keep their direct answer (when two answers to a skill
  disagree, the posterior decides); the other skills are inferred validated in decreasing
  order of ``P(θ ≥ ℓ)``, as many as needed for the scored level to be the most probable one.
* **Item selection.** Competences are visited in turns (fewest answers first) so an agent who
  stops midway has been measured broadly. In the chosen competence the challenge that most
  reduces the expected entropy of the *level* is asked, with a preference for tubes measured
  less, for skills not asked yet and for challenges not seen in earlier attempts; challenges
  shown to too many agents are left aside (exposure control); near-ties are drawn at random.
* **Stopping.** A competence is done when it had ``min_per_competence`` answers, its reported
  level is right with probability ``confidence`` and off by at most one level with probability
  ``within_one`` (stricter for agents whose competences look uneven); or after
  ``max_per_competence`` answers, or when nothing is left to ask. The attempt ends when every
  competence is done.

Option (``SocleSettings.tube_abilities``, not the default): one ability per tube around the
competence's (``tubes.py``); measured in docs/adaptive-algorithm.md (*One ability per tube*).

Deterministic for given answers and random generator; stateless like every algorithm here.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import operator
import random
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

import lti_tool.domain.adaptive.tubes as tube_model
from lti_tool.domain.adaptive.base import pick_challenge
from lti_tool.domain.answers import (
    Answer,
    KnowledgeElement,
    KnowledgeSource,
    KnowledgeStatus,
)
from lti_tool.domain.framework import Challenge, ChallengeType, Skill
from lti_tool.domain.scoring import MAX_POINTS_PER_SKILL, POINTS_PER_LEVEL
from lti_tool.domain.target import CompetenceTarget, ParcoursView

GRID_LOW = -1.0
GRID_STEP = 0.2
#: The grid extends this far above the highest target level (room for "above the target").
GRID_MARGIN = 1.5
#: Population prior of the general level (agents: mostly levels 1–3, some far beyond).
PRIOR_MEAN = 2.5
PRIOR_GENERAL_SD = 1.5
#: Spread of one person's competences around their general level.
PRIOR_COMPETENCE_SD = 0.8
#: ...unless this agent's competences turn out less alike (see ``SocleAlgorithm._priors``).
WIDE_COMPETENCE_SD = 1.3
DEFAULT_DISCRIMINATION = 1.7
DEFAULT_SLIP = 0.05
#: Chance of answering a free-text field right without the skill.
FREE_TEXT_GUESS = 0.02
#: Spread of tubes and skills around the competence ability (levels).
TUBE_SPREAD = 0.4
#: Answer lists whose tallies are kept per parcours (attempts in progress at once).
TALLY_CACHE_SIZE = 512
_ANSWER_KEY: Callable[[Answer], tuple[str, str, str]] = operator.attrgetter(
    "challenge_id", "skill_id", "status.value"
)
#: Guessing used for answers to challenges no longer in the content (archived since).
UNKNOWN_GUESS = 0.1


@dataclass(frozen=True, slots=True)
class SocleSettings:
    """Tuning knobs; the defaults are the ones measured in ``benchmarks/simulate.py``."""

    #: Stop a competence when its reported level is the right one with this probability...
    confidence: float = 0.45
    #: ...and the probability that it is off by at most one level reaches this.
    within_one: float = 0.95
    min_per_competence: int = 2
    #: Competences still unsettled after 5 answers (uneven tubes, items far from their level)
    #: may get up to 7.
    max_per_competence: int = 7
    borrow_strength: bool = True
    #: Candidates within this relative margin of the best are drawn at random.
    exposure_margin: float = 0.05
    #: Score factor per answer a tube has over the least-asked tube of its competence.
    tube_balance: float = 0.8
    #: Score factor for a skill already asked (another of its challenges).
    repeat_skill: float = 0.5
    #: Score factor for a challenge the agent saw in an earlier attempt (retakes meet mostly
    #: new challenges when skills have several).
    seen_before: float = 0.2
    #: A competence with more candidate challenges than this (deep banks) scores only those
    #: near the ability's plausible range (CPU time of the choice).
    window_above: int = 40
    #: Exposure control: a challenge already shown to more than this share of agents is
    #: asked only when its competence has no other candidate (``exposure`` from the player).
    max_exposure: float = 0.4
    #: Assumed sd (in levels) of a tube's or skill's difficulty for a person around the
    #: competence ability; turns the level into a distribution given ``θ``.
    spread: float = TUBE_SPREAD
    #: Share of answers assumed to say nothing about the ability (an item far from its
    #: nominal level, a misread question): each answer's likelihood is mixed with a coin toss,
    #: so one answer contradicting the others cannot overturn them.
    contamination: float = 0.0
    #: The alternative, wider spread of an agent's competences around their general level
    #: (0: always ``PRIOR_COMPETENCE_SD``), and its prior probability.
    wide_competence_sd: float = WIDE_COMPETENCE_SD
    wide_share: float = 0.2
    #: For an agent whose competences look uneven (posterior weight of the wide spread,
    #: ``w``), the within-one threshold moves towards this one by ``w``...
    uneven_within_one: float = 0.98
    #: ...and a competence may get this many answers once ``w ≥ 0.5``. With the uncertain
    #: discriminations below, 0.98 and 9 take the uneven-competences world on the real content
    #: from 97.4 to 97.8 % within one, for 47.5 challenges in the standard world (measured in
    #: docs/adaptive-algorithm.md); 0.95 and 7 give the plain rule.
    uneven_max_per_competence: int = 9
    #: One ability per tube (``θ_t = θ_c + N(0, spread²)``, see ``tubes.py``): a tube's answers
    #: inform its own tube first and the competence's other tubes through the spread; the
    #: level's distribution is conditioned on every answered tube. Off by default: it asks
    #: fewer challenges but is no more accurate per challenge, and costs 3–4 times the CPU
    #: (measured in docs/adaptive-algorithm.md).
    tube_abilities: bool = False
    #: With ``tube_abilities``: the part of ``spread`` that is each skill's own (a tube then
    #: sits ``sqrt(spread² - skill_spread²)`` around the competence); 0: skills of a tube are
    #: mastered in order of level.
    skill_spread: float = 0.0
    #: Uncertain discriminations: each challenge's curve is the mean of the curves with its
    #: discrimination times each of these factors (the slope integrated over a spread of
    #: values instead of one nominal value; the simulated worlds draw them in [0.6, 2.6]).
    #: Empty: the nominal value only.
    discrimination_factors: tuple[float, ...] = (0.6, 1.0, 1.4)


def default_guessing(challenge: Challenge) -> float:
    """Chance of a right answer without the skill, from the challenge's form alone."""
    if challenge.type is ChallengeType.QCU:
        return 1.0 / max(2, len(challenge.proposals))
    if challenge.type is ChallengeType.QCM:
        return 1.0 / ((1 << max(2, len(challenge.proposals))) - 1)
    if challenge.type is ChallengeType.QROCM_IND:
        guess = 1.0
        for field in challenge.fields:
            guess *= 1.0 / len(field.options) if field.options else FREE_TEXT_GUESS
        return max(guess, 0.001)
    return FREE_TEXT_GUESS


def item_parameters(challenge: Challenge, level: int) -> tuple[float, float, float, float]:
    """``(a, b, c, s)`` of a challenge measuring a skill of ``level``.

    Calibrated values win; otherwise the difficulty is the skill level and the guessing comes
    from the challenge type.
    """
    calibration = challenge.calibration
    if calibration is None:
        return DEFAULT_DISCRIMINATION, float(level), default_guessing(challenge), DEFAULT_SLIP
    return (
        calibration.discrimination or DEFAULT_DISCRIMINATION,
        calibration.difficulty,
        default_guessing(challenge) if calibration.guessing is None else calibration.guessing,
        DEFAULT_SLIP if calibration.slip is None else calibration.slip,
    )


Curve = tuple[float, ...]


def _success_curves(
    grid: Sequence[float],
    parameters: tuple[float, float, float, float],
    contamination: float,
    factors: Sequence[float] = (),
) -> tuple[Curve, Curve]:
    """``P(right | θ)`` and ``P(wrong | θ)`` on the grid, mixed with a coin toss.

    With ``factors``, the mean of the curves whose discrimination is ``a`` times each factor
    (an uncertain discrimination, integrated out).
    """
    a, b, c, s = parameters
    keep, coin = 1.0 - contamination, 0.5 * contamination
    if factors:
        slopes = [a * factor for factor in factors]
        right = tuple(
            keep
            * (
                c
                + (1.0 - c - s)
                * sum(1.0 / (1.0 + math.exp(-slope * (theta - b))) for slope in slopes)
                / len(slopes)
            )
            + coin
            for theta in grid
        )
    else:
        right = tuple(
            keep * (c + (1.0 - c - s) / (1.0 + math.exp(-a * (theta - b)))) + coin for theta in grid
        )
    return right, tuple(1.0 - p for p in right)


@dataclass(frozen=True, slots=True)
class _Item:
    challenge: Challenge
    skill: Skill
    tube_id: str
    competence: int
    curve: Curve
    miss: Curve
    #: Grid index nearest to the challenge's difficulty.
    centre: int


@dataclass(frozen=True, slots=True)
class _CompetenceModel:
    target: CompetenceTarget
    #: Reachable levels, ascending.
    levels: tuple[int, ...]
    #: Per level: the grid range ``[start, start + len(values))`` where ``P(level | θ)`` is not
    #: negligible, and those probabilities (a contiguous band: cheap dot products).
    level_rows: tuple[tuple[int, int, tuple[float, ...]], ...]
    #: ``(skill, first grid index where θ ≥ skill level)``.
    thresholds: tuple[tuple[Skill, int], ...]
    #: Points per skill, scaled to integers (exact Pix arithmetic without ``Fraction``).
    weights: dict[str, int]
    #: ``(skill id, threshold index, points, tube id, level)`` per skill, for the hot loop.
    rows: tuple[tuple[str, int, int, str, int], ...]
    #: Skill id -> (threshold index, points); and the points of all the skills.
    row_of: dict[str, tuple[int, int]]
    total_points: int
    skills: dict[str, Skill]
    level_unit: int
    items: tuple[_Item, ...]
    #: The per-tube model (``SocleSettings.tube_abilities``), else ``None``.
    tubes: tube_model.CompetenceTubes | None = None


@dataclass(frozen=True, slots=True)
class _Model:
    grid: tuple[float, ...]
    competences: tuple[_CompetenceModel, ...]
    competence_of_skill: dict[str, int]
    items: dict[str, _Item]
    curves: dict[tuple[float, float, float, float], tuple[Curve, Curve]]


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _level_distribution(
    theta: float,
    target: CompetenceTarget,
    weights: dict[str, int],
    unit: int,
    spread: float,
) -> dict[int, float]:
    """``P(level | θ)`` when each tube sits ``N(0, spread²)`` away from the competence.

    Within a tube, skills are mastered up to the person's tube ability; tubes are independent,
    so the distribution of points is the convolution of the tubes' distributions.
    """
    points: dict[int, float] = {0: 1.0}
    for tube in target.tubes:
        outcomes: dict[int, float] = {}
        cumulative = 0
        previous = 1.0
        for skill in tube.skills:
            reach = (
                _normal_cdf((theta - skill.level) / spread)
                if spread > 0
                else float(theta >= skill.level - 1e-9)
            )
            if previous - reach > 0:
                outcomes[cumulative] = outcomes.get(cumulative, 0.0) + previous - reach
            cumulative += weights[skill.id]
            previous = reach
        outcomes[cumulative] = outcomes.get(cumulative, 0.0) + previous
        combined: dict[int, float] = {}
        for total, p in points.items():
            for extra, q in outcomes.items():
                combined[total + extra] = combined.get(total + extra, 0.0) + p * q
        points = combined
    levels: dict[int, float] = {}
    for total, p in points.items():
        level = min(total // unit, target.max_level)
        levels[level] = levels.get(level, 0.0) + p
    return levels


def _build_model(
    view: ParcoursView,
    spread: float,
    contamination: float,
    tube_abilities: bool = False,
    skill_spread: float = 0.0,
    *,
    factors: Sequence[float] = (),
) -> _Model:
    top = max((competence.max_level for competence in view.competences), default=1)
    size = round((top + GRID_MARGIN - GRID_LOW) / GRID_STEP) + 1
    grid = tuple(round(GRID_LOW + k * GRID_STEP, 10) for k in range(size))
    curves: dict[tuple[float, float, float, float], tuple[Curve, Curve]] = {}
    items: dict[str, _Item] = {}
    competences: list[_CompetenceModel] = []
    competence_of_skill: dict[str, int] = {}
    for index, target in enumerate(view.competences):
        skills = target.skills
        per_level: dict[int, int] = {}
        for skill in skills:
            per_level[skill.level] = per_level.get(skill.level, 0) + 1
        scale = math.lcm(*per_level.values()) if per_level else 1
        weights = {
            skill.id: min(
                MAX_POINTS_PER_SKILL * scale, POINTS_PER_LEVEL * scale // per_level[skill.level]
            )
            for skill in skills
        }
        unit = POINTS_PER_LEVEL * scale
        table = [_level_distribution(theta, target, weights, unit, spread) for theta in grid]
        rows: dict[int, tuple[int, int, tuple[float, ...]]] = {}
        for level in sorted({level for column in table for level in column}):
            present = [k for k, column in enumerate(table) if column.get(level, 0.0) > 1e-6]
            if present:
                first, last = present[0], present[-1] + 1
                band = tuple(table[k].get(level, 0.0) for k in range(first, last))
                rows[level] = (first, last, band)
        levels = tuple(sorted(rows))
        thresholds = tuple(
            (skill, next((k for k, t in enumerate(grid) if t >= skill.level - 1e-9), size))
            for skill in skills
        )
        competence_items: list[_Item] = []
        for tube in target.tubes:
            for skill in tube.skills:
                competence_of_skill[skill.id] = index
                for challenge in skill.served_challenges:
                    parameters = item_parameters(challenge, skill.level)
                    pair = curves.get(parameters)
                    if pair is None:
                        pair = curves[parameters] = _success_curves(
                            grid, parameters, contamination, factors
                        )
                    centre = round((parameters[1] - grid[0]) / GRID_STEP)
                    item = _Item(challenge, skill, tube.tube.id, index, *pair, centre)
                    items[challenge.id] = item
                    competence_items.append(item)
        competences.append(
            _CompetenceModel(
                target=target,
                levels=levels,
                level_rows=tuple(rows[level] for level in levels),
                thresholds=thresholds,
                weights=weights,
                rows=tuple(
                    (skill.id, start, weights[skill.id], skill.tube_id, skill.level)
                    for skill, start in thresholds
                ),
                row_of={skill.id: (start, weights[skill.id]) for skill, start in thresholds},
                total_points=sum(weights.values()),
                skills={skill.id: skill for skill in skills},
                level_unit=unit,
                items=tuple(competence_items),
            )
        )
    if tube_abilities:
        tube_spread = math.sqrt(max(spread**2 - skill_spread**2, 0.01))
        kernel = tube_model.spread_kernel(grid, GRID_STEP, tube_spread)
        with_tubes: list[_CompetenceModel] = []
        for cm in competences:
            ct = tube_model.build_competence_tubes(
                grid,
                GRID_STEP,
                cm.target,
                weights=cm.weights,
                unit=cm.level_unit,
                levels=cm.levels,
                kernel=kernel,
                reach=math.ceil(5 * tube_spread / GRID_STEP),
                skill_spread=skill_spread,
            )
            prior_rows = cm.level_rows
            if skill_spread > 0:
                # Before any answer, the level as this model sees it (not the nested tubes').
                prior_rows = _band_rows(tube_model.level_table(ct, [t.prior for t in ct.tubes]))
            with_tubes.append(dataclasses.replace(cm, tubes=ct, level_rows=prior_rows))
        competences = with_tubes
    return _Model(grid, tuple(competences), competence_of_skill, items, curves)


def _level_masses(
    cm: _CompetenceModel, weights: Sequence[float], tally: _Tally | None = None
) -> list[float]:
    """``P(level)`` for each reachable level under (unnormalised) grid ``weights``.

    With the per-tube model, ``P(level | θ)`` depends on the competence's answers (the
    tally's table once built).
    """
    rows = cm.level_rows
    if tally is not None and cm.tubes is not None and tally.count:
        rows = _tube_tables(cm, cm.tubes, tally)
    return [sum(map(operator.mul, weights[start:stop], band)) for start, stop, band in rows]


def _tube_outcomes(ct: tube_model.CompetenceTubes, tally: _Tally) -> list[tube_model.Array]:
    """Each tube's outcome distribution given ``θ_c``, conditioned on its answers."""
    if tally.outcomes is None:
        outcomes: list[tube_model.Array] = []
        for layout in ct.tubes:
            likelihood = tally.tube_likelihoods.get(layout.tube_id)
            outcomes.append(
                layout.prior
                if likelihood is None
                else tube_model.conditioned(ct.kernel, layout.buckets, likelihood)[0]
            )
        tally.outcomes = outcomes
    return tally.outcomes


def _tube_tables(
    cm: _CompetenceModel, ct: tube_model.CompetenceTubes, tally: _Tally
) -> tuple[tuple[int, int, tuple[float, ...]], ...]:
    """``P(level | θ_c, answers)`` of a competence as bands (built once per tally)."""
    if tally.level_rows is None:
        tally.level_rows = _band_rows(tube_model.level_table(ct, _tube_outcomes(ct, tally)))
    return tally.level_rows


def _tube_mastery(
    ct: tube_model.CompetenceTubes, tally: _Tally, posterior: Sequence[float]
) -> dict[str, float]:
    """Skill id -> ``P(θ_t ≥ level)`` from its own tube's posterior."""
    weights = np.asarray(posterior)
    result: dict[str, float] = {}
    for layout in ct.tubes:
        marginal = tube_model.tube_marginal(
            ct.kernel, weights, tally.tube_likelihoods.get(layout.tube_id)
        )
        total = float(marginal.sum()) or 1.0
        for sid, share in zip(layout.skill_ids, (marginal @ layout.mastery).tolist(), strict=True):
            result[sid] = share / total
    return result


def _band_rows(table: tube_model.Array) -> tuple[tuple[int, int, tuple[float, ...]], ...]:
    """``grid × levels`` table as contiguous bands of non-negligible probability."""
    rows: list[tuple[int, int, tuple[float, ...]]] = []
    for column in table.T.tolist():
        present = [k for k, value in enumerate(column) if value > 1e-9]
        first, last = (present[0], present[-1] + 1) if present else (0, 0)
        rows.append((first, last, tuple(column[first:last])))
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class CompetenceEstimate:
    """What the engine believes about one competence after the answers so far."""

    code: str
    answers: int
    mean: float
    sd: float
    level: int
    confidence: float
    done: bool


@dataclass(slots=True)
class _Tally:
    """Answers of one competence, accumulated in one pass over the attempt."""

    likelihood: list[float] | None = None
    count: int = 0
    right: int = 0
    direct: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    tube_counts: dict[str, int] = field(default_factory=dict)
    #: Per tube: right answers minus wrong ones (which tube is easier for this person).
    tube_balance: dict[str, int] = field(default_factory=dict)
    #: Mean and variance of the normalised likelihood (computed once, on first use).
    moments: tuple[float, float] | None = None
    #: Per-tube model only: each answered tube's likelihood of its own ability on the grid...
    tube_likelihoods: dict[str, tube_model.Array] = field(default_factory=dict)
    #: ...each tube's outcome distribution given ``θ_c`` and ``P(level | θ_c)`` (on first use).
    outcomes: list[tube_model.Array] | None = None
    level_rows: tuple[tuple[int, int, tuple[float, ...]], ...] | None = None
    #: Per tube position: ``tubes.levels_by_outcome`` (on first use).
    by_outcome: dict[int, tube_model.Array] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _CompetenceState:
    """Everything derived for one competence from the answers so far."""

    model: _CompetenceModel
    tally: _Tally
    posterior: list[float]
    level_masses: list[float]
    #: Skill id -> (validated, deciding challenge or ``None`` when inferred).
    decisions: dict[str, tuple[bool, str | None]]
    level: int
    confidence: float
    #: Asked skills whose answers contradict the posterior, most surprising first.
    conflicts: tuple[Skill, ...]
    done: bool

    @property
    def mode(self) -> int:
        """The most probable level."""
        best = max(range(len(self.level_masses)), key=self.level_masses.__getitem__)
        return self.model.levels[best]


def _decide_direct(outcomes: list[tuple[str, bool]], p_mastered: float) -> tuple[bool, str]:
    """An asked skill keeps its answer; if two answers to it disagree, the posterior decides.

    The deciding challenge is the latest answer agreeing with the decision.
    """
    statuses = {ok for _, ok in outcomes}
    validated = outcomes[0][1] if len(statuses) == 1 else p_mastered >= 0.5
    return validated, next(cid for cid, ok in reversed(outcomes) if ok == validated)


def _tail(weights: Sequence[float]) -> list[float]:
    """``tail[k] = sum(weights[k:])``, with a final 0, so any slice sum is one subtraction."""
    tail = list(itertools.accumulate(reversed(weights)))
    tail.reverse()
    tail.append(0.0)
    return tail


#: A competence's prior: a mixture of normals, ``(weight, mean, variance)`` per component.
Prior = tuple[tuple[float, float, float], ...]


def _normal_priors(
    moments: Sequence[tuple[float, float] | None], competence_var: float
) -> list[tuple[float, float]]:
    """Leave-one-out normal prior ``(mean, variance)`` of each competence for one ``τ²``."""
    general_var = PRIOR_GENERAL_SD**2
    measures = [
        None if moment is None else (moment[0], moment[1] + competence_var) for moment in moments
    ]
    precision_all = 1.0 / general_var
    weighted_all = PRIOR_MEAN / general_var
    for measure in measures:
        if measure is not None:
            precision_all += 1.0 / measure[1]
            weighted_all += measure[0] / measure[1]
    priors: list[tuple[float, float]] = []
    for measure in measures:
        precision, weighted = precision_all, weighted_all
        if measure is not None:
            precision -= 1.0 / measure[1]
            weighted -= measure[0] / measure[1]
        priors.append((weighted / precision, 1.0 / precision + competence_var))
    return priors


def _wide(prior: Prior) -> float:
    """Weight of the wide competence spread in a prior (0 with one spread only)."""
    return prior[1][0] if len(prior) == 2 else 0.0


def _entropy(masses: Sequence[float], total: float) -> float:
    if total <= 0.0:
        return 0.0
    result = 0.0
    for mass in masses:
        if mass > 0.0:
            p = mass / total
            result -= p * math.log(p)
    return result


class SocleAlgorithm:
    """Bayesian per-competence adaptive algorithm (see module docstring)."""

    name = "socle"

    def __init__(self, settings: SocleSettings | None = None) -> None:
        self.settings = settings or SocleSettings()
        self._models: weakref.WeakKeyDictionary[ParcoursView, _Model] = weakref.WeakKeyDictionary()
        self._cache: weakref.WeakKeyDictionary[
            ParcoursView, OrderedDict[tuple[tuple[str, str, str], ...], list[_Tally]]
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        #: Per-tube model: each distinct challenge curve as a numpy array (as many as distinct
        #: item parameters in the content).
        self._arrays: dict[Curve, tube_model.Array] = {}

    def _model(self, view: ParcoursView) -> _Model:
        model = self._models.get(view)
        if model is None:
            settings = self.settings
            model = _build_model(
                view,
                settings.spread,
                settings.contamination,
                settings.tube_abilities,
                settings.skill_spread,
                factors=settings.discrimination_factors,
            )
            self._models[view] = model
        return model

    # --- state -----------------------------------------------------------------------------

    def _curves_for(self, model: _Model, view: ParcoursView, answer: Answer) -> tuple[Curve, Curve]:
        """Curves of an answered challenge; nominal ones if it left the content since."""
        item = model.items.get(answer.challenge_id)
        if item is not None:
            return item.curve, item.miss
        level = view.skills[answer.skill_id].level
        parameters = (DEFAULT_DISCRIMINATION, float(level), UNKNOWN_GUESS, DEFAULT_SLIP)
        pair = model.curves.get(parameters)
        if pair is None:
            pair = model.curves[parameters] = _success_curves(
                model.grid,
                parameters,
                self.settings.contamination,
                self.settings.discrimination_factors,
            )
        return pair

    def _tallies(self, view: ParcoursView, answers: Sequence[Answer]) -> list[_Tally]:
        """Per-competence tallies of ``answers``.

        The player calls the engine after each answer with the whole list, so the tallies of
        the list without its last answer are usually known: they are kept in a small cache
        and extended by one answer. A cache miss recomputes everything; both ways give the
        same result (tallies are never modified once built).
        """
        model = self._model(view)
        key = tuple(map(_ANSWER_KEY, answers))  # plain strings: hashed in C, unlike Answer
        with self._lock:
            cache = self._cache.setdefault(view, OrderedDict())
            tallies = cache.get(key)
            previous = cache.get(key[:-1]) if key and tallies is None else None
        if tallies is None:
            if previous is not None:
                tallies = list(previous)
                self._add(model, view, tallies, answers[-1])
            else:
                tallies = [_Tally() for _ in model.competences]
                for answer in answers:
                    self._add(model, view, tallies, answer)
            with self._lock:
                cache[key] = tallies
                while len(cache) > TALLY_CACHE_SIZE:
                    cache.popitem(last=False)
        return tallies

    def _add(
        self, model: _Model, view: ParcoursView, tallies: list[_Tally], answer: Answer
    ) -> None:
        """Replace the tally of the answer's competence by a new one including it."""
        index = model.competence_of_skill.get(answer.skill_id)
        if index is None:
            return
        old = tallies[index]
        right, wrong = self._curves_for(model, view, answer)
        ok = answer.is_correct
        factor = right if ok else wrong
        tube_id = view.tube_of_skill[answer.skill_id].tube.id
        tube_likelihoods = old.tube_likelihoods
        tubes = model.competences[index].tubes
        if tubes is not None:
            # One ability per tube: the answer multiplies its tube's likelihood; the
            # competence's is the product of every answered tube's, seen through the spread.
            kernel = tubes.kernel
            tube_likelihoods = dict(tube_likelihoods)
            own = np.asarray(factor)
            previous_own = tube_likelihoods.get(tube_id)
            if previous_own is not None:
                own = own * previous_own
            tube_likelihoods[tube_id] = own / own.max()
            product = np.ones(len(model.grid))
            for values in tube_likelihoods.values():
                product = product * (kernel @ values)
            likelihood = (product / product.max()).tolist()
        elif old.likelihood is None:
            likelihood = list(factor)
        else:
            likelihood = list(map(operator.mul, old.likelihood, factor))
            if old.count % 16 == 15:  # renormalise long attempts before they underflow
                peak = max(likelihood)
                likelihood = [x / peak for x in likelihood]
        direct = dict(old.direct)
        direct[answer.skill_id] = [*direct.get(answer.skill_id, ()), (answer.challenge_id, ok)]
        tube_counts = dict(old.tube_counts)
        tube_counts[tube_id] = tube_counts.get(tube_id, 0) + 1
        tube_balance = dict(old.tube_balance)
        tube_balance[tube_id] = tube_balance.get(tube_id, 0) + (1 if ok else -1)
        tallies[index] = _Tally(
            likelihood,
            old.count + 1,
            old.right + ok,
            direct,
            tube_counts,
            tube_balance,
            tube_likelihoods=tube_likelihoods,
        )

    def _priors(self, grid: Sequence[float], tallies: Sequence[_Tally]) -> list[Prior]:
        """Prior of each competence: a mixture of normals ``(weight, mean, variance)``.

        Hierarchical: ``θ_c = g + u_c`` with ``g ~ N(PRIOR_MEAN, PRIOR_GENERAL_SD²)`` and
        ``u_c ~ N(0, τ²)``. Each *other* measured competence contributes its likelihood's mean
        and variance (plus ``τ²``) as a measurement of ``g``; the competence's own answers are
        left out so they are not counted twice.

        How alike one agent's competences are (``τ``) is itself uncertain: ``τ`` is
        ``PRIOR_COMPETENCE_SD`` or ``settings.wide_competence_sd``, weighted by how well each
        predicts every measured competence from the others (leave-one-out, each competence's
        answers summarised by their likelihood's mean and variance). An agent whose
        competences turn out uneven gets wide priors everywhere, the others keep narrow ones.
        """
        general_var = PRIOR_GENERAL_SD**2
        narrow = PRIOR_COMPETENCE_SD**2
        if not self.settings.borrow_strength:
            return [((1.0, PRIOR_MEAN, general_var + narrow),)] * len(tallies)
        squares = [t * t for t in grid]
        moments: list[tuple[float, float] | None] = []
        for tally in tallies:
            if tally.likelihood is None:
                moments.append(None)
                continue
            if tally.moments is None:
                weights = tally.likelihood
                total = sum(weights)
                mean = sum(map(operator.mul, grid, weights)) / total
                second = sum(map(operator.mul, squares, weights)) / total
                tally.moments = (mean, max(second - mean * mean, 0.0))
            moments.append(tally.moments)
        wide_sd = self.settings.wide_competence_sd
        measured = sum(1 for moment in moments if moment is not None)
        if wide_sd <= 0.0 or measured < 3:
            return [((1.0, *prior),) for prior in _normal_priors(moments, narrow)]
        candidates = (
            (1.0 - self.settings.wide_share, _normal_priors(moments, narrow)),
            (self.settings.wide_share, _normal_priors(moments, wide_sd**2)),
        )
        # Each measured competence's answers, summarised by their likelihood's mean and
        # variance, predicted from the others: N(mean; prior mean, prior var + variance).
        logs: list[float] = []
        for share, priors in candidates:
            log_evidence = math.log(share)
            for moment, (mean, var) in zip(moments, priors, strict=True):
                if moment is not None:
                    total_var = var + moment[1]
                    log_evidence -= 0.5 * (
                        math.log(total_var) + (moment[0] - mean) ** 2 / total_var
                    )
            logs.append(log_evidence)
        peak = max(logs)
        shares = [math.exp(value - peak) for value in logs]
        total_share = sum(shares)
        return [
            tuple(
                (share / total_share, mean, var)
                for share, (mean, var) in zip(shares, component, strict=True)
            )
            for component in zip(*(priors for _, priors in candidates), strict=True)
        ]

    def _prepare(
        self, view: ParcoursView, answers: Sequence[Answer]
    ) -> tuple[_Model, list[tuple[_CompetenceModel, _Tally, Prior]]]:
        """Tallies and priors of every competence: the cheap part, always needed."""
        model = self._model(view)
        tallies = self._tallies(view, answers)
        priors = self._priors(model.grid, tallies)
        return model, list(zip(model.competences, tallies, priors, strict=True))

    def _state(
        self,
        grid: Sequence[float],
        cm: _CompetenceModel,
        tally: _Tally,
        prior: Prior,
    ) -> _CompetenceState:
        """Posterior and decisions of one competence: the costly part, computed on demand."""
        return self._settle(cm, tally, self._posterior(grid, tally, prior), _wide(prior))

    def _posterior(self, grid: Sequence[float], tally: _Tally, prior: Prior) -> list[float]:
        """Normalised posterior of ``θ`` on the grid."""
        if len(prior) == 2 and min(prior[0][0], prior[1][0]) < 1e-9:
            prior = (max(prior),)  # one spread is all but excluded
        if len(prior) == 1:
            _, mean, var = prior[0]
            weights = [math.exp(-((t - mean) ** 2) / (2.0 * var)) for t in grid]
        else:
            (share_1, mean_1, var_1), (share_2, mean_2, var_2) = prior
            scale_1, scale_2 = -0.5 / var_1, -0.5 / var_2
            factor = (share_2 / share_1) * math.sqrt(var_1 / var_2)
            weights = [
                math.exp(scale_1 * (t - mean_1) ** 2)
                + factor * math.exp(scale_2 * (t - mean_2) ** 2)
                for t in grid
            ]
        if tally.likelihood is not None:
            weights = list(map(operator.mul, weights, tally.likelihood))
        scale = 1.0 / sum(weights)
        return [w * scale for w in weights]

    def _states(self, view: ParcoursView, answers: Sequence[Answer]) -> list[_CompetenceState]:
        model, prepared = self._prepare(view, answers)
        return [self._state(model.grid, cm, tally, prior) for cm, tally, prior in prepared]

    def _settle(
        self, cm: _CompetenceModel, tally: _Tally, posterior: list[float], wide: float = 0.0
    ) -> _CompetenceState:
        """Decide every skill so that the reported level is the most probable one.

        Asked skills keep their answers. The others are validated in decreasing order of
        ``P(θ ≥ level)`` (ties: the tube with the better answers first), as many as needed to
        reach the most probable level — as close as possible to the plain ``P ≥ 0.5`` rule.
        """
        tail = _tail(posterior)
        masses = _level_masses(cm, posterior, tally)
        mode = cm.levels[max(range(len(masses)), key=masses.__getitem__)]
        mastery = None if cm.tubes is None else _tube_mastery(cm.tubes, tally, posterior)
        decisions: dict[str, tuple[bool, str | None]] = {}
        conflicts: list[tuple[float, str]] = []
        points = 0
        inferred: list[tuple[float, int, int, str, int]] = []
        direct = tally.direct
        balance = tally.tube_balance
        for sid, start, weight, tube_id, level in cm.rows:
            p_mastered = tail[start] if mastery is None else mastery[sid]
            outcomes = direct.get(sid)
            if outcomes:
                validated, source = _decide_direct(outcomes, p_mastered)
                decisions[sid] = (validated, source)
                if validated != (p_mastered >= 0.5):
                    conflicts.append((0.5 - abs(p_mastered - 0.5), sid))
                if validated:
                    points += weight
            else:
                inferred.append((-p_mastered, -balance.get(tube_id, 0), level, sid, weight))
        inferred.sort()
        plain = sum(1 for entry in inferred if entry[0] <= -0.5)
        unit, cap = cm.level_unit, cm.target.max_level
        best_option = (abs(min(points // unit, cap) - mode), plain, 0)
        running = points
        for j, entry in enumerate(inferred, start=1):
            running += entry[4]
            option = (abs(min(running // unit, cap) - mode), abs(j - plain), j)
            best_option = min(best_option, option)
        chosen = best_option[2]
        for j, entry in enumerate(inferred):
            decisions[entry[3]] = (j < chosen, None)
            if j < chosen:
                points += entry[4]
        level = min(points // unit, cap)
        confidence = masses[cm.levels.index(level)] if level in cm.levels else 0.0
        return _CompetenceState(
            model=cm,
            tally=tally,
            posterior=posterior,
            level_masses=masses,
            decisions=decisions,
            level=level,
            confidence=confidence,
            conflicts=tuple(cm.skills[sid] for _, sid in sorted(conflicts)),
            done=self._done(cm, tally, masses, level, wide),
        )

    def _max_answers(self, wide: float) -> int:
        settings = self.settings
        return settings.uneven_max_per_competence if wide >= 0.5 else settings.max_per_competence

    def _done(
        self,
        cm: _CompetenceModel,
        tally: _Tally,
        masses: Sequence[float],
        level: int,
        wide: float = 0.0,
    ) -> bool:
        """The stopping rule of one competence, given its reported level.

        ``wide``: the weight of the wide competence spread in this agent's prior; the
        within-one threshold moves from ``within_one`` towards ``uneven_within_one`` with it.
        """
        settings = self.settings
        if tally.count >= self._max_answers(wide):
            return True
        if tally.count < settings.min_per_competence or level not in cm.levels:
            return False
        index = cm.levels.index(level)
        near = sum(masses[max(0, index - 1) : index + 2])
        within_one = settings.within_one + wide * (settings.uneven_within_one - settings.within_one)
        return masses[index] >= settings.confidence and near >= within_one

    @staticmethod
    def _reported_level(
        cm: _CompetenceModel, tally: _Tally, posterior: Sequence[float], masses: Sequence[float]
    ) -> int:
        """The level ``_settle`` reports, without deciding every skill.

        Asked skills are fixed; validating the other skills one by one moves the level by at
        most one each time (no skill is worth more than a level), so ``_settle`` reaches the
        most probable level whenever it lies between "none of the others" and "all of them",
        and the nearest of the two otherwise.
        """
        mode = cm.levels[max(range(len(masses)), key=masses.__getitem__)]
        points = 0
        free = cm.total_points
        mastery: dict[str, float] | None = None
        for sid, outcomes in tally.direct.items():
            start, weight = cm.row_of[sid]
            free -= weight
            statuses = {ok for _, ok in outcomes}
            if len(statuses) == 1:
                validated = outcomes[0][1]
            elif cm.tubes is None:
                validated = sum(posterior[start:]) >= 0.5
            else:
                mastery = mastery or _tube_mastery(cm.tubes, tally, posterior)
                validated = mastery[sid] >= 0.5
            if validated:
                points += weight
        unit, cap = cm.level_unit, cm.target.max_level
        low, high = min(points // unit, cap), min((points + free) // unit, cap)
        return min(max(mode, low), high)

    @staticmethod
    def _available(state: _CompetenceState, asked: Collection[str]) -> list[_Item]:
        return [item for item in state.model.items if item.challenge.id not in asked]

    def _finished(self, state: _CompetenceState, asked: Collection[str]) -> bool:
        return state.done or not self._available(state, asked)

    # --- public API ------------------------------------------------------------------------

    def estimates(self, view: ParcoursView, answers: Sequence[Answer]) -> list[CompetenceEstimate]:
        """Per competence: posterior mean and sd, reported level and its probability."""
        grid = self._model(view).grid
        asked = {answer.challenge_id for answer in answers}
        result: list[CompetenceEstimate] = []
        for state in self._states(view, answers):
            mean = sum(t * p for t, p in zip(grid, state.posterior, strict=True))
            var = sum((t - mean) ** 2 * p for t, p in zip(grid, state.posterior, strict=True))
            result.append(
                CompetenceEstimate(
                    code=state.model.target.code,
                    answers=state.tally.count,
                    mean=mean,
                    sd=math.sqrt(var),
                    level=state.level,
                    confidence=state.confidence,
                    done=self._finished(state, asked),
                )
            )
        return result

    def knowledge_elements(
        self, view: ParcoursView, answers: Sequence[Answer]
    ) -> list[KnowledgeElement]:
        """Direct elements for asked skills, inferred ones for the others (see ``_settle``).

        Competences without any answer get no element: they were not measured.
        """
        elements: list[KnowledgeElement] = []
        for state in self._states(view, answers):
            if state.tally.count == 0:
                continue
            for skill, _ in state.model.thresholds:
                validated, source = state.decisions[skill.id]
                elements.append(
                    KnowledgeElement(
                        skill.id,
                        KnowledgeStatus.VALIDATED if validated else KnowledgeStatus.FAILED,
                        KnowledgeSource.INFERRED if source is None else KnowledgeSource.DIRECT,
                        source,
                    )
                )
        return elements

    def next_challenge(
        self,
        view: ParcoursView,
        answers: Sequence[Answer],
        rng: random.Random,
        *,
        seen: Collection[str] = frozenset(),
        exposure: Mapping[str, float] | None = None,
    ) -> Challenge | None:
        """The most informative challenge of the least-measured open competence."""
        asked = {answer.challenge_id for answer in answers}
        settings = self.settings
        model, prepared = self._prepare(view, answers)
        askable = sorted(
            (tally.count, index)
            for index, (cm, tally, prior) in enumerate(prepared)
            if tally.count < self._max_answers(_wide(prior))
            and any(item.challenge.id not in asked for item in cm.items)
        )
        # Visit competences by number of answers: the first group with an open competence is
        # the one to measure, so competences with more answers never need their posterior.
        for count, group in itertools.groupby(askable, key=operator.itemgetter(0)):
            # Competences of the group in random order; the first one still open is measured
            # (a uniform choice among the open ones, without examining all of them).
            indices = [index for _, index in group]
            rng.shuffle(indices)
            for index in indices:
                cm, tally, prior = prepared[index]
                posterior = self._posterior(model.grid, tally, prior)
                if count >= settings.min_per_competence:
                    # Only the reported level is needed to know whether a competence is done;
                    # every skill is decided only for the competence that gets the challenge.
                    masses = _level_masses(cm, posterior, tally)
                    level = self._reported_level(cm, tally, posterior, masses)
                    if self._done(cm, tally, masses, level, _wide(prior)):
                        continue
                return self._choose(
                    self._settle(cm, tally, posterior, _wide(prior)),
                    asked,
                    seen,
                    rng,
                    exposure=exposure,
                )
        return None

    def _choose(
        self,
        state: _CompetenceState,
        asked: Collection[str],
        seen: Collection[str],
        rng: random.Random,
        *,
        exposure: Mapping[str, float] | None = None,
    ) -> Challenge:
        available = self._available(state, asked)
        if exposure:
            # Exposure control: challenges shown to too many agents only when nothing else.
            limit = self.settings.max_exposure
            rare = [item for item in available if exposure.get(item.challenge.id, 0.0) <= limit]
            available = rare or available
        if state.conflicts and state.mode != state.level:
            # A surprising answer (slip or lucky guess) moves the reported level away from the
            # most probable one: ask that skill again with another challenge, if it has one.
            for skill in state.conflicts:
                retry = [item.challenge for item in available if item.skill.id == skill.id]
                if retry:
                    chosen = pick_challenge(retry, asked, seen, rng)
                    assert chosen is not None
                    return chosen
        posterior = state.posterior
        if len(available) > self.settings.window_above:
            # Deep banks: challenges far outside the ability's plausible range tell almost
            # nothing; only those within half a level of the posterior's central 96 % are
            # scored (all, if none is).
            tail = _tail(posterior)
            low = next(i for i, mass in enumerate(tail) if mass < 0.98) - 1
            high = next(i for i, mass in enumerate(tail) if mass < 0.02)
            reach = round(0.5 / GRID_STEP)
            near = [item for item in available if low - reach <= item.centre <= high + reach]
            available = near or available
        cm = state.model
        masses = state.level_masses
        entropy_now = _entropy(masses, 1.0)
        tube_counts = state.tally.tube_counts
        least = min(tube_counts.get(t.tube.id, 0) for t in cm.target.tubes)
        settings = self.settings
        gains: dict[int, float] = {}
        if cm.tubes is not None:
            gains = self._tube_gains(cm.tubes, state, available, entropy_now)
        scored: list[tuple[float, _Item]] = []
        for item in available:
            gain = gains.get(id(item.curve) if cm.tubes is None else id(item))
            if gain is None:
                ok_weights = list(map(operator.mul, posterior, item.curve))
                p_ok = sum(ok_weights)
                ok_masses = _level_masses(cm, ok_weights)
                ko_masses = [m - o for m, o in zip(masses, ok_masses, strict=True)]
                expected = p_ok * _entropy(ok_masses, p_ok) + (1.0 - p_ok) * _entropy(
                    ko_masses, 1.0 - p_ok
                )
                gain = gains[id(item.curve)] = max(0.0, entropy_now - expected)
            factor = settings.tube_balance ** (tube_counts.get(item.tube_id, 0) - least)
            if item.skill.id in state.tally.direct:
                factor *= settings.repeat_skill
            if item.challenge.id in seen:
                factor *= settings.seen_before
            scored.append((gain * factor, item))
        best = max(score for score, _ in scored)
        threshold = best * (1.0 - settings.exposure_margin)
        top = sorted(
            (item for score, item in scored if score >= threshold),
            key=lambda item: item.challenge.id,
        )
        return rng.choice(top).challenge

    def _tube_gains(
        self,
        ct: tube_model.CompetenceTubes,
        state: _CompetenceState,
        available: Sequence[_Item],
        entropy_now: float,
    ) -> dict[int, float]:
        """Per-tube model: expected entropy reduction of the level, per ``id(item)``.

        One vectorised computation per tube, over its distinct challenge curves.
        """
        tally = state.tally
        outcomes = _tube_outcomes(ct, tally) if tally.count else [t.prior for t in ct.tubes]
        posterior = np.asarray(state.posterior)
        by_tube: dict[str, list[_Item]] = {}
        for item in available:
            by_tube.setdefault(item.tube_id, []).append(item)
        gains: dict[int, float] = {}
        arrays = self._arrays
        for tube_id, group in by_tube.items():
            curves: dict[int, tube_model.Array] = {}
            for item in group:
                key = id(item.curve)
                if key not in curves:
                    array = arrays.get(item.curve)
                    if array is None:
                        array = arrays[item.curve] = np.asarray(item.curve)
                    curves[key] = array
            position = ct.position[tube_id]
            by_outcome = (
                tally.by_outcome.get(position) if tally.count else ct.prior_by_outcome[position]
            )
            if by_outcome is None:
                by_outcome = tally.by_outcome[position] = tube_model.levels_by_outcome(
                    ct, outcomes, position
                )
            expected = tube_model.expected_entropies(
                ct,
                posterior,
                by_outcome,
                position,
                likelihood=tally.tube_likelihoods.get(tube_id),
                curves=np.stack(list(curves.values())),
            ).tolist()
            gain_of = {
                key: max(0.0, entropy_now - value)
                for key, value in zip(curves, expected, strict=True)
            }
            for item in group:
                gains[id(item)] = gain_of[id(item.curve)]
        return gains

    def settled(self, view: ParcoursView, answers: Sequence[Answer]) -> list[tuple[int, bool]]:
        """Per competence: its number of answers, and whether it is finished (done, or no
        challenge left) — what ``estimates`` says, for the progress line, at a fraction of
        the cost: a posterior only for competences between the minimum and the maximum
        number of answers, and their level without deciding every skill (as
        ``next_challenge`` does)."""
        asked = {answer.challenge_id for answer in answers}
        model, prepared = self._prepare(view, answers)
        minimum = self.settings.min_per_competence
        found: list[tuple[int, bool]] = []
        for cm, tally, prior in prepared:
            wide = _wide(prior)
            if tally.count >= self._max_answers(wide) or all(
                item.challenge.id in asked for item in cm.items
            ):
                finished = True
            elif tally.count < minimum:
                finished = False
            else:
                posterior = self._posterior(model.grid, tally, prior)
                masses = _level_masses(cm, posterior, tally)
                level = self._reported_level(cm, tally, posterior, masses)
                finished = self._done(cm, tally, masses, level, wide)
            found.append((tally.count, finished))
        return found

    def progress(self, view: ParcoursView, answers: Sequence[Answer]) -> int:
        """Mean over competences of: 1 when done, else answers / maximum per competence."""
        settled = self.settled(view, answers)
        if not settled:
            return 100
        shares = [
            1.0 if finished else min(0.9, count / self.settings.max_per_competence)
            for count, finished in settled
        ]
        return round(100 * sum(shares) / len(shares))
