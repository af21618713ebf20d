"""Purge of what the tool no longer needs: expired launches, login states and used nonces.

A launch is kept past its expiry while an attempt still needs it: a score waiting for the
gradebook (``grade_status == "pending"``) is posted with the launch's AGS claims. Preview and
anonymous attempts are bound to their launch and unreachable once it is gone, so they go with
it (their answers by the foreign key's cascade); other attempts only lose the reference.
A used nonce is kept until its expiry: before that, a replayed id_token must still be refused.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from lti_tool.config import Settings
from lti_tool.models import Attempt, Launch, LoginState, UsedNonce

log = logging.getLogger(__name__)
PURGE_INTERVAL = 3600.0  # seconds between two purges of a background worker


@dataclass(frozen=True)
class PurgeCounts:
    launches: int
    preview_attempts: int
    login_states: int
    nonces: int

    def __str__(self) -> str:
        return (
            f"expired launches: {self.launches}, preview attempts: {self.preview_attempts}, "
            f"login states: {self.login_states}, used nonces: {self.nonces}"
        )


def purge(session: Session, now: datetime, *, dry_run: bool = False) -> PurgeCounts:
    """Delete (or, with ``dry_run``, count) what expired before ``now``, in the caller's
    transaction."""
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
    return counts


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
) -> None:
    """Purge every ``interval`` seconds until ``stop`` is set (for a background thread), and
    report idle attempts (``suspended``, ``abandoned``) when a ``sweep`` is given: each in a
    transaction of its own, so one failing does not hold the other back."""
    while not stop.is_set():
        try:
            with sessions() as session, session.begin():
                counts = purge(session, clock())
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
    sessions: Callable[[], Session], stop: threading.Event, *, sweep: Sweep | None = None
) -> threading.Thread:
    thread = threading.Thread(
        target=run_periodically,
        args=(sessions, stop),
        kwargs={"sweep": sweep},
        name="socle-purge",
        daemon=True,
    )
    thread.start()
    return thread
