"""Simulated learners: how many challenges each algorithm asks, and how right it is.

A simulated *world* gives every skill and challenge hidden "true" parameters that differ from
what the algorithms assume (difficulties scattered around the nominal level, discriminations
and slips drawn per challenge). A simulated *learner* has a general level, a true ability per
competence scattered around it and a true ability per tube scattered around that.

True level of a learner in a competence: the level Pix-style scoring gives when every target
skill is settled by the truth — a skill is mastered when the learner's ability in its tube is
at least the skill's true difficulty, i.e. when ``P(correct without guess or slip) ≥ 0.5``.

Answers are drawn from ``guess + (1 - guess - slip) · logistic(a · (ability - difficulty))``.

Population (documented in docs/adaptive-algorithm.md): the general level is uniform on
``[-0.5, top + 0.5]`` (``top`` = highest target level), so true levels span 0..top about
evenly; competences scatter around it with sd ``competence_sd``, tubes with sd ``tube_sd``.
A world may instead draw learners from a *mixture* of populations (``populations``), each with
its own range of general levels and its own spreads.

Named worlds (``WORLD_PRESETS``) vary these parameters one at a time and all together. They are
defined from the world's parameters only, never from the algorithms' assumptions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from lti_tool.domain.adaptive.base import Algorithm, attempt_rng
from lti_tool.domain.answers import (
    Answer,
    AnswerStatus,
    KnowledgeElement,
    KnowledgeSource,
    KnowledgeStatus,
)
from lti_tool.domain.framework import Challenge, ChallengeType
from lti_tool.domain.scoring import score
from lti_tool.domain.target import ParcoursView

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Population:
    """One component of a mixture of learners.

    The general level is uniform on ``[low, high]`` (in levels, offsets from 0); competences
    scatter around it with sd ``competence_sd`` and tubes around their competence with
    ``tube_sd``.
    """

    weight: float
    low: float
    high: float
    competence_sd: float
    tube_sd: float


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    """How the simulated world and population are drawn (defaults documented above)."""

    general_margin: float = 0.5
    competence_sd: float = 0.6
    tube_sd: float = 0.3
    skill_difficulty_sd: float = 0.25
    challenge_difficulty_sd: float = 0.2
    discrimination: tuple[float, float] = (1.2, 2.6)
    slip: tuple[float, float] = (0.02, 0.10)
    qcm_guess: float = 0.10
    free_text_guess: float = 0.02
    #: Share of challenges whose true difficulty is far from their skill's (authoring errors:
    #: a "level 2" question that behaves like level 4); they are moved by ``off_level_shift``
    #: levels, up or down at random.
    off_level_share: float = 0.0
    off_level_shift: tuple[float, float] = (1.1, 2.0)
    #: When not empty, learners come from this mixture instead of the uniform population.
    populations: tuple[Population, ...] = ()
    #: Safety net: an algorithm asking more than this many challenges is stopped.
    max_challenges: int = 400


#: Very different populations: novices, uneven specialists (strong in a few competences,
#: weak in others), and a group of experts.
MIXED_POPULATIONS: tuple[Population, ...] = (
    Population(weight=0.4, low=-0.5, high=1.5, competence_sd=0.5, tube_sd=0.3),
    Population(weight=0.35, low=1.0, high=4.0, competence_sd=1.2, tube_sd=0.6),
    Population(weight=0.25, low=3.5, high=5.5, competence_sd=0.4, tube_sd=0.3),
)

#: Named worlds for ``socle simulate --world``: the documented one and harsher variants.
WORLD_PRESETS: dict[str, SimulationConfig] = {
    "standard": SimulationConfig(),
    "spread-tubes": SimulationConfig(tube_sd=0.7),
    "uneven-competences": SimulationConfig(competence_sd=1.0),
    "off-level-items": SimulationConfig(off_level_share=0.05),
    "mixed-populations": SimulationConfig(populations=MIXED_POPULATIONS),
    "weak-discrimination": SimulationConfig(discrimination=(0.6, 2.2)),
    "harsh": SimulationConfig(
        tube_sd=0.7,
        competence_sd=1.0,
        off_level_share=0.04,
        discrimination=(0.6, 2.2),
        populations=tuple(
            Population(p.weight, p.low, p.high, max(p.competence_sd, 1.0), 0.7)
            for p in MIXED_POPULATIONS
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class TrueItem:
    """Hidden parameters of one challenge."""

    difficulty: float
    discrimination: float
    guessing: float
    slip: float


@dataclass(frozen=True, slots=True)
class World:
    """Hidden parameters of the content, shared by every learner of a run."""

    skill_difficulty: Mapping[str, float]
    items: Mapping[str, TrueItem]


@dataclass(frozen=True, slots=True)
class SimulatedLearner:
    """A learner's hidden abilities (level scale)."""

    general: float
    competence_abilities: Mapping[str, float]
    tube_abilities: Mapping[str, float]


