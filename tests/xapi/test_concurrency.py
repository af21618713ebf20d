"""Two workers at once on one outbox: each statement is sent once, all are delivered.

On PostgreSQL (``SOCLE_TEST_DATABASE_URL``) claims use ``FOR UPDATE SKIP LOCKED`` and both
workers make progress side by side; on SQLite the database lock serialises the claims, and the
guarantee that matters — no statement sent twice — must hold as well.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from tests.xapi import samples
from tests.xapi.conftest import Clock, settings_for
from tests.xapi.lrs_peer import LrsProcess
from tests.xapi.proxy import Fault, FaultProxy
from xapi.builders import StatementBuilder
from xapi.delivery import PassReport, Worker
from xapi.outbox import enqueue, outbox_table

pytestmark = pytest.mark.lrs


def _run_two_workers(engine: Engine, endpoint: str, clock: Clock) -> list[PassReport]:
    barrier = threading.Barrier(2)
    reports: list[PassReport] = []
    errors: list[BaseException] = []

    def work(name: str) -> None:
        with Worker(engine, settings_for(endpoint, batch_size=5), clock=clock, worker_id=name) as w:
            barrier.wait()
            try:
                reports.append(w.run_once())
            except BaseException as exc:  # surfaced in the test thread below
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return reports


def test_two_workers_never_send_a_statement_twice(
    engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    builder = StatementBuilder(samples.BASE_URL)
    registrations = [uuid.uuid4() for _ in range(5)]
    statements = [
        statement
        for registration in registrations
        for statement in samples.full_attempt(builder, registration)
    ]
    with engine.begin() as conn:
        enqueue(conn, statements, now=clock())
    proxy.default_fault = Fault(delay=0.05)  # requests overlap: claims really compete

    reports = _run_two_workers(engine, proxy.endpoint, clock)
    for _ in range(5):  # on SQLite a claim may meet the other's lock and end its pass early
        with engine.connect() as conn:
            left = conn.execute(
                select(func.count()).where(outbox_table.c.status != "delivered")
            ).scalar_one()
        if not left:
            break
        reports += _run_two_workers(engine, proxy.endpoint, clock)

    assert left == 0
    sends = Counter(proxy.sent_ids())
    assert len(sends) == 60
    assert set(sends.values()) == {1}, "a statement was sent twice"
    assert sum(report.delivered for report in reports) == 60
    if engine.dialect.name == "postgresql":
        assert all(report.delivered > 0 for report in reports[:2]), "one worker did nothing"
    stored = [sid for registration in registrations for sid in lrs.registration_ids(registration)]
    assert sorted(stored) == sorted(statement["id"] for statement in statements)


def test_postgresql_is_exercised_when_configured(engine: Engine) -> None:
    if not os.environ.get("SOCLE_TEST_DATABASE_URL"):
        pytest.skip("SOCLE_TEST_DATABASE_URL is not set: the concurrency test ran on SQLite")
    assert engine.dialect.name == "postgresql"
