"""One ability per tube, marginalised on the competence's level grid.

Model: ``θ_t = θ_c + δ_t`` with ``δ_t ~ N(0, spread²)`` independent per tube. A tube's answers
inform its own ``θ_t`` (their likelihood on the grid, ``L_t``); the competence ability sees them
through the spread: ``P(answers of t | θ_c) = Σ_j K[c, j] · L_t[j]``, where ``K`` is the spread
kernel on the grid. Given ``θ_c``, tubes are independent, so the distribution of Pix points
(hence of the level, as scoring defines it from every tube) is the convolution of each tube's
distribution of mastered skills, that of an answered tube being conditioned on its answers.

Everything here is a few small numpy products on arrays of at most ``grid × grid`` (39 × 39):
the level table of a competence is rebuilt once per answer, and the expected entropy of every
candidate challenge is computed for one tube at a time, all its candidates at once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lti_tool.domain.target import CompetenceTarget

Array = NDArray[np.float64]


def spread_kernel(grid: Sequence[float], step: float, spread: float) -> Array:
    """``K[i, j] = P(θ_t in cell j | θ_c = grid[i])`` for ``θ_t ~ N(θ_c, spread²)``.

    Cell ``j`` is ``[grid[j] - step/2, grid[j] + step/2)``; the first and last cells are open.
    """
    size = len(grid)
    half = step / 2.0
    kernel = np.zeros((size, size))
    for i, centre in enumerate(grid):
        previous = 0.0
        for j, point in enumerate(grid):
            upper = 1.0 if j == size - 1 else _cdf((point + half - centre) / spread)
            kernel[i, j] = max(0.0, upper - previous)
            previous = upper
    return kernel


def _cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


@dataclass(frozen=True, slots=True)
class TubeLayout:
    """One tube: which grid cells fall in which outcome, and the points of each outcome.

    Outcome ``k``: the ``k`` easiest skills of the tube are mastered (``θ_t`` between the
    ``k``-th and the next skill level).
    """

    tube_id: str
    #: ``grid × outcomes``: share of grid cell ``j`` in outcome ``k`` (a cell centred on a
    #: skill level is split in two halves).
    buckets: Array
    #: Points (in units of the competence's greatest common weight) of each outcome.
    offsets: tuple[int, ...]
    #: ``grid × outcomes``: outcome distribution given ``θ_c`` before any answer.
    prior: Array
    #: The tube's skills, by level, and ``grid × skills``: ``P(skill mastered | θ_t)``.
    skill_ids: tuple[str, ...]
    mastery: Array
    #: ``grid (θ_c) × outcomes × grid (θ_t)``: ``K[c, t] · buckets[t, k]``.
    spread: Array
    #: ``outcomes × points``: column of a table padded by ``offsets[-1]`` zeros on the left
    #: that lands on each point once moved by each outcome's points.
    shifts: NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class CompetenceTubes:
    """The per-tube model of one competence."""

    kernel: Array
    #: Grid steps beyond which the kernel is negligible (5 spreads).
    reach: int
    tubes: tuple[TubeLayout, ...]
    position: dict[str, int]
    #: Number of point values (points in gcd units, 0..total).
    size: int
    #: ``points × levels``: 1 where the points give that level (levels as the engine lists
    #: them; points giving a level outside the list are dropped).
    to_level: Array
    #: Per tube, ``levels_by_outcome`` before any answer.
    prior_by_outcome: tuple[Array, ...] = ()


def build_competence_tubes(
    grid: Sequence[float],
    step: float,
    target: CompetenceTarget,
    *,
    weights: dict[str, int],
    unit: int,
    levels: Sequence[int],
    kernel: Array,
    reach: int,
    skill_spread: float = 0.0,
) -> CompetenceTubes:
    """Lay out a competence's tubes on the grid (once per parcours).

    ``skill_spread`` 0: a tube's skills are mastered in order of level, up to ``θ_t``. Above
    0: each skill's own difficulty sits ``N(0, skill_spread²)`` around its level, so a tube's
    points given ``θ_t`` are a sum of independent skills.
    """
    divisor = math.gcd(*weights.values(), unit) if weights else 1
    half = step / 2.0
    layouts: list[TubeLayout] = []
    total = 0
    for tube in target.tubes:
        skills = sorted(tube.skills, key=lambda skill: skill.level)
        above = np.ones((len(grid), len(skills) + 2))
        above[:, -1] = 0.0
        for k, skill in enumerate(skills, start=1):
            for j, point in enumerate(grid):
                low = -math.inf if j == 0 else point - half
                high = math.inf if j == len(grid) - 1 else point + half
                if skill_spread > 0:
                    share = _cdf((point - skill.level) / skill_spread)
                elif low >= skill.level:
                    share = 1.0
                elif high <= skill.level:
                    share = 0.0
                else:
                    share = (high - skill.level) / (high - low)
                above[j, k] = share
        mastery = above[:, 1:-1].copy()
        points = [weights[skill.id] // divisor for skill in skills]
        if skill_spread > 0:
            buckets = np.zeros((len(grid), sum(points) + 1))
            buckets[:, 0] = 1.0
            for k, worth in enumerate(points):
                p = mastery[:, k : k + 1]
                moved = np.zeros_like(buckets)
                moved[:, worth:] = buckets[:, : buckets.shape[1] - worth]
                buckets = buckets * (1.0 - p) + moved * p
            offsets = list(range(sum(points) + 1))
        else:
            buckets = above[:, :-1] - above[:, 1:]
            offsets = [0]
            for worth in points:
                offsets.append(offsets[-1] + worth)
        total += offsets[-1]
        layouts.append(
            TubeLayout(
                tube_id=tube.tube.id,
                buckets=buckets,
                offsets=tuple(offsets),
                prior=kernel @ buckets,
                skill_ids=tuple(skill.id for skill in skills),
                mastery=mastery,
                spread=np.ascontiguousarray(np.einsum("ij,jk->ikj", kernel, buckets)),
                shifts=np.zeros((0, 0), dtype=np.intp),
            )
        )
    size = total + 1
    layouts = [
        dataclasses.replace(
            layout,
            shifts=(
                layout.offsets[-1]
                - np.asarray(layout.offsets, dtype=np.intp)[:, None]
                + np.arange(size, dtype=np.intp)[None, :]
            ),
        )
        for layout in layouts
    ]
    to_level = np.zeros((size, len(levels)))
    column = {level: index for index, level in enumerate(levels)}
    for value in range(size):
        level = min(value * divisor // unit, target.max_level)
        if level in column:
            to_level[value, column[level]] = 1.0
    competence = CompetenceTubes(
        kernel=kernel,
        reach=reach,
        tubes=tuple(layouts),
        position={layout.tube_id: index for index, layout in enumerate(layouts)},
        size=size,
        to_level=to_level,
    )
    priors = [layout.prior for layout in layouts]
    return dataclasses.replace(
        competence,
        prior_by_outcome=tuple(
            levels_by_outcome(competence, priors, t) for t in range(len(layouts))
        ),
    )


def conditioned(kernel: Array, buckets: Array, likelihood: Array) -> tuple[Array, Array]:
    """Outcome distribution of a tube given ``θ_c`` and its answers, and ``P(answers | θ_c)``."""
    weighted = kernel * likelihood[None, :]
    evidence = np.maximum(weighted.sum(axis=1), 1e-300)
    return (weighted @ buckets) / evidence[:, None], evidence


def points_table(ct: CompetenceTubes, outcomes: Sequence[Array], skip: int = -1) -> Array:
    """``grid × points``: distribution of the competence's points given ``θ_c``.

    ``outcomes[t]`` is tube ``t``'s outcome distribution given ``θ_c``; tube ``skip`` is left
    out.
    """
    table = np.zeros((ct.kernel.shape[0], ct.size))
    table[:, 0] = 1.0
    for t, (layout, outcome) in enumerate(zip(ct.tubes, outcomes, strict=True)):
        if t != skip:
            table = np.matmul(outcome[:, None, :], _shifted(table, layout))[:, 0, :]
    return table


def _shifted(table: Array, layout: TubeLayout) -> Array:
    """``grid × outcomes × points``: ``table`` moved right by each outcome's points."""
    top = layout.offsets[-1]
    padded = np.zeros((table.shape[0], top + table.shape[1]))
    padded[:, top:] = table
    result: Array = padded[:, layout.shifts]
    return result