def _true_guess(challenge: Challenge, config: SimulationConfig) -> float:
    if challenge.type is ChallengeType.QCU:
        return 1.0 / max(2, len(challenge.proposals))
    if challenge.type is ChallengeType.QCM:
        return config.qcm_guess
    if challenge.type is ChallengeType.QROCM_IND and all(f.options for f in challenge.fields):
        return math.prod(1.0 / len(f.options or ("",)) for f in challenge.fields)
    return config.free_text_guess


def draw_world(view: ParcoursView, rng: random.Random, config: SimulationConfig) -> World:
    """Draw hidden difficulties around the nominal levels, and per-challenge a, guess, slip."""
    skill_difficulty: dict[str, float] = {}
    items: dict[str, TrueItem] = {}
    for skill in sorted(view.skills.values(), key=lambda s: s.id):
        difficulty = skill.level + rng.gauss(0.0, config.skill_difficulty_sd)
        skill_difficulty[skill.id] = difficulty
        for challenge in skill.served_challenges:
            offset = rng.gauss(0.0, config.challenge_difficulty_sd)
            if config.off_level_share > 0 and rng.random() < config.off_level_share:
                offset = rng.choice((-1.0, 1.0)) * rng.uniform(*config.off_level_shift)
            items[challenge.id] = TrueItem(
                difficulty=difficulty + offset,
                discrimination=rng.uniform(*config.discrimination),
                guessing=_true_guess(challenge, config),
                slip=rng.uniform(*config.slip),
            )
    return World(skill_difficulty, items)


def draw_learner(
    view: ParcoursView, rng: random.Random, config: SimulationConfig
) -> SimulatedLearner:
    """Draw one learner of the documented population."""
    top = max((c.max_level for c in view.competences), default=1)
    competence_sd, tube_sd = config.competence_sd, config.tube_sd
    if config.populations:
        population = rng.choices(config.populations, [p.weight for p in config.populations])[0]
        general = rng.uniform(population.low, population.high)
        competence_sd, tube_sd = population.competence_sd, population.tube_sd
    else:
        general = rng.uniform(-config.general_margin, top + config.general_margin)
    competence_abilities: dict[str, float] = {}
    tube_abilities: dict[str, float] = {}
    for competence in view.competences:
        ability = general + rng.gauss(0.0, competence_sd)
        competence_abilities[competence.code] = ability
        for tube in competence.tubes:
            tube_abilities[tube.tube.id] = ability + rng.gauss(0.0, tube_sd)
    return SimulatedLearner(general, competence_abilities, tube_abilities)


