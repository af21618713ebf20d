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
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import CursorResult, and_, bindparam, event, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from lti_tool.domain.adaptive import attempt_rng, get_algorithm
from lti_tool.domain.answers import Answer, AnswerStatus
from lti_tool.domain.checking import AnswerResult, check_answer, is_blank_answer
from lti_tool.domain.framework import Challenge, ChallengeType, Content
from lti_tool.domain.scoring import AssessmentResult, score
from lti_tool.domain.target import ParcoursView, parcours_view
from lti_tool.lti.roles import TEACHER
from lti_tool.lti.service import launch_context_options, unexpired
from lti_tool.models import AnswerRecord, Attempt, Launch
from lti_tool.player.exposure import ExposureCounter

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 5
TIMER_GRACE_SECONDS = 5
#: How early a page may say its countdown ran out (its clock started a little after ours).
TIMEOUT_CLAIM_TOLERANCE_SECONDS = 3
#: Extended time an agent may choose on the start page (« temps majoré », RGAA 13.1).
TIME_FACTORS = (1.0, 1.5, 2.0)
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


def new_attempt_seed() -> int:
    """The seed of a new attempt's draws (challenge choice, proposal order); tests replace it
    with a generator of their own, as they replace ``utcnow``, so a run never depends on chance."""
    return secrets.randbelow(2**31 - 1)


def aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class AnswerRow(NamedTuple):
    """What the player reads of a recorded answer on its pages: plain values."""

    seq: int
    challenge_id: str
    skill_id: str
    status: str
    served_at: datetime
    answered_at: datetime


_ROW_COLUMNS = (
    AnswerRecord.seq,
    AnswerRecord.challenge_id,
    AnswerRecord.skill_id,
    AnswerRecord.status,
    AnswerRecord.served_at,
    AnswerRecord.answered_at,
)
#: Where an attempt keeps its answers as rows (an instance attribute the ORM does not map).
_ROWS = "_socle_answer_rows"

# The request path's queries, built once and executed with their parameters: building a
# statement costs about as much as running it.
_ANSWER_ROWS = (
    select(*_ROW_COLUMNS)
    .where(AnswerRecord.attempt_id == bindparam("attempt_id"))
    .order_by(AnswerRecord.seq)
)
_ANSWER_RECORD = select(AnswerRecord).where(
    AnswerRecord.attempt_id == bindparam("attempt_id"), AnswerRecord.seq == bindparam("seq")
)
_AGENT_ATTEMPTS = (
    select(Attempt)
    .where(Attempt.resource_link_pk == bindparam("link_pk"))
    .where(Attempt.user_pk == bindparam("user_pk"), Attempt.preview.is_(False))
    .order_by(Attempt.number.desc())
)
_PREVIEW_ATTEMPTS = (
    select(Attempt)
    .where(Attempt.resource_link_pk == bindparam("link_pk"))
    .where(Attempt.launch_id == bindparam("launch_id"), Attempt.preview.is_(True))
    .order_by(Attempt.number.desc())
)
#: The launch context and the attempts it may see (``Player.attempts_of``'s two queries, the
#: one that fits the launch chosen in SQL) in one statement: a row per attempt, or one row
#: without an attempt.
_LAUNCH_AND_ATTEMPTS = (
    select(Launch, Attempt)
    .outerjoin(
        Attempt,
        and_(
            Attempt.resource_link_pk == Launch.resource_link_pk,
            or_(
                and_(
                    Launch.role != TEACHER,
                    Launch.user_pk.is_not(None),
                    Attempt.user_pk == Launch.user_pk,
                    Attempt.preview.is_(False),
                ),
                and_(
                    or_(Launch.role == TEACHER, Launch.user_pk.is_(None)),
                    Attempt.launch_id == Launch.id,
                    Attempt.preview.is_(True),
                ),
            ),
        ),
    )
    .where(Launch.id == bindparam("launch_id"))
    .options(*launch_context_options())
    .order_by(Attempt.number.desc())
)


