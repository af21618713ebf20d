"""The interface every adaptive algorithm implements, and what they share.

Algorithms are **stateless**: the web player stores the ordered answers of an attempt and asks
``next_challenge(view, answers, rng)`` after each one. Everything (estimates, inferences) is
recomputed from the answers, so a resumed attempt — days later, on another server — gets the
same next challenge for the same answers and the same random generator. The player builds the
generator with ``attempt_rng(seed, len(answers))`` from a seed stored with the attempt.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from lti_tool.domain.answers import Answer, KnowledgeElement
from lti_tool.domain.framework import Challenge
from lti_tool.domain.target import ParcoursView


class Algorithm(Protocol):
    """What the web player and the simulator call."""

    name: str

    def next_challenge(
        self,
        view: ParcoursView,
        answers: Sequence[Answer],
        rng: random.Random,
        *,
        seen: Collection[str] = frozenset(),
        exposure: Mapping[str, float] | None = None,
    ) -> Challenge | None:
        """The next challenge to ask, or ``None`` when the attempt is over.

        Never returns a challenge already in ``answers``. ``seen`` lists challenges the agent
        met in earlier attempts: another challenge of the same skill is preferred, so that a
        second attempt is not a replay of the first. ``exposure`` gives, per challenge, the
        share of agents it was already shown to: challenges over the algorithm's limit are
        asked only when nothing else fits.
        """
        ...

    def knowledge_elements(
        self, view: ParcoursView, answers: Sequence[Answer]
    ) -> list[KnowledgeElement]:
        """Validated/failed, direct/inferred skills given the answers so far."""
        ...

    def progress(self, view: ParcoursView, answers: Sequence[Answer]) -> int:
        """A 0–100 estimate of how far the attempt is (for progress bars and xAPI)."""
        ...


def attempt_rng(seed: int | str, answer_count: int) -> random.Random:
    """The generator to pass for the next challenge of an attempt.

    Derived from the attempt's seed and the number of answers so far: the same state always
    yields the same draw, and successive draws are independent. String seeds are hashed with
    SHA-512 by ``random.Random``, so the result does not depend on ``PYTHONHASHSEED``.
    """
    return random.Random(f"socle:{seed}:{answer_count}")


def pick_challenge(
    challenges: Sequence[Challenge],
    asked: Collection[str],
    seen: Collection[str],
    rng: random.Random,
) -> Challenge | None:
    """A challenge of one skill: never an asked one, preferably one not seen before."""
    available = [challenge for challenge in challenges if challenge.id not in asked]
    if not available:
        return None
    fresh = [challenge for challenge in available if challenge.id not in seen]
    return rng.choice(fresh or available)
