"""Service layer of the player: it owns the transactions of an attempt.

Each state change — attempt started, answer recorded, attempt finished — is written in one
transaction together with the outbox rows of its xAPI statements, so the LRS can never miss
or invent an event. Answers are idempotent: the form carries the sequence number it answers,
and ``(attempt, seq)`` is unique, so a double click, the back button or a resubmitted form
never records an answer twice nor skips a challenge.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.domain.adaptive import attempt_rng, get_algorithm
from lti_tool.domain.answers import Answer, AnswerStatus
from lti_tool.domain.checking import AnswerResult, check_answer
from lti_tool.domain.framework import Challenge, ChallengeType, Content
from lti_tool.domain.scoring import AssessmentResult, score
from lti_tool.domain.target import ParcoursView, parcours_view
from lti_tool.lti.roles import TEACHER
from lti_tool.models import AnswerRecord, Attempt, Launch

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 5
TIMER_GRACE_SECONDS = 5
MAX_STORED_ANSWER = 2000


class PlayerError(Exception):
    """Something the agent did that cannot be honoured; ``code`` keys the message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class AttemptEvents(Protocol):
    """Receives the attempt's state changes inside their transaction (xAPI outbox)."""

    def started(self, session: Session, attempt: Attempt, launch: Launch) -> None: ...

    def answered(
        self,
        session: Session,
        attempt: Attempt,
        launch: Launch,
        record: AnswerRecord,
        challenge: Challenge,
    ) -> None: ...

    def progressed(
        self, session: Session, attempt: Attempt, launch: Launch, progress: int
    ) -> None: ...

    def completed(
        self, session: Session, attempt: Attempt, launch: Launch, result: AssessmentResult
    ) -> None: ...

    def activity(
        self, session: Session, attempt: Attempt, launch: Launch, now: datetime
    ) -> None: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def recordable(attempt: Attempt) -> bool:
    """Whether the attempt's events reach the LRS and the gradebook."""
    return not attempt.preview and attempt.user_pk is not None


@dataclass(frozen=True)
class Served:
    """What the challenge page needs: the challenge, its number, and its timer state."""

    challenge: Challenge
    seq: int
    proposal_order: tuple[int, ...]
    timer_started_at: datetime | None
    progress: int


