"""The player's state changes as xAPI statements, written to the outbox in the caller's
transaction (``xapi.outbox.enqueue`` only INSERTs): an answer and its statement exist
together or not at all."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy.orm import Session

from lti_tool.domain.framework import Challenge, ChallengeType, Content
from lti_tool.domain.framework import Text as ContentText
from lti_tool.domain.scoring import AssessmentResult
from lti_tool.models import AnswerRecord, Attempt, Launch
from xapi import builders as xb
from xapi.outbox import enqueue


def _text(value: ContentText | None) -> xb.Text | None:
    if value is None:
        return None
    return xb.Text(fr=value.fr, en=value.en)


def _utc(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _response(record: AnswerRecord, challenge: Challenge) -> xb.ResponseValue | None:
    """The stored answer in the shape of the challenge's xAPI interaction, or ``None``.

    A tampered form can store any shape (several values for a qcu, unknown keys for a
    qroc). It was graded ``ko`` and stays in the database, but it has no faithful xAPI
    ``response``: the statement leaves the response out rather than failing the answer's
    transaction (the xAPI formatter refuses a shape that does not fit the type).
    """
    raw = record.response
    if challenge.type in (ChallengeType.QCU, ChallengeType.QROC):
        return raw if isinstance(raw, str) else None
    if challenge.type is ChallengeType.QCM:
        if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
            return tuple(raw)
        return raw if isinstance(raw, str) else None
    if isinstance(raw, dict):
        return tuple((str(k), str(v)) for k, v in raw.items())
    return None


class XapiEvents:
    """Implements the player's ``AttemptEvents`` with the xAPI profile's statements."""

    def __init__(self, base_url: str, content: Content) -> None:
        self.base_url = base_url
        self.content = content

    def _builder(self, launch: Launch) -> xb.StatementBuilder:
        return xb.StatementBuilder(
            self.base_url, share_identity=launch.platform.store_personal_data
        )

    def _attempt(self, attempt: Attempt, launch: Launch) -> xb.Attempt:
        assert attempt.user is not None
        parcours = self.content.parcours[attempt.parcours_id]
        link = attempt.resource_link
        user = attempt.user
        context = launch.claims.get("https://purl.imsglobal.org/spec/lti/claim/context") or {}
        share = launch.platform.store_personal_data
        return xb.Attempt(
            id=uuid.UUID(attempt.id),
            learner=xb.Learner(
                issuer=launch.platform.issuer,
                sub=user.sub,
                name=user.name if share else None,
                email=user.email if share else None,
            ),
            lti=xb.LtiContext(
                issuer=launch.platform.issuer,
                deployment_id=launch.deployment.deployment_id,
                context_id=context.get("id"),
                context_title=context.get("title"),
                resource_link_id=link.resource_link_id,
            ),
            parcours=xb.Parcours(
                id=parcours.id,
                title=cast(xb.Text, _text(parcours.title)),
                description=_text(parcours.description),
                mastery_threshold=(
                    parcours.mastery_threshold / 100
                    if parcours.mastery_threshold is not None
                    else None
                ),
            ),
            locale=attempt.locale,
        )

    def _competence(self, code: str) -> xb.Competence:
        competence = self.content.competences[code]
        return xb.Competence(code=code, title=cast(xb.Text, _text(competence.title)))

    def _lrs(self, launch: Launch) -> int | None:
        return launch.platform.lrs_id

    def started(self, session: Session, attempt: Attempt, launch: Launch) -> None:
        statement = self._builder(launch).attempt_started(
            self._attempt(attempt, launch), _utc(attempt.started_at)
        )
        enqueue(session, [statement], self._lrs(launch))

    def answered(
        self,
        session: Session,
        attempt: Attempt,
        launch: Launch,
        record: AnswerRecord,
        challenge: Challenge,
    ) -> None:
        skill = self.content.skills[record.skill_id]
        tube = self.content.tubes[skill.tube_id]
        locale_text = _text(challenge.instruction)
        answer = xb.Answer(
            sequence=record.seq,
            challenge=xb.Challenge(
                id=challenge.id,
                type=cast(Any, challenge.type.value),
                instruction=cast(xb.Text, locale_text),
                choices=tuple(
                    xb.Choice(id=str(index), text=cast(xb.Text, _text(text)))
                    for index, text in enumerate(challenge.proposals, start=1)
                ),
            ),
            competence=self._competence(skill.competence_code),
            tube=xb.Tube(id=tube.id, title=cast(xb.Text, _text(tube.title))),
            skill=xb.Skill(id=skill.id, level=skill.level, description=_text(skill.description)),
            status=cast(Any, record.status),
            response=_response(record, challenge),
            duration=max(_utc(record.answered_at) - _utc(record.served_at), timedelta(0)),
            timestamp=_utc(record.answered_at),
        )
        statement = self._builder(launch).challenge_answered(self._attempt(attempt, launch), answer)
        enqueue(session, [statement], self._lrs(launch))

    def progressed(self, session: Session, attempt: Attempt, launch: Launch, progress: int) -> None:
        statement = self._builder(launch).progressed(
            self._attempt(attempt, launch),
            answers_count=attempt.answer_count,
            progress=progress,
            timestamp=datetime.now(UTC),
        )
        enqueue(session, [statement], self._lrs(launch))

    def completed(
        self, session: Session, attempt: Attempt, launch: Launch, result: AssessmentResult
    ) -> None:
        finished = _utc(attempt.finished_at)
        outcome = xb.Outcome(
            mastery=float(result.mastery),
            duration=max(finished - _utc(attempt.started_at), timedelta(0)),
            levels=tuple(
                xb.CompetenceLevel(self._competence(c.code), c.level) for c in result.competences
            ),
            pix=result.total_score,
            timestamp=finished,
        )
        statements = self._builder(launch).attempt_ended(self._attempt(attempt, launch), outcome)
        enqueue(session, statements, self._lrs(launch))