def answer_rows(attempt: Attempt) -> list[AnswerRow]:
    """The attempt's answers in order, as plain rows.

    One query of six columns the first time a request asks: turning ~50 answers into ORM
    objects (identity map, JSON response) on every page was half of its time. The rows are
    then kept on the attempt for as long as the ORM would keep a loaded ``answers``: until
    the attempt is expired (a rollback, a refresh). Answers already loaded as objects (the
    reports, the background sweep) are read as they are. A page that shows or changes one
    answer loads that one as an object (``answer_record``).
    """
    found: list[AnswerRow] | None = attempt.__dict__.get(_ROWS)
    if found is not None:
        return found
    if "answers" in attempt.__dict__:  # loaded as objects: not cached, it may still grow
        return [
            AnswerRow(r.seq, r.challenge_id, r.skill_id, r.status, r.served_at, r.answered_at)
            for r in attempt.answers
        ]
    session = object_session(attempt)
    rows: list[AnswerRow] = []
    if session is not None and attempt.id is not None:
        found_rows = session.execute(_ANSWER_ROWS, {"attempt_id": attempt.id})
        rows = [AnswerRow(*row) for row in found_rows]
    attempt.__dict__[_ROWS] = rows
    return rows


def answer_record(session: Session, attempt: Attempt, seq: int | None) -> AnswerRecord | None:
    """The answer ``seq`` of the attempt as an object (its response, to show or return)."""
    if seq is None or not 1 <= seq <= attempt.answer_count:  # answers are numbered 1..count
        return None
    if "answers" in attempt.__dict__:
        return next((r for r in attempt.answers if r.seq == seq), None)
    return session.scalars(_ANSWER_RECORD, {"attempt_id": attempt.id, "seq": seq}).one_or_none()


@event.listens_for(Attempt, "expire")
def _forget_rows(attempt: Attempt, names: Any) -> None:
    if names is None or "answers" in names or "answer_count" in names:
        attempt.__dict__.pop(_ROWS, None)


@event.listens_for(Attempt, "refresh")
def _forget_rows_on_refresh(attempt: Attempt, _context: Any, names: Any) -> None:
    _forget_rows(attempt, names)


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
    #: Seconds this agent has for a timed challenge (its timer × the attempt's extended time).
    time_limit: int | None = None


def time_limit(attempt: Attempt, challenge: Challenge) -> int | None:
    """The seconds the agent has for ``challenge``, extended time included."""
    if not challenge.timer:
        return None
    factor = attempt.time_factor if attempt.time_factor in TIME_FACTORS else 1.0
    return round(challenge.timer * factor)