def level_table(ct: CompetenceTubes, outcomes: Sequence[Array]) -> Array:
    """``grid × levels``: ``P(level | θ_c, answers)``."""
    table: Array = points_table(ct, outcomes) @ ct.to_level
    return table


def tube_marginal(kernel: Array, posterior: Array, likelihood: Array | None) -> Array:
    """Posterior of one tube's ability on the grid, given the competence posterior."""
    if likelihood is None:
        result: Array = posterior @ kernel
        return result
    evidence = np.maximum(kernel @ likelihood, 1e-300)
    marginal: Array = likelihood * ((posterior / evidence) @ kernel)
    return marginal


def levels_by_outcome(ct: CompetenceTubes, outcomes: Sequence[Array], t: int) -> Array:
    """``grid × outcomes × levels``: ``P(level | θ_c, tube t in outcome k, other answers)``."""
    result: Array = _shifted(points_table(ct, outcomes, skip=t), ct.tubes[t]) @ ct.to_level
    return result


def expected_entropies(
    ct: CompetenceTubes,
    posterior: Array,
    by_outcome: Array,
    t: int,
    *,
    likelihood: Array | None,
    curves: Array,
) -> Array:
    """Expected entropy of the level after one answer to each of ``curves`` (``n × grid``,
    ``P(right | θ_t)``), all challenges of tube ``t`` (``by_outcome``: its
    ``levels_by_outcome``).

    Exact under the model: the answer updates both ``θ_c`` (through the spread) and tube
    ``t``'s own distribution of mastered skills. Only the grid points where the posterior is
    not negligible are computed.
    With ``L'`` the tube's likelihood after the answer, the mass of level ``l`` is
    ``Σ_i Σ_k post[i] / (K L)[i] · Σ_j K[i, j] L'[j] B[j, k] · P(l | i, k)``.
    """
    layout = ct.tubes[t]
    present = np.flatnonzero(posterior > 1e-7)
    low, high = int(present[0]), int(present[-1]) + 1
    base = np.ones(posterior.shape[0]) if likelihood is None else likelihood
    new = np.concatenate((curves * base, (1.0 - curves) * base))  # 2n × θ_t
    spread = layout.spread[low:high].reshape(-1, posterior.shape[0])  # (θ_c·k) × θ_t
    current = np.maximum(ct.kernel[low:high] @ base, 1e-300)
    scale = np.repeat(posterior[low:high] / current, len(layout.offsets))
    mass = (new @ spread.T) * scale[None, :]  # 2n × (θ_c·k)
    levels = by_outcome[low:high].reshape(-1, by_outcome.shape[2])
    masses = mass @ levels  # 2n × levels
    totals = np.maximum(masses.sum(axis=1, keepdims=True), 1e-300)
    safe = np.where(masses > 0.0, masses, 1.0)
    entropy = -(masses * np.log(safe / totals)).sum(axis=1)
    n = curves.shape[0]
    result: Array = entropy[:n] + entropy[n:]
    return result
