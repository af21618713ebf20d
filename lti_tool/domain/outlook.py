"""What is left of an attempt, as the engine sees it: for the agent's progress line.

A percentage of a parcours whose length adapts to the agent misleads (1 % after one answer,
then 90 % for the last twenty). What the engine does know is which competences are settled
and how many answers each unsettled one usually still needs, so that is what is shown: the
competences done, and the questions left as a count and a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lti_tool.domain.answers import Answer
from lti_tool.domain.target import ParcoursView

#: Answers a competence usually takes before it is settled: the mean of ``socle simulate``
#: on socle-commun (48.8 challenges over 16 competences, docs/adaptive-algorithm.md).
TYPICAL_PER_COMPETENCE = 3
#: Minutes per challenge, the figure used for parcours durations (instruction, answer,
#: and a look at the feedback).
MINUTES_PER_CHALLENGE = 1.0


@dataclass(frozen=True, slots=True)
class Outlook:
    competences_done: int
    competences_total: int
    #: Questions the engine will probably still ask (0 when every competence is settled).
    questions_left: int

    @property
    def minutes_left(self) -> int:
        return max(1, round(self.questions_left * MINUTES_PER_CHALLENGE))


def outlook(algorithm: Any, view: ParcoursView, answers: Sequence[Answer]) -> Outlook | None:
    """The outlook, or ``None`` for an algorithm that keeps no per-competence estimate."""
    estimates = getattr(algorithm, "estimates", None)
    settings = getattr(algorithm, "settings", None)
    if estimates is None or settings is None:
        return None
    settled = getattr(algorithm, "settled", None)
    if settled is not None:  # the same answer without every competence's posterior
        competences = list(settled(view, answers))
    else:
        competences = [(estimate.answers, estimate.done) for estimate in estimates(view, answers)]
    done = left = total = 0
    for count, finished in competences:
        total += 1
        if finished:
            done += 1
            continue
        typical = min(TYPICAL_PER_COMPETENCE, settings.max_per_competence)
        left += max(1, typical - count)
    return Outlook(done, total, left)
