"""Where calibrated challenge parameters live, and how the tool and authors get them.

``socle calibrate`` fits parameters from the ``answer`` table (``lti_tool.domain.calibration``)
and stores them in ``challenge_calibration``. At start-up the tool applies the stored values
on top of the content (they override a challenge's ``calibration`` key): the content ships
in the image, the answers live in the database. ``export_yaml`` gives authors the same values
to copy into the content when they want them under version control.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from lti_tool.domain.answers import AnswerStatus
from lti_tool.domain.calibration import ItemFit, Response
from lti_tool.domain.framework import Calibration, Content
from lti_tool.models import AnswerRecord, Attempt, ChallengeCalibration, LtiUser, Platform

log = logging.getLogger(__name__)

ALL_PLATFORMS = "all platforms"
_STATUSES = {status.value: status for status in AnswerStatus}


def recorded_responses(session: Session, platform: Platform | None = None) -> Iterator[Response]:
    """Every answer of agents' attempts (teachers' previews left out), streamed.

    With ``platform``, only the answers of that platform's agents.
    """
    query = (
        select(AnswerRecord.attempt_id, AnswerRecord.challenge_id, AnswerRecord.status)
        .join(Attempt, Attempt.id == AnswerRecord.attempt_id)
        .where(Attempt.preview.is_(False))
    )
    if platform is not None:
        query = query.join(LtiUser, LtiUser.id == Attempt.user_pk).where(
            LtiUser.platform_id == platform.id
        )
    for attempt_id, challenge_id, status in session.execute(
        query.execution_options(yield_per=5000)
    ):
        known = _STATUSES.get(status)
        if known is not None:
            yield Response(attempt_id, challenge_id, known)


def stored_calibrations(session: Session) -> dict[str, ChallengeCalibration]:
    return {row.challenge_id: row for row in session.scalars(select(ChallengeCalibration))}


def save_fits(
    session: Session, fits: Mapping[str, ItemFit], source: str, now: datetime | None = None
) -> int:
    """Insert or replace the stored parameters of the fitted challenges; returns how many."""
    now = now or datetime.now(UTC)
    rows = stored_calibrations(session)
    for fit in fits.values():
        row = rows.get(fit.challenge_id)
        if row is None:
            row = ChallengeCalibration(challenge_id=fit.challenge_id)
            session.add(row)
        row.difficulty = fit.difficulty
        row.discrimination = fit.discrimination
        row.difficulty_se = fit.difficulty_se
        row.discrimination_se = fit.discrimination_se
        row.answers = fit.answers
        row.source = source[:500]
        row.fitted_at = now
    return len(fits)


def with_calibrations(content: Content, calibrations: Mapping[str, Calibration]) -> Content:
    """``content`` with these challenges' ``calibration`` replaced (others unchanged).

    Returns ``content`` itself when nothing applies, so memoised views stay valid.
    """
    if not any(challenge_id in content.challenges for challenge_id in calibrations):
        return content
    tubes = {}
    for tube_id, tube in content.tubes.items():
        skills = []
        for skill in tube.skills:
            challenges = tuple(
                dataclasses.replace(challenge, calibration=calibrations[challenge.id])
                if challenge.id in calibrations
                else challenge
                for challenge in skill.challenges
            )
            skills.append(dataclasses.replace(skill, challenges=challenges))
        tubes[tube_id] = dataclasses.replace(tube, skills=tuple(skills))
    return dataclasses.replace(content, tubes=tubes)


def calibrated_content(content: Content, session: Session) -> Content:
    """The content with the stored calibrations applied (the content alone if none are stored,
    or if the database is not reachable or not migrated yet: the tool still starts)."""
    try:
        rows = stored_calibrations(session)
    except SQLAlchemyError as exc:
        log.warning("stored calibrations not read (%s); using the content's values", type(exc))
        session.rollback()
        return content
    calibrations = {
        challenge_id: Calibration(difficulty=row.difficulty, discrimination=row.discrimination)
        for challenge_id, row in rows.items()
    }
    applied = with_calibrations(content, calibrations)
    if applied is not content:
        log.info("calibrated parameters applied to %d challenges", len(calibrations))
    return applied


def export_yaml(session: Session) -> str:
    """The stored calibrations as YAML, for authors (one entry per challenge id)."""
    rows = sorted(stored_calibrations(session).values(), key=lambda row: row.challenge_id)
    document: dict[str, Any] = {
        "calibration": {
            row.challenge_id: {
                "difficulty": row.difficulty,
                "discrimination": row.discrimination,
                "difficulty_se": row.difficulty_se,
                "discrimination_se": row.discrimination_se,
                "answers": row.answers,
                "source": row.source,
                "fitted_at": row.fitted_at.isoformat() if row.fitted_at else None,
            }
            for row in rows
        }
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
