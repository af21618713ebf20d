"""« Signaler un problème »: what agents reported on challenges, for the content team."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import ChallengeReport

#: Category keys as stored, and how the content team reads them.
CATEGORY_LABELS = {
    "answer": "right answer refused",
    "unclear": "unclear or ambiguous",
    "file": "file or image does not open",
    "error": "error in the challenge",
    "other": "other",
}


@dataclass(frozen=True)
class ReportLine:
    created_at: datetime
    challenge_id: str
    parcours_id: str
    category: str
    message: str


def problem_reports(
    session: Session, *, since: datetime | None = None, challenge: str | None = None
) -> Iterator[ReportLine]:
    """Reports, newest first (no agent identifier: only what was said, where and when)."""
    query = select(
        ChallengeReport.created_at,
        ChallengeReport.challenge_id,
        ChallengeReport.parcours_id,
        ChallengeReport.category,
        ChallengeReport.message,
    ).order_by(ChallengeReport.created_at.desc(), ChallengeReport.id.desc())
    if since is not None:
        query = query.where(ChallengeReport.created_at >= since)
    if challenge is not None:
        query = query.where(ChallengeReport.challenge_id == challenge)
    for row in session.execute(query):
        yield ReportLine(*row)


def report_counts(session: Session) -> dict[str, int]:
    """Reports per challenge id (for the calibration review list)."""
    counts: dict[str, int] = {}
    for (challenge_id,) in session.execute(select(ChallengeReport.challenge_id)):
        counts[challenge_id] = counts.get(challenge_id, 0) + 1
    return counts
