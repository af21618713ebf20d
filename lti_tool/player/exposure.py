"""Exposure control: how many agents each challenge was already shown to.

The engine (``SocleSettings.max_exposure``) avoids a challenge already shown to more than a
set share of agents when its competence has another candidate. The player gives it those
shares, counted from the ``answer`` table per parcours (agents' attempts only, teachers'
previews left out) and recounted at most every ``ttl`` seconds per process: a share moves
slowly, and one grouped query per parcours every few minutes costs nothing to the requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.domain.simulation import EXPOSURE_MIN_AGENTS
from lti_tool.models import AnswerRecord, Attempt

#: Seconds between two counts of one parcours.
EXPOSURE_TTL = 300.0


class ExposureCounter:
    """Per parcours, the share of agents' attempts that met each challenge (cached)."""

    def __init__(
        self,
        *,
        ttl: float = EXPOSURE_TTL,
        min_agents: int = EXPOSURE_MIN_AGENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.min_agents = min_agents
        self.clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Mapping[str, float] | None]] = {}

    def shares(self, session: Session, parcours_id: str) -> Mapping[str, float] | None:
        """``None`` until ``min_agents`` attempts exist (early shares say nothing)."""
        now = self.clock()
        with self._lock:
            cached = self._cache.get(parcours_id)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        attempts = session.scalar(
            select(func.count(Attempt.id)).where(
                Attempt.parcours_id == parcours_id, Attempt.preview.is_(False)
            )
        )
        shares: Mapping[str, float] | None = None
        if attempts and attempts >= self.min_agents:
            rows = session.execute(
                select(
                    AnswerRecord.challenge_id, func.count(func.distinct(AnswerRecord.attempt_id))
                )
                .join(Attempt, Attempt.id == AnswerRecord.attempt_id)
                .where(Attempt.parcours_id == parcours_id, Attempt.preview.is_(False))
                .group_by(AnswerRecord.challenge_id)
            )
            shares = {challenge_id: count / attempts for challenge_id, count in rows}
        with self._lock:
            self._cache[parcours_id] = (now, shares)
        return shares
