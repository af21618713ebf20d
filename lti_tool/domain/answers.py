"""What an attempt records: answers, and the knowledge elements derived from them.

The adaptive engine is stateless: from the ordered list of ``Answer`` values that the web
player stored, it recomputes everything (estimates, knowledge elements, the next challenge).
These small values are the whole contract between the player and the engine.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class AnswerStatus(enum.StrEnum):
    """Outcome of one challenge; ``skipped`` and ``timedout`` count as failed everywhere."""

    OK = "ok"
    KO = "ko"
    SKIPPED = "skipped"
    TIMEDOUT = "timedout"

    @property
    def is_correct(self) -> bool:
        """Only ``ok`` is a success: a skipped or timed-out challenge is a failed one."""
        return self is AnswerStatus.OK


@dataclass(frozen=True, slots=True)
class Answer:
    """One answered challenge of an attempt, in the order it was answered."""

    challenge_id: str
    skill_id: str
    status: AnswerStatus

    @property
    def is_correct(self) -> bool:
        """Shortcut for ``status.is_correct``."""
        return self.status.is_correct


class KnowledgeStatus(enum.StrEnum):
    """Whether a skill is considered acquired at the end of (or during) an attempt."""

    VALIDATED = "validated"
    FAILED = "failed"


class KnowledgeSource(enum.StrEnum):
    """``direct``: the skill was asked; ``inferred``: deduced from other answers."""

    DIRECT = "direct"
    INFERRED = "inferred"


@dataclass(frozen=True, slots=True)
class KnowledgeElement:
    """Per attempt and skill: validated or failed, direct or inferred, and why.

    ``challenge_id`` is the answer that settled the skill (the answered challenge for a direct
    element, the answer it was inferred from for the baseline's tube rules), or ``None`` when
    the inference comes from an overall ability estimate rather than from one answer.
    """

    skill_id: str
    status: KnowledgeStatus
    source: KnowledgeSource
    challenge_id: str | None = None

    @property
    def is_validated(self) -> bool:
        """Shortcut used by scoring."""
        return self.status is KnowledgeStatus.VALIDATED