class Player:
    """The attempt's operations over the loaded content; stateless between requests."""

    def __init__(self, content: Content, events: AttemptEvents, *, retry_delay: int = 0) -> None:
        self.content = content
        self.events = events
        self.retry_delay = timedelta(seconds=retry_delay)

    # --- reading -----------------------------------------------------------------------
    def view(self, attempt: Attempt) -> ParcoursView:
        return parcours_view(self.content, attempt.parcours_id)

    @staticmethod
    def answers(attempt: Attempt) -> list[Answer]:
        return [Answer(r.challenge_id, r.skill_id, AnswerStatus(r.status)) for r in attempt.answers]

    def attempts_of(self, session: Session, launch: Launch) -> list[Attempt]:
        """The attempts this launch may see, newest first."""
        link = launch.resource_link
        assert link is not None
        query = select(Attempt).where(Attempt.resource_link_pk == link.id)
        if launch.role == TEACHER or launch.user_pk is None:
            query = query.where(Attempt.launch_id == launch.id, Attempt.preview.is_(True))
        else:
            query = query.where(Attempt.user_pk == launch.user_pk, Attempt.preview.is_(False))
        return list(session.scalars(query.order_by(Attempt.number.desc())))

    def current(self, session: Session, launch: Launch) -> Attempt | None:
        attempts = self.attempts_of(session, launch)
        return attempts[0] if attempts else None

    def can_retry(self, attempt: Attempt, now: datetime | None = None) -> datetime | None:
        """``None`` when a new attempt is allowed now, else the moment it will be."""
        if attempt.status != "completed":
            return utcnow() + timedelta(days=36500)
        finished = aware(attempt.finished_at) or utcnow()
        when = finished + self.retry_delay
        return None if (now or utcnow()) >= when else when

    # --- starting ----------------------------------------------------------------------
    def start(
        self,
        session: Session,
        launch: Launch,
        *,
        job_profile_id: str | None = None,
        new_attempt: bool = False,
    ) -> Attempt:
        """Resume the attempt in progress, or start one (the first, or a permitted retry)."""
        link = launch.resource_link
        if link is None or link.parcours_id not in self.content.parcours:
            raise PlayerError("no_parcours")
        current = self.current(session, launch)
        if current is not None and current.status == "started":
            if job_profile_id is not None and job_profile_id in self.content.job_profiles:
                current.job_profile_id = job_profile_id
            current.launch_id = launch.id
            return current
        if current is not None and not new_attempt:
            return current
        preview = launch.role == TEACHER or launch.user_pk is None
        if current is not None and not preview and self.can_retry(current) is not None:
            raise PlayerError("retry_too_soon")
        number = 1 + (
            session.scalar(
                select(func.max(Attempt.number)).where(
                    Attempt.resource_link_pk == link.id,
                    Attempt.user_pk == launch.user_pk,
                )
            )
            or 0
        )
        attempt = Attempt(
            user_pk=launch.user_pk,
            resource_link_pk=link.id,
            launch_id=launch.id,
            parcours_id=link.parcours_id,
            algorithm=get_algorithm().name,
            number=number,
            preview=preview,
            seed=secrets.randbelow(2**31 - 1),
            locale=launch.locale,
            job_profile_id=job_profile_id if job_profile_id in self.content.job_profiles else None,
            started_at=utcnow(),
        )
        session.add(attempt)
        try:
            session.flush()
        except IntegrityError as exc:  # a concurrent start of the same attempt number
            raise PlayerError("concurrent_start") from exc
        if recordable(attempt):
            self.events.started(session, attempt, launch)
        return attempt

    def save_self_assessment(self, attempt: Attempt, values: Mapping[str, str]) -> None:
        """Keep the agent's 1–4 feeling per area; anything else is ignored."""
        feelings: dict[str, int] = {}
        for area in self.content.areas:
            raw = values.get(f"area.{area.code}", "")
            if raw in {"1", "2", "3", "4"}:
                feelings[area.code] = int(raw)
        attempt.self_assessment = feelings

    # --- serving -----------------------------------------------------------------------
    def serve(self, session: Session, attempt: Attempt, launch: Launch) -> Served | None:
        """The challenge to show now (the same one until it is answered), or ``None`` when
        the attempt is over — in which case it has just been finished."""
        if attempt.status == "completed":
            return None
        if recordable(attempt):
            self.events.activity(session, attempt, launch, utcnow())
        view = self.view(attempt)
        answers = self.answers(attempt)
        algorithm = get_algorithm(attempt.algorithm)
        challenge = None
        if attempt.current_challenge_id:
            challenge = view.challenges.get(attempt.current_challenge_id)
        if challenge is None:
            seen = self._seen_before(session, attempt)
            challenge = algorithm.next_challenge(
                view, answers, attempt_rng(attempt.seed, len(answers)), seen=seen
            )
            if challenge is None:
                self.finish(session, attempt, launch)
                return None
            attempt.current_challenge_id = challenge.id
            attempt.current_served_at = utcnow()
            attempt.timer_started_at = None
        return Served(
            challenge=challenge,
            seq=attempt.answer_count + 1,
            proposal_order=self.proposal_order(attempt, challenge),
            timer_started_at=aware(attempt.timer_started_at),
            progress=algorithm.progress(view, answers),
        )

    def _seen_before(self, session: Session, attempt: Attempt) -> frozenset[str]:
        if attempt.number <= 1 or attempt.user_pk is None:
            return frozenset()
        rows = session.scalars(
            select(AnswerRecord.challenge_id)
            .join(Attempt)
            .where(
                Attempt.user_pk == attempt.user_pk,
                Attempt.resource_link_pk == attempt.resource_link_pk,
                Attempt.id != attempt.id,
            )
        )
        return frozenset(rows)

    @staticmethod
    def proposal_order(attempt: Attempt, challenge: Challenge) -> tuple[int, ...]:
        """1-based proposal indexes in display order: shuffled when the challenge asks,
        the same for the same attempt on every page load and device."""
        order = list(range(1, len(challenge.proposals) + 1))
        if challenge.shuffle and challenge.type in (ChallengeType.QCU, ChallengeType.QCM):
            random.Random(f"{attempt.seed}:{challenge.id}").shuffle(order)
        return tuple(order)

    def start_timer(self, attempt: Attempt, challenge_id: str) -> None:
        if attempt.current_challenge_id == challenge_id and attempt.timer_started_at is None:
            attempt.timer_started_at = utcnow()

    # --- answering ---------------------------------------------------------------------
    def submit(
        self,
        session: Session,
        attempt: Attempt,
        launch: Launch,
        *,
        challenge_id: str,
        seq: int,
        skipped: bool,
        answer: object,
    ) -> AnswerRecord:
        """Record the answer to the challenge being shown; returns the stored answer.

        A submission for an answer already recorded (same ``seq``) returns that record
        unchanged; a submission for anything but the current challenge is refused.
        """
        existing = next((r for r in attempt.answers if r.seq == seq), None)
        if existing is not None:
            if existing.challenge_id != challenge_id:
                raise PlayerError("stale_form")
            return existing
        if attempt.status != "started":
            raise PlayerError("attempt_finished")
        if recordable(attempt):
            self.events.activity(session, attempt, launch, utcnow())
        if seq != attempt.answer_count + 1 or attempt.current_challenge_id != challenge_id:
            raise PlayerError("stale_form")
        view = self.view(attempt)
        challenge = view.challenges.get(challenge_id)
        if challenge is None:
            raise PlayerError("stale_form")
        now = utcnow()
        timed_out = False
        if challenge.timer:
            started = aware(attempt.timer_started_at)
            if started is None:
                raise PlayerError("timer_not_started")
            timed_out = now > started + timedelta(seconds=challenge.timer + TIMER_GRACE_SECONDS)
        graded: AnswerResult = check_answer(
            challenge, answer, skipped=skipped, timed_out=timed_out and not skipped
        )
        record = AnswerRecord(
            attempt_id=attempt.id,
            seq=seq,
            challenge_id=challenge.id,
            skill_id=challenge.skill_id,
            status=graded.status.value,
            response=None if skipped else _storable(answer),
            served_at=aware(attempt.current_served_at) or now,
            answered_at=now,
        )
        attempt.answers.append(record)
        attempt.answer_count = seq
        attempt.current_challenge_id = None
        attempt.current_served_at = None
        attempt.timer_started_at = None
        try:
            session.flush()
        except IntegrityError as exc:  # the same seq recorded concurrently
            raise PlayerError("stale_form") from exc
        if recordable(attempt):
            self.events.answered(session, attempt, launch, record, challenge)
            if seq % CHECKPOINT_EVERY == 0:
                progress = get_algorithm(attempt.algorithm).progress(view, self.answers(attempt))
                self.events.progressed(session, attempt, launch, progress)
        if self._nothing_left(session, attempt, view):
            # Finished by the request that recorded the last answer, so the agent who gave it
            # is the one who may start again (see lti_tool.lti.tokens: the token chain). In a
            # savepoint: should the end fail, the answer stays recorded and the next page
            # (``serve``) finishes the attempt.
            try:
                with session.begin_nested():
                    self.finish(session, attempt, launch)
            except Exception:
                log.exception("finishing attempt %s after its last answer failed", attempt.id)
        return record

    def _nothing_left(self, session: Session, attempt: Attempt, view: ParcoursView) -> bool:
        """Whether the engine would ask nothing more (the same choice ``serve`` makes next:
        the generator is seeded by the attempt and its number of answers)."""
        answers = self.answers(attempt)
        algorithm = get_algorithm(attempt.algorithm)
        seen = self._seen_before(session, attempt)
        rng = attempt_rng(attempt.seed, len(answers))
        return algorithm.next_challenge(view, answers, rng, seen=seen) is None

    # --- finishing ---------------------------------------------------------------------
    def assess(self, attempt: Attempt) -> AssessmentResult:
        view = self.view(attempt)
        algorithm = get_algorithm(attempt.algorithm)
        elements = algorithm.knowledge_elements(view, self.answers(attempt))
        profile = self.content.job_profiles.get(attempt.job_profile_id or "")
        return score(view, elements, profile)

    def finish(self, session: Session, attempt: Attempt, launch: Launch) -> AssessmentResult:
        """Finish the attempt once: several requests may see its last answer at the same
        moment (reloads, tabs), and each computes the same result.

        The attempt is switched to ``completed`` by one conditional UPDATE (``WHERE status =
        'started'``); only the request whose UPDATE changed the row writes the end
        statements and queues the grade, in the same transaction. The others wait for the
        row lock (PostgreSQL) or the write lock (SQLite), then change nothing.
        """
        result = self.assess(attempt)
        values: dict[str, Any] = {
            "status": "completed",
            "finished_at": utcnow(),
            "current_challenge_id": None,
            "mastery": float(result.mastery),
            "result": {
                "levels": result.levels(),
                "score": result.total_score,
                "mastery": float(result.mastery),
                "passed": result.passed,
            },
        }
        if recordable(attempt) and _offers_grades(launch):
            values["grade_status"] = "pending"
            values["grade_next_try_at"] = values["finished_at"]
        session.flush()
        changed = session.execute(
            update(Attempt)
            .where(Attempt.id == attempt.id, Attempt.status == "started")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        # Read back what is stored: this request's values, or those of the one that won.
        session.refresh(attempt, list(values))
        if cast(CursorResult[Any], changed).rowcount == 1 and recordable(attempt):
            self.events.completed(session, attempt, launch, result)
        return result


def _offers_grades(launch: Launch) -> bool:
    from lti_tool.lti.launch import AGS_CLAIM

    ags = launch.claims.get(AGS_CLAIM)
    if not isinstance(ags, dict):
        return False
    scopes = ags.get("scope") or []
    can_score = "https://purl.imsglobal.org/spec/lti-ags/scope/score" in scopes
    return can_score and bool(ags.get("lineitem") or ags.get("lineitems"))


def _storable(answer: object) -> Any:
    """The answer as sent, bounded, for the record and the xAPI ``response``."""
    if isinstance(answer, str):
        return answer[:MAX_STORED_ANSWER]
    if isinstance(answer, Sequence):
        return [str(a)[:MAX_STORED_ANSWER] for a in list(answer)[:50]]
    if isinstance(answer, Mapping):
        return {str(k)[:100]: str(v)[:MAX_STORED_ANSWER] for k, v in list(answer.items())[:50]}
    return None