def true_knowledge(
    view: ParcoursView, world: World, learner: SimulatedLearner
) -> list[KnowledgeElement]:
    """Every target skill settled by the truth (mastered iff ability ≥ true difficulty)."""
    elements: list[KnowledgeElement] = []
    for skill_id_, skill in view.skills.items():
        ability = learner.tube_abilities[skill.tube_id]
        mastered = ability >= world.skill_difficulty[skill_id_]
        status = KnowledgeStatus.VALIDATED if mastered else KnowledgeStatus.FAILED
        elements.append(KnowledgeElement(skill_id_, status, KnowledgeSource.DIRECT))
    return elements


def true_levels(view: ParcoursView, world: World, learner: SimulatedLearner) -> dict[str, int]:
    """The level scoring gives when the truth settles every target skill."""
    return score(view, true_knowledge(view, world, learner)).levels()


def simulated_answer(
    challenge: Challenge,
    learner: SimulatedLearner,
    world: World,
    view: ParcoursView,
    rng: random.Random,
) -> AnswerStatus:
    """Draw the learner's answer to ``challenge`` from the hidden model."""
    item = world.items[challenge.id]
    ability = learner.tube_abilities[view.tube_of_skill[challenge.skill_id].tube.id]
    knows = 1.0 / (1.0 + math.exp(-item.discrimination * (ability - item.difficulty)))
    p_correct = item.guessing + (1.0 - item.guessing - item.slip) * knows
    return AnswerStatus.OK if rng.random() < p_correct else AnswerStatus.KO


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """One simulated attempt: its answers, reported and true levels, selection times."""

    answers: tuple[Answer, ...]
    levels: Mapping[str, int]
    true_levels: Mapping[str, int]
    timings: tuple[float, ...]


def run_attempt(
    algorithm: Algorithm,
    view: ParcoursView,
    world: World,
    learner: SimulatedLearner,
    *,
    seed: int | str,
    answer_rng: random.Random,
    config: SimulationConfig | None = None,
    clock: Clock | None = None,
) -> AttemptOutcome:
    """Run one attempt through the algorithm's public, stateless interface."""
    config = config or SimulationConfig()
    answers: list[Answer] = []
    timings: list[float] = []
    asked: set[str] = set()
    while len(answers) < config.max_challenges:
        rng = attempt_rng(seed, len(answers))
        started = clock() if clock else 0.0
        challenge = algorithm.next_challenge(view, answers, rng)
        if clock:
            timings.append(clock() - started)
        if challenge is None:
            break
        if challenge.id in asked:
            raise AssertionError(f"{algorithm.name} asked {challenge.id} twice")
        asked.add(challenge.id)
        status = simulated_answer(challenge, learner, world, view, answer_rng)
        answers.append(Answer(challenge.id, challenge.skill_id, status))
    levels = score(view, algorithm.knowledge_elements(view, answers)).levels()
    return AttemptOutcome(
        answers=tuple(answers),
        levels=levels,
        true_levels=true_levels(view, world, learner),
        timings=tuple(timings),
    )


@dataclass(frozen=True, slots=True)
class AlgorithmReport:
    """Aggregated measures for one algorithm over the simulated population."""

    algorithm: str
    learners: int
    mean_challenges: float
    p95_challenges: float
    exact_accuracy: float
    within_one_accuracy: float
    mean_absolute_error: float
    selection_p50_ms: float | None
    selection_p99_ms: float | None
    #: 95 % confidence interval of ``within_one_accuracy`` (learners as clusters: the
    #: competences of one learner are not independent).
    within_one_interval: tuple[float, float] = (0.0, 1.0)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0–100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def cluster_interval(hits: Sequence[int], totals: Sequence[int]) -> tuple[float, float]:
    """95 % interval of ``sum(hits) / sum(totals)`` with clusters (one per learner).

    Ratio estimator with the cluster-robust (linearised) variance: a learner's competences are
    correlated, so 16 000 (learner, competence) pairs carry less than 16 000 pairs' worth of
    evidence.
    """
    count = len(totals)
    total = sum(totals)
    if count < 2 or total == 0:
        return 0.0, 1.0
    share = sum(hits) / total
    mean_size = total / count
    residuals = sum((h - share * n) ** 2 for h, n in zip(hits, totals, strict=True))
    se = math.sqrt(residuals / (count * (count - 1))) / mean_size
    return max(0.0, share - 1.96 * se), min(1.0, share + 1.96 * se)


