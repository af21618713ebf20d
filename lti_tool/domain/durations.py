"""How long a parcours takes: simulated attempts × a time model per challenge.

A parcours is adaptive: how many challenges an agent meets depends on the agent. The expected
duration shown to instructors is therefore *measured*: a documented population of simulated
learners (``simulation.SimulationConfig()``, the "standard" world: general levels spread
evenly over the parcours' levels, competences and tubes scattered around them) takes the
parcours with the real engine (``get_algorithm()``, the one agents meet), each challenge met
costs the time the model below gives it, and the duration is the **median** learner's total.
The median number of challenges is kept too: the catalogue shows both.

Time model of one challenge (``challenge_seconds``), to be replaced by measured answer
times once real attempts exist:

- reading what is on the screen (instruction, proposals, field labels) at
  ``READING_WORDS_PER_MINUTE`` = 195 words a minute, the mean silent reading speed of adult
  French readers in the IReST standardised texts (Trauzettel-Klosinski & Dietz, *Investigative
  Ophthalmology & Visual Science* 53(9), 2012: French 195 ± 26 words/min);
- answering: ``ANSWER_SECONDS`` per type (choosing one proposal, ticking several, typing an
  answer, filling each field): our own estimates, to be replaced by the medians of the
  durations the xAPI ``answered`` statements carry once real attempts exist;
- opening and reading an attached file: ``ATTACHMENT_SECONDS``; looking at a picture:
  ``ILLUSTRATION_SECONDS``;
- a timed challenge never takes longer than its timer.

On the first bank the model gives 47 s a challenge on average (median 41 s), in line with the
"about one minute per question" usually quoted for Pix tests. ``OVERHEAD_SECONDS`` adds the
start page and the results page, and ``SELF_ASSESSMENT_SECONDS`` the optional
self-assessment.

Pure: standard library only; deterministic for a given seed.
"""

from __future__ import annotations

import math
import random
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from lti_tool.domain.adaptive.base import Algorithm
from lti_tool.domain.framework import Challenge, ChallengeType, Content
from lti_tool.domain.simulation import (
    SimulationConfig,
    draw_learner,
    draw_world,
    run_attempt,
)
from lti_tool.domain.target import parcours_view

READING_WORDS_PER_MINUTE = 195
ANSWER_SECONDS: dict[ChallengeType, float] = {
    ChallengeType.QCU: 20.0,
    ChallengeType.QCM: 30.0,
    ChallengeType.QROC: 30.0,
    ChallengeType.QROCM_IND: 20.0,  # per field
    ChallengeType.QROCM_DEP: 20.0,  # per field
}
ATTACHMENT_SECONDS = 60.0
ILLUSTRATION_SECONDS = 10.0
OVERHEAD_SECONDS = 120.0
SELF_ASSESSMENT_SECONDS = 60.0
#: The documented measure: population size and seed (stored with the results, so the test
#: that re-runs it is exact for unchanged content). 20 learners keep that test to seconds;
#: the median then moves by about ±10 % from one seed to another (the p10–p90 range that
#: ``socle simulate --durations`` prints is much wider: durations are an order of magnitude).
DEFAULT_LEARNERS = 20
DEFAULT_SEED = 1

_WORD = re.compile(r"\w+(?:['’-]\w+)*")


def words(text: str) -> int:
    """Number of words of a text (Markdown marks are not words)."""
    return len(_WORD.findall(text))


def challenge_seconds(challenge: Challenge) -> float:
    """Expected time an agent spends on ``challenge`` (see the module docstring)."""
    shown = [challenge.instruction.fr]
    shown.extend(proposal.fr for proposal in challenge.proposals)
    shown.extend(f.label.fr for f in challenge.fields)
    seconds = 60.0 * sum(words(text) for text in shown) / READING_WORDS_PER_MINUTE
    answer = ANSWER_SECONDS[challenge.type]
    if challenge.type in (ChallengeType.QROCM_IND, ChallengeType.QROCM_DEP):
        answer *= max(1, len(challenge.fields))
    seconds += answer
    if challenge.attachments:
        seconds += ATTACHMENT_SECONDS
    if challenge.illustration is not None:
        seconds += ILLUSTRATION_SECONDS
    if challenge.timer is not None:
        seconds = min(seconds, float(challenge.timer))
    return seconds


@dataclass(frozen=True, slots=True)
class DurationMeasure:
    """The measured length of one parcours."""

    parcours_id: str
    challenges: int
    minutes: int
    learners: int
    p10_minutes: int
    p90_minutes: int


def measure_parcours(
    content: Content,
    parcours_id: str,
    algorithm: Algorithm,
    *,
    learners: int = DEFAULT_LEARNERS,
    seed: int = DEFAULT_SEED,
    config: SimulationConfig | None = None,
) -> DurationMeasure:
    """Simulate ``learners`` attempts of a parcours; medians of challenges and minutes."""
    config = config or SimulationConfig()
    view = parcours_view(content, parcours_id)
    world = draw_world(view, random.Random(f"world:{seed}"), config)
    population_rng = random.Random(f"learners:{seed}")
    overhead = OVERHEAD_SECONDS + (
        SELF_ASSESSMENT_SECONDS if view.parcours.self_assessment else 0.0
    )
    counts: list[int] = []
    totals: list[float] = []
    for index in range(learners):
        learner = draw_learner(view, population_rng, config)
        outcome = run_attempt(
            algorithm,
            view,
            world,
            learner,
            seed=f"{seed}:{index}",
            answer_rng=random.Random(f"answers:{seed}:{index}"),
            config=config,
        )
        counts.append(len(outcome.answers))
        totals.append(
            overhead
            + sum(challenge_seconds(view.challenges[a.challenge_id]) for a in outcome.answers)
        )
    return DurationMeasure(
        parcours_id=parcours_id,
        challenges=round(statistics.median(counts)),
        minutes=_minutes(statistics.median(totals)),
        learners=learners,
        p10_minutes=_minutes(_quantile(totals, 0.1)),
        p90_minutes=_minutes(_quantile(totals, 0.9)),
    )


def measure_all(
    content: Content,
    algorithm: Algorithm,
    *,
    learners: int = DEFAULT_LEARNERS,
    seed: int = DEFAULT_SEED,
    parcours_ids: Sequence[str] | None = None,
) -> list[DurationMeasure]:
    """``measure_parcours`` for every parcours (id order), or for those named."""
    ids = sorted(content.parcours) if parcours_ids is None else list(parcours_ids)
    return [measure_parcours(content, pid, algorithm, learners=learners, seed=seed) for pid in ids]


def _minutes(seconds: float) -> int:
    """Whole minutes, rounded up (a duration announced too short is the worse error)."""
    return max(1, math.ceil(seconds / 60.0 - 1e-9))


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def within_tolerance(stored: int, measured: int, *, share: float = 0.10, floor: int = 2) -> bool:
    """Whether a stored figure still matches a fresh measure (±10 % or ±2, the larger)."""
    return abs(stored - measured) <= max(floor, math.ceil(share * measured))
