"""Purge of what the tool no longer needs: expired launches, login states and used nonces.

A launch is kept past its expiry while an attempt still needs it: a score waiting for the
gradebook (``grade_status == "pending"``) is posted with the launch's AGS claims. Preview and
anonymous attempts are bound to their launch and unreachable once it is gone, so they go with
it (their answers by the foreign key's cascade); other attempts only lose the reference.
A used nonce is kept until its expiry: before that, a replayed id_token must still be refused.

With a :class:`Retention` (``SOCLE_RETENTION_DAYS``, default three years; see
``lti_tool.privacy``), the same pass also deletes attempts (and their answers) whose last
activity is older than the retention, unless a score still waits for the gradebook; the
outbox rows of the statements of those attempts; dead letters older than
``SOCLE_DEAD_LETTER_DAYS``; and agents (``lti_user``) left with neither attempt nor launch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from lti_tool.config import Settings
from lti_tool.models import AnswerRecord, Attempt, Launch, LoginState, LtiUser, UsedNonce

log = logging.getLogger(__name__)
PURGE_INTERVAL = 3600.0  # seconds between two purges of a background worker


@dataclass(frozen=True)
class Retention:
    """How long agents' data is kept (``lti_tool.privacy``): attempts and answers after their
    last activity, dead xAPI letters after their creation."""

    attempts: timedelta
    dead_letters: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        from lti_tool.admin.settings import PrivacySettings

        privacy = PrivacySettings.load(settings)
        return cls(
            attempts=timedelta(days=privacy.retention_days),
            dead_letters=timedelta(days=privacy.dead_letter_days),
        )


@dataclass(frozen=True)
class PurgeCounts:
    launches: int
    preview_attempts: int
    login_states: int
    nonces: int
    old_attempts: int = 0
    old_answers: int = 0
    old_statements: int = 0
    dead_letters: int = 0
    agents: int = 0

    def __str__(self) -> str:
        text = (
            f"expired launches: {self.launches}, preview attempts: {self.preview_attempts}, "
            f"login states: {self.login_states}, used nonces: {self.nonces}"
        )
        return text + (
            f", attempts past retention: {self.old_attempts} (answers: {self.old_answers}, "
            f"statements: {self.old_statements}), dead letters: {self.dead_letters}, "
            f"agents without data: {self.agents}"
        )


def purge(
    session: Session,
    now: datetime,
    *,
    dry_run: bool = False,
    retention: Retention | None = None,
) -> PurgeCounts:
    """Delete (or, with ``dry_run``, count) what expired before ``now``, in the caller's
    transaction; with ``retention``, also what is past it."""
    pending = exists().where(Attempt.launch_id == Launch.id, Attempt.grade_status == "pending")
    doomed = select(Launch.id).where(Launch.expires_at < now, ~pending)
    ids = list(session.scalars(doomed))
    previews = select(Attempt.id).where(Attempt.launch_id.in_(ids), Attempt.preview.is_(True))
    counts = PurgeCounts(
        launches=len(ids),
        preview_attempts=len(list(session.scalars(previews))) if ids else 0,
        login_states=session.scalar(
            select(func.count()).select_from(LoginState).where(LoginState.expires_at < now)
        )
        or 0,
        nonces=session.scalar(
            select(func.count()).select_from(UsedNonce).where(UsedNonce.expires_at < now)
        )
        or 0,
    )
    if retention is not None:
        counts = _retention(session, now, retention, counts, dry_run=dry_run)
    if dry_run:
        return counts
    if ids:
        session.execute(
            delete(Attempt).where(Attempt.launch_id.in_(ids), Attempt.preview.is_(True))
        )
        session.execute(update(Attempt).where(Attempt.launch_id.in_(ids)).values(launch_id=None))
        session.execute(delete(Launch).where(Launch.id.in_(ids)))
    session.execute(delete(LoginState).where(LoginState.expires_at < now))
    session.execute(delete(UsedNonce).where(UsedNonce.expires_at < now))
    if retention is not None:
        # agents whose last attempt and launch are gone (this pass or an earlier one)
        session.execute(delete(LtiUser).where(_agent_without_data()))
    return counts


def _agent_without_data() -> Any:
    return ~exists().where(Attempt.user_pk == LtiUser.id) & ~exists().where(
        Launch.user_pk == LtiUser.id
    )


def _retention(
    session: Session, now: datetime, retention: Retention, counts: PurgeCounts, *, dry_run: bool
) -> PurgeCounts:
    from xapi.outbox import DEAD, outbox_table

    cutoff = now - retention.attempts
    last_activity = func.coalesce(
        Attempt.finished_at, Attempt.current_served_at, Attempt.started_at
    )
    old = list(
        session.scalars(
            select(Attempt.id).where(last_activity < cutoff, Attempt.grade_status != "pending")
        )
    )
    answers = 0
    statements: list[int] = []
    if old:
        answers = (
            session.scalar(
                select(func.count())
                .select_from(AnswerRecord)
                .where(AnswerRecord.attempt_id.in_(old))
            )
            or 0
        )
        patterns = [f'%"registration":"{attempt_id}"%' for attempt_id in old]
        for start in range(0, len(patterns), 200):
            chunk = patterns[start : start + 200]
            statements.extend(
                session.scalars(
                    select(outbox_table.c.id).where(
                        or_(*(outbox_table.c.payload.like(p) for p in chunk))
                    )
                )
            )
    dead_cutoff = now - retention.dead_letters
    dead_filter = (outbox_table.c.status == DEAD) & (outbox_table.c.created_at < dead_cutoff)
    dead = session.scalar(select(func.count()).select_from(outbox_table).where(dead_filter)) or 0
    if not dry_run:
        if statements:
            session.execute(delete(outbox_table).where(outbox_table.c.id.in_(statements)))
        session.execute(delete(outbox_table).where(dead_filter))
        if old:
            session.execute(delete(AnswerRecord).where(AnswerRecord.attempt_id.in_(old)))
            session.execute(delete(Attempt).where(Attempt.id.in_(old)))
    agents = (
        session.scalar(select(func.count()).select_from(LtiUser).where(_agent_without_data())) or 0
    )
    return replace(
        counts,
        old_attempts=len(old),
        old_answers=int(answers),
        old_statements=len(statements),
        dead_letters=int(dead),
        agents=int(agents),
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


Sweep = Callable[[Session, datetime], int]
"""Writes the xAPI statements of attempts left idle (``XapiEvents.sweep``); returns how many."""


def run_periodically(
    sessions: Callable[[], Session],
    stop: threading.Event,
    *,
    interval: float = PURGE_INTERVAL,
    clock: Callable[[], datetime] = _utcnow,
    sweep: Sweep | None = None,
    retention: Retention | None = None,
) -> None:
    """Purge every ``interval`` seconds until ``stop`` is set (for a background thread), and
    report idle attempts (``suspended``, ``abandoned``) when a ``sweep`` is given: each in a
    transaction of its own, so one failing does not hold the other back."""
    while not stop.is_set():
        try:
            with sessions() as session, session.begin():
                counts = purge(session, clock(), retention=retention)
            log.info("purge: %s", counts)
        except Exception:  # the worker beside it must survive; next pass tries again
            log.exception("purge failed; retrying in %ss", interval)
        if sweep is not None:
            try:
                with sessions() as session, session.begin():
                    written = sweep(session, clock())
                log.info("idle attempts: %d statement(s) queued", written)
            except Exception:
                log.exception("idle-attempt sweep failed; retrying in %ss", interval)
        stop.wait(interval)


def idle_attempt_sweep(settings: Settings) -> Sweep:
    """The sweep of the tool's xAPI events, built from the settings as the app builds them."""
    from lti_tool.content_store import load_catalogue
    from lti_tool.player.events import XapiEvents, XapiOptions

    content = load_catalogue(settings.content_dir).content
    events = XapiEvents(settings.base_url, content, XapiOptions.from_env(settings.content_dir))
    return events.sweep


def start_purge_thread(
    sessions: Callable[[], Session],
    stop: threading.Event,
    *,
    sweep: Sweep | None = None,
    retention: Retention | None = None,
) -> threading.Thread:
    thread = threading.Thread(
        target=run_periodically,
        args=(sessions, stop),
        kwargs={"sweep": sweep, "retention": retention},
        name="socle-purge",
        daemon=True,
    )
    thread.start()
    return thread
