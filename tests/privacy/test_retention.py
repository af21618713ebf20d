"""Retention: attempts and answers past SOCLE_RETENTION_DAYS go, with their statements and
the agents left without data; dead letters past SOCLE_DEAD_LETTER_DAYS go; the dry run
counts without deleting. The clock is the ``now`` passed in."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select, update

from lti_tool.admin.settings import PrivacySettings
from lti_tool.cli import main
from lti_tool.maintenance import Retention, purge
from lti_tool.models import AnswerRecord, Attempt, LtiUser
from tests.player.agent import Agent
from xapi.outbox import outbox_table

RETENTION = Retention(attempts=timedelta(days=1095), dead_letters=timedelta(days=90))


def _count(app: Flask, table: object) -> int:
    with app.extensions["socle"].database.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def _play(agent: Agent, answers: int) -> None:
    agent.launch()
    agent.start()
    agent.run("right", stop_after=answers)


def test_the_default_retention_is_three_years() -> None:
    assert PrivacySettings.load(environ={}).retention_days == 3 * 365
    assert PrivacySettings.load(environ={"SOCLE_RETENTION_DAYS": "30"}).retention_days == 30
    with pytest.raises(ValueError, match="SOCLE_RETENTION_DAYS"):
        PrivacySettings.load(environ={"SOCLE_RETENTION_DAYS": "soon"})


def test_attempts_past_the_retention_go_with_their_answers_and_statements(
    app: Flask, make_agent: Callable[..., Agent]
) -> None:
    _play(make_agent(sub="old-agent"), 2)
    _play(make_agent(sub="recent-agent"), 3)
    database = app.extensions["socle"].database
    now = datetime.now(UTC)
    with database.session() as session, session.begin():
        old_user = session.scalars(select(LtiUser).where(LtiUser.sub == "old-agent")).one()
        old_attempt = session.scalars(select(Attempt).where(Attempt.user_pk == old_user.id)).one()
        old_id = old_attempt.id
        long_ago = now - timedelta(days=1096)
        session.execute(
            update(Attempt)
            .where(Attempt.id == old_id)
            .values(started_at=long_ago, current_served_at=long_ago)
        )
    statements_before = _count(app, outbox_table)
    later = now + timedelta(days=1)  # launches and login states expired too

    with database.session() as session, session.begin():
        dry = purge(session, later, dry_run=True, retention=RETENTION)
    assert dry.old_attempts == 1
    assert dry.old_answers == 2
    assert dry.old_statements >= 3  # attempted, two answered
    assert _count(app, Attempt) == 2  # the dry run deleted nothing

    with database.session() as session, session.begin():
        done = purge(session, later, retention=RETENTION)
    assert (done.old_attempts, done.old_answers) == (1, 2)
    with database.session() as session:
        attempts = list(session.scalars(select(Attempt.id)))
        answers = session.scalar(select(func.count()).select_from(AnswerRecord))
        subs = set(session.scalars(select(LtiUser.sub)))
        payloads = list(session.scalars(select(outbox_table.c.payload)))
    assert old_id not in attempts
    assert len(attempts) == 1
    assert answers == 3
    assert subs == {"recent-agent"}  # the old agent had nothing left
    assert all(old_id not in p for p in payloads)
    assert len(payloads) == statements_before - done.old_statements
    assert all(json.loads(p)["context"]["registration"] == attempts[0] for p in payloads)


def test_a_score_waiting_for_the_gradebook_keeps_its_attempt(
    app: Flask, make_agent: Callable[..., Agent]
) -> None:
    _play(make_agent(sub="graded"), 1)
    database = app.extensions["socle"].database
    long_ago = datetime.now(UTC) - timedelta(days=2000)
    with database.session() as session, session.begin():
        session.execute(
            update(Attempt).values(
                started_at=long_ago, current_served_at=long_ago, grade_status="pending"
            )
        )
    with database.session() as session, session.begin():
        assert purge(session, datetime.now(UTC), retention=RETENTION).old_attempts == 0
    assert _count(app, Attempt) == 1


def test_old_dead_letters_go(app: Flask, make_agent: Callable[..., Agent]) -> None:
    _play(make_agent(sub="dead-letters"), 1)
    database = app.extensions["socle"].database
    now = datetime.now(UTC)
    with database.session() as session, session.begin():
        ids = list(session.scalars(select(outbox_table.c.id).order_by(outbox_table.c.id)))
        session.execute(
            update(outbox_table)
            .where(outbox_table.c.id == ids[0])
            .values(status="dead", created_at=now - timedelta(days=91))
        )
        session.execute(
            update(outbox_table)
            .where(outbox_table.c.id == ids[1])
            .values(status="dead", created_at=now - timedelta(days=89))
        )
    with database.session() as session, session.begin():
        counts = purge(session, now, retention=RETENTION)
    assert counts.dead_letters == 1
    with database.session() as session:
        left = set(session.scalars(select(outbox_table.c.id)))
    assert ids[0] not in left
    assert ids[1] in left


def test_socle_privacy_purge_dry_run_reports_and_keeps(
    app: Flask, make_agent: Callable[..., Agent], monkeypatch: pytest.MonkeyPatch
) -> None:
    _play(make_agent(sub="cli-retention"), 1)
    settings = app.extensions["socle"].settings
    for name, value in {
        "SOCLE_DATABASE_URL": settings.database_url,
        "SOCLE_SECRET_KEY": settings.secret_key,
        "SOCLE_INSTANCE_DIR": str(settings.instance_dir),
        "SOCLE_RETENTION_DAYS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    database = app.extensions["socle"].database
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    with database.session() as session, session.begin():
        session.execute(
            update(Attempt).values(started_at=two_days_ago, current_served_at=two_days_ago)
        )

    dry = CliRunner().invoke(main, ["privacy", "purge", "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert "retention: 1 days" in dry.stdout
    assert "would delete" in dry.stdout
    assert "attempts past retention: 1" in dry.stdout
    assert _count(app, Attempt) == 1
    done = CliRunner().invoke(main, ["privacy", "purge"])
    assert done.exit_code == 0, done.output
    assert _count(app, Attempt) == 0


def test_the_background_worker_applies_the_retention(
    app: Flask, make_agent: Callable[..., Agent]
) -> None:
    import threading

    from lti_tool.maintenance import run_periodically

    _play(make_agent(sub="worker-retention"), 1)
    database = app.extensions["socle"].database
    long_ago = datetime.now(UTC) - timedelta(days=1100)
    with database.session() as session, session.begin():
        session.execute(update(Attempt).values(started_at=long_ago, current_served_at=long_ago))
    stop = threading.Event()

    def one_pass() -> datetime:
        stop.set()  # the loop ends after this pass
        return datetime.now(UTC)

    run_periodically(database.sessions, stop, clock=one_pass, retention=RETENTION)

    assert _count(app, Attempt) == 0
