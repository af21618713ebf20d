"""``purge`` deletes expired launches (not those a pending score needs), login states and
used nonces; ``--dry-run`` only counts. The clock is the ``now`` passed in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select, update

from lti_tool.maintenance import purge
from lti_tool.models import Attempt, Launch, UsedNonce
from tests.player.agent import Agent


def _count(app: Flask, model: type) -> int:
    with app.extensions["socle"].database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_purge_keeps_what_is_still_needed(make_agent: Callable[..., Agent], app: Flask) -> None:
    learner = make_agent(sub="learner")
    learner.launch()
    learner.start()
    teacher = make_agent(teacher=True, sub="teacher")
    teacher.launch()
    teacher.start(new="1")  # a preview attempt, bound to the teacher's launch
    graded = make_agent(sub="graded")
    graded.launch()
    graded.start()
    database = app.extensions["socle"].database
    with database.session() as session, session.begin():
        graded_attempt = session.scalars(
            select(Attempt).where(Attempt.preview.is_(False)).order_by(Attempt.started_at.desc())
        ).first()
        assert graded_attempt is not None
        graded_attempt.grade_status = "pending"
    later = datetime.now(UTC) + timedelta(days=1)  # every launch, state and nonce expired

    with database.session() as session, session.begin():
        dry = purge(session, later, dry_run=True)
    assert dry.launches == 2
    assert dry.preview_attempts == 1
    assert dry.nonces == 3
    assert dry.login_states == 3  # a used state stays until it expires (its nonce is spent)
    assert _count(app, Launch) == 3

    with database.session() as session, session.begin():
        done = purge(session, later)
    assert done == dry
    assert _count(app, Launch) == 1  # the graded one, its score still pending
    assert _count(app, UsedNonce) == 0
    with database.session() as session:
        attempts = list(session.scalars(select(Attempt)))
    assert len(attempts) == 2
    assert not any(a.preview for a in attempts)
    with database.session() as session, session.begin():
        session.execute(update(Attempt).values(grade_status="sent"))
        assert purge(session, later).launches == 1
    with database.session() as session, session.begin():
        assert purge(session, datetime.now(UTC)).launches == 0


def test_the_background_pass_purges_and_reports_idle_attempts(app: Flask) -> None:
    """One pass of the worker's thread: a purge, then the idle-attempt sweep, each in its own
    transaction; a failing sweep is logged and does not stop the loop's next pass."""
    import threading

    from lti_tool.maintenance import run_periodically

    database = app.extensions["socle"].database
    stop = threading.Event()
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    seen: list[datetime] = []

    def sweep(session: object, at: datetime) -> int:
        seen.append(at)
        if len(seen) == 1:
            raise RuntimeError("the LRS outbox is locked")  # logged; next pass goes on
        stop.set()
        return 0

    run_periodically(database.sessions, stop, interval=0, clock=lambda: now, sweep=sweep)
    assert seen == [now, now]