def summarise(name: str, outcomes: Sequence[AttemptOutcome]) -> AlgorithmReport:
    """Aggregate attempts: test length, level accuracy per (learner, competence), timings."""
    lengths = [float(len(outcome.answers)) for outcome in outcomes]
    pairs = [
        (outcome.levels[code], level)
        for outcome in outcomes
        for code, level in outcome.true_levels.items()
    ]
    timings = [t for outcome in outcomes for t in outcome.timings]
    total = max(1, len(pairs))
    return AlgorithmReport(
        algorithm=name,
        learners=len(outcomes),
        mean_challenges=sum(lengths) / max(1, len(lengths)),
        p95_challenges=percentile(lengths, 95) if lengths else 0.0,
        exact_accuracy=sum(1 for got, want in pairs if got == want) / total,
        within_one_accuracy=sum(1 for got, want in pairs if abs(got - want) <= 1) / total,
        mean_absolute_error=sum(abs(got - want) for got, want in pairs) / total,
        selection_p50_ms=percentile(timings, 50) * 1000 if timings else None,
        selection_p99_ms=percentile(timings, 99) * 1000 if timings else None,
        within_one_interval=cluster_interval(
            [
                sum(1 for code, level in o.true_levels.items() if abs(o.levels[code] - level) <= 1)
                for o in outcomes
            ],
            [len(o.true_levels) for o in outcomes],
        ),
    )


def simulate(
    view: ParcoursView,
    algorithms: Sequence[Algorithm],
    *,
    learners: int,
    seed: int,
    config: SimulationConfig | None = None,
    clock: Clock | None = None,
    progress: Callable[[int], None] | None = None,
    world: World | None = None,
) -> list[AlgorithmReport]:
    """Run the same population through each algorithm (paired comparison).

    The world and the learners depend only on ``seed``; each algorithm gets its own answer
    generator per learner, so results do not depend on the order algorithms are run in.
    ``world`` replaces the seed's world (new learners in a world already used, e.g. after a
    calibration on it).
    """
    config = config or SimulationConfig()
    world = world or draw_world(view, random.Random(f"world:{seed}"), config)
    population_rng = random.Random(f"learners:{seed}")
    population = [draw_learner(view, population_rng, config) for _ in range(learners)]
    outcomes: dict[str, list[AttemptOutcome]] = {algorithm.name: [] for algorithm in algorithms}
    for index, learner in enumerate(population):
        for algorithm in algorithms:
            outcomes[algorithm.name].append(
                run_attempt(
                    algorithm,
                    view,
                    world,
                    learner,
                    seed=f"{seed}:{index}",
                    answer_rng=random.Random(f"answers:{seed}:{index}:{algorithm.name}"),
                    config=config,
                    clock=clock,
                )
            )
        if progress is not None:
            progress(index + 1)
    return [summarise(algorithm.name, outcomes[algorithm.name]) for algorithm in algorithms]