class Player:
    """The attempt's operations over the loaded content; stateless between requests."""

    def __init__(self, content: Content, events: AttemptEvents, *, retry_delay: int = 0) -> None:
        self.content = content
        self.events = events
        self.retry_delay = timedelta(seconds=retry_delay)
        self.exposure = ExposureCounter()

    # --- reading -----------------------------------------------------------------------
    def view(self, attempt: Attempt) -> ParcoursView:
        return parcours_view(self.content, attempt.parcours_id)

    @staticmethod
    def answers(attempt: Attempt) -> list[Answer]:
        return [
            Answer(r.challenge_id, r.skill_id, AnswerStatus(r.status)) for r in answer_rows(attempt)
        ]

    def attempts_of(self, session: Session, launch: Launch) -> list[Attempt]:
        """The attempts this launch may see, newest first.

        One query, made once per transaction: a POST reads them to check its token and again
        to act. Their answers are read when asked (``answer_rows``), as plain rows.
        """
        link = launch.resource_link
        assert link is not None
        memo_key = (_ATTEMPTS_MEMO, launch.id)
        memo = session.info.get(memo_key)
        transaction = session.get_transaction()
        if memo is not None and memo[0] is transaction and transaction is not None:
            return list(memo[1])
        if launch.role == TEACHER or launch.user_pk is None:
            query, values = _PREVIEW_ATTEMPTS, {"link_pk": link.id, "launch_id": launch.id}
        else:
            query, values = _AGENT_ATTEMPTS, {"link_pk": link.id, "user_pk": launch.user_pk}
        attempts = list(session.scalars(query, values))
        session.info[memo_key] = (session.get_transaction(), attempts)
        return list(attempts)

    @staticmethod
    def load_launch(session: Session, launch_id: str) -> Launch | None:
        """:func:`lti_tool.lti.service.load_launch` and :meth:`attempts_of` in one query.

        The attempts are kept for the transaction the query began, as ``attempts_of`` keeps
        its own: the page's later reads of them send nothing."""
        rows = session.execute(_LAUNCH_AND_ATTEMPTS, {"launch_id": launch_id}).all()
        if not rows or not unexpired(rows[0][0]):
            return None
        launch: Launch = rows[0][0]
        if launch.resource_link_pk is not None:
            attempts = [attempt for _, attempt in rows if attempt is not None]
            session.info[(_ATTEMPTS_MEMO, launch.id)] = (session.get_transaction(), attempts)
        return launch

    @staticmethod
    def _forget_attempts(session: Session, launch: Launch) -> None:
        session.info.pop((_ATTEMPTS_MEMO, launch.id), None)

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
        time_factor: float | None = None,
    ) -> Attempt:
        """Resume the attempt in progress, or start one (the first, or a permitted retry)."""
        link = launch.resource_link
        if link is None or link.parcours_id not in self.content.parcours:
            raise PlayerError("no_parcours")
        current = self.current(session, launch)
        if current is not None and current.status == "started":
            if job_profile_id is not None and job_profile_id in self.content.job_profiles:
                current.job_profile_id = job_profile_id
            if time_factor in TIME_FACTORS:
                current.time_factor = time_factor
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
            seed=new_attempt_seed(),
            locale=launch.locale,
            job_profile_id=job_profile_id if job_profile_id in self.content.job_profiles else None,
            time_factor=time_factor if time_factor in TIME_FACTORS else 1.0,
            started_at=utcnow(),
        )
        session.add(attempt)
        self._forget_attempts(session, launch)
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
        challenge = None
        if attempt.current_challenge_id:
            # Chosen by the request that recorded the last answer (``submit``), or shown
            # already: the engine is not asked again.
            challenge = view.challenges.get(attempt.current_challenge_id)
        if challenge is None:
            challenge = self._next_challenge(session, attempt, view)
            if challenge is None:
                self.finish(session, attempt, launch)
                return None
            attempt.current_challenge_id = challenge.id
            attempt.current_served_at = None
            attempt.timer_started_at = None
        if attempt.current_served_at is None:  # its first showing
            attempt.current_served_at = utcnow()
        return Served(
            challenge=challenge,
            seq=attempt.answer_count + 1,
            proposal_order=self.proposal_order(attempt, challenge),
            timer_started_at=aware(attempt.timer_started_at),
            time_limit=time_limit(attempt, challenge),
        )

    def _next_challenge(
        self, session: Session, attempt: Attempt, view: ParcoursView
    ) -> Challenge | None:
        """The engine's choice after the attempt's answers; ``None`` when it asks no more.

        Deterministic (the generator is seeded by the attempt and its number of answers):
        whichever request asks, the choice is the same.
        """
        answers = self.answers(attempt)
        algorithm = get_algorithm(attempt.algorithm)
        seen = self._seen_before(session, attempt)
        return algorithm.next_challenge(
            view,
            answers,
            attempt_rng(attempt.seed, len(answers)),
            seen=seen,
            exposure=self._exposure(session, attempt),
        )

    def progress(self, attempt: Attempt, view: ParcoursView) -> int:
        """The engine's progress (0-100) after the attempt's answers, computed once per
        number of answers in this process (the challenge page is reloaded, resumed...)."""
        key = (attempt.id, attempt.answer_count, attempt.algorithm)
        found: int | None = _PROGRESS.get(key)
        if found is None:
            found = get_algorithm(attempt.algorithm).progress(view, self.answers(attempt))
            _PROGRESS.put(key, found)
        return found

    def _exposure(self, session: Session, attempt: Attempt) -> Mapping[str, float] | None:
        """Share of agents each challenge was shown to (exposure control; previews: none)."""
        if attempt.preview:
            return None
        return self.exposure.shares(session, attempt.parcours_id)

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
        timeout_claimed: bool = False,
    ) -> AnswerRecord:
        """Record the answer to the challenge being shown; returns the stored answer.

        A submission for an answer already recorded (same ``seq``) returns that record
        unchanged; a submission for anything but the current challenge is refused, and so is
        a blank one (nothing chosen, nothing typed: ``empty_answer``, nothing recorded) while
        there is time left. On a timed challenge, an answer after the time (and its grace)
        is recorded as timed out, and so is the page's own submission when its countdown
        ran out (``timeout_claimed``), even blank.
        """
        rows = answer_rows(attempt)
        existing = next((r for r in rows if r.seq == seq), None)
        if existing is not None:
            if existing.challenge_id != challenge_id:
                raise PlayerError("stale_form")
            found = answer_record(session, attempt, seq)
            if found is None:
                # Recorded by a twin request (a double click) that committed after this
                # request read the attempt and before it read the answers: the attempt
                # row here is older than its answers. The caller shows the twin's result.
                raise PlayerError("stale_form")
            return found
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
        blank = not skipped and is_blank_answer(challenge, answer)
        limit = time_limit(attempt, challenge)
        if limit:
            started = aware(attempt.timer_started_at)
            if started is None:
                raise PlayerError("timer_not_started")
            elapsed = now - started
            timed_out = (
                elapsed > timedelta(seconds=limit + TIMER_GRACE_SECONDS)
                or (blank and elapsed >= timedelta(seconds=limit))
                or (
                    timeout_claimed
                    and elapsed >= timedelta(seconds=limit - TIMEOUT_CLAIM_TOLERANCE_SECONDS)
                )
            )
        if blank and not timed_out:
            raise PlayerError("empty_answer")
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
        if "answers" in attempt.__dict__:
            attempt.answers.append(record)
        else:
            session.add(record)  # the collection is not loaded: the rows stand for it
            rows.append(
                AnswerRow(
                    seq,
                    record.challenge_id,
                    record.skill_id,
                    record.status,
                    record.served_at,
                    record.answered_at,
                )
            )
        attempt.answer_count = seq
        following = self._next_challenge(session, attempt, view)
        # The next challenge is chosen now, in this transaction, while the engine's state
        # for these answers is warm in this process; the next page shows it without asking
        # the engine again, whichever worker serves it. Its showing time is set there.
        attempt.current_challenge_id = following.id if following is not None else None
        attempt.current_served_at = None
        attempt.timer_started_at = None
        try:
            session.flush()
        except IntegrityError as exc:  # the same seq recorded concurrently
            raise PlayerError("stale_form") from exc
        if recordable(attempt):
            self.events.answered(session, attempt, launch, record, challenge)
            if seq % CHECKPOINT_EVERY == 0:
                self.events.progressed(session, attempt, launch, self.progress(attempt, view))
        if following is None:
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


class LruCache:
    """A small thread-safe LRU map (gunicorn threads share a process's caches)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_ATTEMPTS_MEMO = "socle.player.attempts"
# Progress per (attempt, number of answers): an int each, a few thousand agents in flight.
_PROGRESS = LruCache(20_000)


def clear_process_caches() -> None:
    """Forget what this process computed for earlier requests (benchmarks, tests)."""
    from xapi.builders import forget_kept_parts

    _PROGRESS.clear()
    forget_kept_parts()


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
