"""Adaptive algorithms: which challenge to ask next, and what the answers say.

Two implementations of the same ``Algorithm`` interface: ``baseline`` (Pix-like, the
yardstick) and ``socle`` (Bayesian, the default). See ``docs/adaptive-algorithm.md``.
"""

from __future__ import annotations

from lti_tool.domain.adaptive.base import Algorithm, attempt_rng, pick_challenge
from lti_tool.domain.adaptive.baseline import BaselineAlgorithm
from lti_tool.domain.adaptive.socle import (
    CompetenceEstimate,
    SocleAlgorithm,
    SocleSettings,
    item_parameters,
)

DEFAULT_ALGORITHM = "socle"


_SHARED: dict[str, Algorithm] = {
    SocleAlgorithm.name: SocleAlgorithm(),
    BaselineAlgorithm.name: BaselineAlgorithm(),
}


def get_algorithm(name: str = DEFAULT_ALGORITHM) -> Algorithm:
    """The shared algorithm called ``name`` (``socle`` or ``baseline``); ``KeyError`` otherwise.

    Shared so that per-parcours precomputations (built on first use, tens of milliseconds)
    are made once per process, not once per request. Algorithms hold no attempt state, so
    sharing them between threads is safe.
    """
    return _SHARED[name]


ALGORITHM_NAMES: tuple[str, ...] = (SocleAlgorithm.name, BaselineAlgorithm.name)

__all__ = [
    "ALGORITHM_NAMES",
    "DEFAULT_ALGORITHM",
    "Algorithm",
    "BaselineAlgorithm",
    "CompetenceEstimate",
    "SocleAlgorithm",
    "SocleSettings",
    "attempt_rng",
    "get_algorithm",
    "item_parameters",
    "pick_challenge",
]