def format_table(reports: Sequence[AlgorithmReport]) -> str:
    """A plain-text table of the reports, one row per algorithm."""
    header = (
        "algorithm",
        "learners",
        "challenges (mean)",
        "challenges (p95)",
        "exact level",
        "within one",
        "95 % interval",
        "mean abs. error",
        "next p50 (ms)",
        "next p99 (ms)",
    )
    rows = [header]
    for report in reports:
        rows.append(
            (
                report.algorithm,
                str(report.learners),
                f"{report.mean_challenges:.1f}",
                f"{report.p95_challenges:.0f}",
                f"{100 * report.exact_accuracy:.1f} %",
                f"{100 * report.within_one_accuracy:.1f} %",
                f"{100 * report.within_one_interval[0]:.1f}–"
                f"{100 * report.within_one_interval[1]:.1f} %",
                f"{report.mean_absolute_error:.3f}",
                "-" if report.selection_p50_ms is None else f"{report.selection_p50_ms:.2f}",
                "-" if report.selection_p99_ms is None else f"{report.selection_p99_ms:.2f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


#: Exposure shares are passed to the engine only once this many agents took the parcours
#: (the first agents' shares say nothing: one agent has seen 100 % of what it was shown).
EXPOSURE_MIN_AGENTS = 50


@dataclass(frozen=True, slots=True)
class RetakeReport:
    """Second attempts of the same learners, and how often challenges were shown."""

    learners: int
    #: Mean share of a retake's challenges the learner had not met in the first attempt.
    unseen_share: float
    #: Share of retakes where at least 70 % of the challenges were new.
    retakes_mostly_new: float
    #: Largest share of (first-attempt) agents one challenge was shown to, and its id.
    max_exposure: float
    most_exposed: str
    mean_challenges: float
    retake_mean_challenges: float


def simulate_retakes(
    view: ParcoursView,
    algorithm: Algorithm,
    *,
    learners: int,
    seed: int,
    config: SimulationConfig | None = None,
    exposure_control: bool = True,
) -> RetakeReport:
    """Each learner takes the parcours, then retakes it, passing its first challenges as
    ``seen``. With ``exposure_control``, each attempt also gets every challenge's share of
    earlier agents it was shown to (as the player passes it), from ``EXPOSURE_MIN_AGENTS``
    agents on."""
    config = config or SimulationConfig()
    world = draw_world(view, random.Random(f"world:{seed}"), config)
    population_rng = random.Random(f"learners:{seed}")
    shown: dict[str, int] = {}
    unseen_shares: list[float] = []
    lengths: list[int] = []
    retake_lengths: list[int] = []

    def attempt(learner: SimulatedLearner, key: str, seen: frozenset[str]) -> list[Answer]:
        exposure = None
        agents = len(lengths)
        if exposure_control and agents >= EXPOSURE_MIN_AGENTS:
            exposure = {cid: count / agents for cid, count in shown.items()}
        answer_rng = random.Random(f"answers:{seed}:{key}")
        answers: list[Answer] = []
        while len(answers) < config.max_challenges:
            challenge = algorithm.next_challenge(
                view,
                answers,
                attempt_rng(f"{seed}:{key}", len(answers)),
                seen=seen,
                exposure=exposure,
            )
            if challenge is None:
                break
            status = simulated_answer(challenge, learner, world, view, answer_rng)
            answers.append(Answer(challenge.id, challenge.skill_id, status))
        return answers

    for index in range(learners):
        learner = draw_learner(view, population_rng, config)
        first = attempt(learner, f"{index}:1", frozenset())
        lengths.append(len(first))
        for answer in first:
            shown[answer.challenge_id] = shown.get(answer.challenge_id, 0) + 1
        seen = frozenset(answer.challenge_id for answer in first)
        second = attempt(learner, f"{index}:2", seen)
        retake_lengths.append(len(second))
        new = sum(1 for answer in second if answer.challenge_id not in seen)
        unseen_shares.append(new / max(1, len(second)))
    most_exposed = max(shown, key=lambda cid: (shown[cid], cid)) if shown else ""
    return RetakeReport(
        learners=learners,
        unseen_share=sum(unseen_shares) / max(1, learners),
        retakes_mostly_new=sum(1 for share in unseen_shares if share >= 0.7) / max(1, learners),
        max_exposure=shown.get(most_exposed, 0) / max(1, learners),
        most_exposed=most_exposed,
        mean_challenges=sum(lengths) / max(1, learners),
        retake_mean_challenges=sum(retake_lengths) / max(1, learners),
    )
