"""The outbox joins the caller's transaction; LRS passwords are encrypted; status and retry."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, inspect, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tests.xapi import samples
from tests.xapi.conftest import Clock
from xapi.delivery import (
    LrsSettings,
    Verdict,
    backoff_delay,
    classify,
    parse_retry_after,
)
from xapi.outbox import (
    LrsSecretError,
    add_lrs,
    enqueue,
    list_lrs,
    load_lrs,
    lrs_table,
    outbox_table,
)
from xapi.status import outbox_status, retry_dead_letters

caller_metadata = MetaData()
answers_table = Table(
    "caller_answers",
    caller_metadata,
    Column("id", Integer, primary_key=True),
    Column("value", String(20)),
)


class Base(DeclarativeBase):
    pass


class CallerAttempt(Base):
    __tablename__ = "caller_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(20))


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_enqueue_joins_the_callers_core_transaction(engine: Engine, outcome: str) -> None:
    caller_metadata.create_all(engine)
    statements = samples.full_attempt()
    with engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(answers_table.insert().values(value="2"))
        assert enqueue(conn, statements) == len(statements)
        if outcome == "commit":
            transaction.commit()
        else:
            transaction.rollback()
    expected = (1, len(statements)) if outcome == "commit" else (0, 0)
    assert (_count(engine, answers_table), _count(engine, outbox_table)) == expected


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_enqueue_joins_the_callers_orm_session(engine: Engine, outcome: str) -> None:
    Base.metadata.create_all(engine)
    statements = samples.full_attempt()[:3]
    with Session(engine) as session:
        session.add(CallerAttempt(state="answered"))
        session.flush()
        enqueue(session, statements, lrs_id=None)
        if outcome == "commit":
            session.commit()
        else:
            session.rollback()
    with Session(engine) as session:
        attempts = session.scalars(select(CallerAttempt)).all()
    expected = (1, 3) if outcome == "commit" else (0, 0)
    assert (len(attempts), _count(engine, outbox_table)) == expected


def test_enqueued_rows_are_pending_due_and_carry_the_statement(engine: Engine) -> None:
    statement = samples.full_attempt()[0]
    with engine.begin() as conn:
        enqueue(conn, [statement])
    with engine.connect() as conn:
        row = conn.execute(select(outbox_table)).one()
    assert row.status == "pending"
    assert row.attempts == 0
    assert row.lrs_id is None
    assert row.statement_id == statement["id"]
    assert json.loads(row.payload) == statement
    assert row.next_attempt_at.tzinfo is not None
    assert row.next_attempt_at <= datetime.now(UTC)


def test_enqueue_refuses_a_statement_without_a_uuid_id(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(ValueError, match="deterministic 'id'"):
        enqueue(conn, [{"actor": {}}])
    with engine.connect() as conn, pytest.raises(ValueError, match="not a UUID"):
        enqueue(conn, [{"id": "42"}])
    assert _count(engine, outbox_table) == 0


def test_naive_timestamps_are_refused_rather_than_misread(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(Exception, match="timezone-aware"):
        enqueue(conn, samples.full_attempt()[:1], now=datetime(2026, 1, 1))


def test_constraints_follow_the_naming_convention(engine: Engine) -> None:
    inspector = inspect(engine)
    checks = {check["name"] for check in inspector.get_check_constraints("xapi_outbox")}
    assert {"ck_xapi_outbox_status", "ck_xapi_outbox_attempts"} <= checks
    foreign = inspector.get_foreign_keys("xapi_outbox")
    assert [fk["name"] for fk in foreign] == ["fk_xapi_outbox_lrs_id_xapi_lrs"]
    indexes = {index["name"] for index in inspector.get_indexes("xapi_outbox")}
    assert {"ix_xapi_outbox_due", "ix_xapi_outbox_statement_id"} <= indexes


def test_lrs_password_is_stored_encrypted_and_needs_the_secret(engine: Engine) -> None:
    with engine.begin() as conn:
        lrs_id = add_lrs(
            conn,
            name="region",
            endpoint="https://lrs.example.fr/xAPI/",
            username="socle",
            password="pa55-w0rd-unique",
            secret="app-secret",
        )
    with engine.connect() as conn:
        stored = conn.execute(select(lrs_table.c.password_encrypted)).scalar_one()
        assert "pa55-w0rd-unique" not in stored
        target = load_lrs(conn, lrs_id, "app-secret")
        assert target is not None
        assert (target.username, target.password) == ("socle", "pa55-w0rd-unique")
        assert target.statements_url == "https://lrs.example.fr/xAPI/statements"
        assert [record.name for record in list_lrs(conn)] == ["region"]
        with pytest.raises(LrsSecretError, match="SOCLE_SECRET_KEY has changed"):
            load_lrs(conn, lrs_id, "another-secret")
        assert load_lrs(conn, lrs_id + 1, "app-secret") is None


def test_status_counts_per_lrs_and_hints_when_no_lrs_is_configured(
    engine: Engine, clock: Clock
) -> None:
    statements = samples.full_attempt()
    with engine.begin() as conn:
        lrs_id = add_lrs(
            conn, name="region", endpoint="https://l/x", username="u", password="p", secret="s"
        )
        enqueue(conn, statements[:5], now=clock() - timedelta(minutes=30))
        enqueue(conn, statements[5:7], lrs_id=lrs_id, now=clock())
        ids = list(conn.execute(select(outbox_table.c.id).order_by(outbox_table.c.id)).scalars())
        conn.execute(
            update(outbox_table)
            .where(outbox_table.c.id == ids[0])
            .values(status="dead", last_status_code=400, last_error="HTTP 400: bad verb")
        )
        conn.execute(
            update(outbox_table)
            .where(outbox_table.c.id == ids[1])
            .values(status="delivered", delivered_at=clock())
        )
        conn.execute(
            update(outbox_table)
            .where(outbox_table.c.id == ids[5])
            .values(attempts=3, last_status_code=401, last_error="the LRS refused the credentials")
        )
    with engine.connect() as conn:
        status = outbox_status(conn, LrsSettings(), now=clock())
    default, region = status.lrs
    assert (default.name, default.pending, default.delivered, default.dead) == ("default", 3, 1, 1)
    assert default.endpoint is None
    assert default.oldest_pending_age is not None
    assert timedelta(minutes=29) < default.oldest_pending_age < timedelta(minutes=31)
    assert (region.name, region.pending, region.retrying) == ("region", 2, 1)
    assert region.credentials_rejected
    assert not default.credentials_rejected
    hints = " ".join(status.hints)
    assert "No default LRS is configured" in hints
    assert "refuses our credentials" in hints
    assert [letter.error for letter in status.dead_letters] == ["HTTP 400: bad verb"]

    with engine.begin() as conn:
        assert retry_dead_letters(conn, [ids[1]], now=clock()) == 0  # delivered, not dead
        assert retry_dead_letters(conn, now=clock()) == 1
    with engine.connect() as conn:
        row = conn.execute(select(outbox_table).where(outbox_table.c.id == ids[0])).one()
    assert row.status == "pending"
    assert row.last_error == "HTTP 400: bad verb"  # kept until the next attempt


@pytest.mark.parametrize(
    ("status", "size", "verdict"),
    [
        (200, 10, Verdict.DELIVERED),
        (204, 1, Verdict.DELIVERED),
        (409, 1, Verdict.CONFLICT),
        (409, 5, Verdict.SPLIT),
        (400, 5, Verdict.SPLIT),
        (413, 5, Verdict.SPLIT),
        (400, 1, Verdict.DEAD),
        (404, 1, Verdict.DEAD),
        (401, 5, Verdict.CREDENTIALS),
        (403, 1, Verdict.CREDENTIALS),
        (408, 1, Verdict.RETRY),
        (429, 5, Verdict.RETRY),
        (500, 5, Verdict.RETRY),
        (503, 1, Verdict.RETRY),
        (302, 5, Verdict.RETRY),
    ],
)
def test_classification_of_lrs_answers(status: int, size: int, verdict: Verdict) -> None:
    assert classify(status, size) is verdict


def test_retry_after_in_seconds_or_http_date() -> None:
    now = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Mon, 02 Mar 2026 09:01:30 GMT", now) == 90.0
    assert parse_retry_after("Mon, 02 Mar 2026 08:00:00 GMT", now) == 0.0
    assert parse_retry_after("9999999", now) == 86_400.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    settings = LrsSettings(backoff_base=1.0, backoff_max=60.0)
    rng = random.Random(7)
    for attempts, ceiling in [(1, 1.0), (2, 2.0), (4, 8.0), (7, 60.0), (50, 60.0)]:
        delays = [backoff_delay(attempts, settings, rng) for _ in range(200)]
        assert all(0.0 <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling * 0.8  # jitter spreads over the whole range
        assert min(delays) < ceiling * 0.2


def test_settings_from_environment() -> None:
    settings = LrsSettings.from_env(
        {
            "SOCLE_LRS_ENDPOINT": "https://lrs.example.fr/xAPI/",
            "SOCLE_LRS_USERNAME": "socle",
            "SOCLE_LRS_PASSWORD": "pw",
            "SOCLE_LRS_BATCH_SIZE": "25",
            "SOCLE_LRS_READ_TIMEOUT": "4.5",
            "SOCLE_LRS_CONNECT_TIMEOUT": "",
        }
    )
    assert settings.endpoint == "https://lrs.example.fr/xAPI/"
    assert (settings.batch_size, settings.timeouts) == (25, (3.05, 4.5))
    assert LrsSettings.from_env({}).endpoint is None
    with pytest.raises(ValueError, match="SOCLE_LRS_BATCH_SIZE must be a number"):
        LrsSettings.from_env({"SOCLE_LRS_BATCH_SIZE": "many"})
    with pytest.raises(ValueError, match="SOCLE_LRS_ENDPOINT must be an http"):
        LrsSettings.from_env({"SOCLE_LRS_ENDPOINT": "lrs.example.fr"})
    with pytest.raises(ValueError, match="BATCH_SIZE must be at least 1"):
        LrsSettings.from_env({"SOCLE_LRS_BATCH_SIZE": "0"})
