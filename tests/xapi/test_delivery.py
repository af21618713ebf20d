"""Delivery to the real LRS (Node xapi-statements), with faults injected by a real proxy.

Every test uses its own attempt UUID (the xAPI registration), so its statements can be
queried back from the session's LRS without seeing other tests' statements.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from tests.xapi import samples
from tests.xapi.conftest import Clock, outbox_rows, outbox_statuses, settings_for
from tests.xapi.lrs_peer import LrsProcess
from tests.xapi.proxy import Fault, FaultProxy
from tests.xapi.test_builders import kinds
from xapi.builders import StatementBuilder
from xapi.delivery import LrsSettings, Worker
from xapi.outbox import add_lrs, enqueue, outbox_table
from xapi.status import outbox_status, retry_dead_letters

pytestmark = pytest.mark.lrs


def _statements(count: int | None = None) -> tuple[uuid.UUID, list[dict[str, Any]]]:
    registration = uuid.uuid4()
    statements = samples.full_attempt(StatementBuilder(samples.BASE_URL), registration)
    return registration, statements[:count] if count else statements


def _enqueue(
    engine: Engine, clock: Clock, statements: list[dict[str, Any]], **kwargs: Any
) -> None:
    """Rows are created on the test's clock, the one the worker reads: never the real time."""
    with engine.begin() as conn:
        enqueue(conn, statements, now=clock(), **kwargs)


def _worker(engine: Engine, settings: LrsSettings, clock: Clock, **kwargs: Any) -> Worker:
    return Worker(engine, settings, clock=clock, **kwargs)


def test_statements_reach_the_lrs_exactly_once_in_batches(
    engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    registration, statements = _statements()
    _enqueue(engine, clock, statements)
    with _worker(engine, settings_for(proxy.endpoint, batch_size=5), clock) as worker:
        report = worker.run_once()
        assert (report.delivered, report.requests, report.dead) == (12, 3, 0)
        assert [len(batch) for batch in proxy.posted_ids] == [5, 5, 2]
        assert worker.run_once().requests == 0  # nothing left to send
    assert outbox_statuses(engine) == {"delivered": 12}
    stored = lrs.statements(registration=str(registration))
    assert sorted(item["id"] for item in stored) == sorted(item["id"] for item in statements)
    by_id = {item["id"]: item for item in stored}
    for sent in statements:  # the LRS kept what we sent (plus its own stored/authority)
        kept = by_id[sent["id"]]
        assert {key: kept[key] for key in sent} == sent
        assert kept["version"] == "1.0.0"


def test_the_lrs_accepts_every_statement_kind_as_new(
    engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    statements = {name: kinds(uuid.uuid4())[name] for name in kinds()}
    _enqueue(engine, clock, list(statements.values()))
    with _worker(engine, settings_for(proxy.endpoint, batch_size=1), clock) as worker:
        report = worker.run_once()
    assert (report.delivered, report.dead, report.requests) == (len(statements), 0, len(statements))
    assert {row.last_status_code for row in outbox_rows(engine)} == {200}  # no 409: all new
    for statement in statements.values():
        stored = lrs.statement(statement["id"])
        assert {key: stored[key] for key in statement} == statement


def test_the_reporting_queries_of_the_profile_answer_from_the_lrs(
    engine: Engine, lrs: LrsProcess, clock: Clock
) -> None:
    registration, statements = _statements()
    _enqueue(engine, clock, statements)
    with _worker(engine, settings_for(lrs.endpoint), clock) as worker:
        assert worker.run_once().delivered == 12
    parcours = f"{samples.BASE_URL}/xapi/activities/parcours/socle-commun"
    completed = [
        item
        for item in lrs.statements(
            verb="http://adlnet.gov/expapi/verbs/completed", activity=parcours
        )
        if item["context"]["registration"] == str(registration)
    ]
    assert len(completed) == 1
    levels = completed[0]["result"]["extensions"][f"{samples.BASE_URL}/xapi/extensions/levels"]
    assert levels == {"2.1": 3, "4.1": 2}
    answered = lrs.statements(
        registration=str(registration),
        activity=parcours,
        related_activities="true",
        verb="http://adlnet.gov/expapi/verbs/answered",
    )
    assert len(answered) == 6


def test_a_resend_of_delivered_statements_is_harmless(
    engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    registration, statements = _statements()
    _enqueue(engine, clock, statements)
    _enqueue(engine, clock, statements[:2])  # the same statements enqueued twice
    with _worker(engine, settings_for(proxy.endpoint), clock) as worker:
        assert worker.run_once().delivered == 12  # one item per statement id
        assert len(proxy.posted_ids[0]) == 12
        with engine.begin() as conn:  # as if the marks had been lost: send everything again
            conn.execute(update(outbox_table).values(status="pending", delivered_at=None))
        assert worker.run_once().delivered == 12
    assert outbox_statuses(engine) == {"delivered": 14}
    assert len(proxy.sent_ids()) == 24
    assert sorted(lrs.registration_ids(registration)) == sorted(s["id"] for s in statements)


def test_outage_statements_pile_up_then_are_all_delivered_once(
    engine: Engine, lrs: LrsProcess, clock: Clock
) -> None:
    registration, statements = _statements()
    settings = settings_for(lrs.endpoint, batch_size=4, connect_timeout=0.5)
    lrs.stop()
    try:
        _enqueue(engine, clock, statements[:6])
        with _worker(engine, settings, clock) as worker:
            first = worker.run_once()
            # the LRS is down: the pass stops at the first batch, the rest stays untouched
            assert (first.delivered, first.retried, first.requests) == (0, 4, 1)
            _enqueue(engine, clock, statements[6:])
            clock.advance(61)
            second = worker.run_once()
            assert second.delivered == 0
            rows = outbox_rows(engine)
            assert {row.status for row in rows} == {"pending"}
            assert [row.attempts for row in rows] == [2] * 4 + [0] * 8
            assert all("network error" in (row.last_error or "") for row in rows[:4])
            with engine.connect() as conn:
                status = outbox_status(conn, settings, now=clock())
            assert status.pending == 12
    finally:
        lrs.start()
    with _worker(engine, settings, clock) as worker:
        clock.advance(61)
        third = worker.run_once()
    assert (third.delivered, third.requests) == (12, 3)
    assert outbox_statuses(engine) == {"delivered": 12}
    ids = lrs.registration_ids(registration)
    assert sorted(ids) == sorted(item["id"] for item in statements)


def test_server_errors_are_retried_with_capped_exponential_backoff(
    engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    registration, statements = _statements(4)
    _enqueue(engine, clock, statements)
    proxy.faults.extend(
        [Fault(status=500, body='{"message":"boom"}'), Fault(status=503), Fault(status=502)]
    )
    settings = settings_for(proxy.endpoint, backoff_base=2.0, backoff_max=5.0)
    with _worker(engine, settings, clock) as worker:
        for attempt, ceiling, code in [(1, 2.0, 500), (2, 4.0, 503), (3, 5.0, 502)]:
            report = worker.run_once()
            assert (report.retried, report.delivered) == (4, 0)
            rows = outbox_rows(engine)
            assert {row.attempts for row in rows} == {attempt}
            assert {row.last_status_code for row in rows} == {code}
            assert {row.status for row in rows} == {"pending"}
            wait = (rows[0].next_attempt_at - clock()).total_seconds()
            assert 0.0 <= wait <= ceiling
            clock.advance(ceiling + 0.01)
        assert worker.run_once().delivered == 4
    assert proxy.post_count == 4
    assert sorted(lrs.registration_ids(registration)) == sorted(s["id"] for s in statements)


def test_429_honours_retry_after(
    engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    registration, statements = _statements(3)
    _enqueue(engine, clock, statements)
    proxy.faults.append(Fault(status=429, headers={"Retry-After": "120"}, body="slow down"))
    with _worker(engine, settings_for(proxy.endpoint, backoff_max=10.0), clock) as worker:
        assert worker.run_once().retried == 3
        row = outbox_rows(engine)[0]
        assert (row.last_status_code, row.last_error) == (429, "HTTP 429: slow down")
        assert (row.next_attempt_at - clock()).total_seconds() >= 120
        clock.advance(60)
        assert worker.run_once().requests == 0  # not before Retry-After
        clock.advance(61)
        assert worker.run_once().delivered == 3
    assert len(lrs.registration_ids(registration)) == 3


def test_a_slow_lrs_hits_the_read_timeout_and_the_resend_is_harmless(
    engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    registration, statements = _statements(5)
    _enqueue(engine, clock, statements)
    # the LRS stores the batch, but its answer comes after the worker stopped waiting
    proxy.faults.append(Fault(delay_after_forward=4.0))
    settings = settings_for(proxy.endpoint, read_timeout=0.5)
    with _worker(engine, settings, clock) as worker:
        report = worker.run_once()
        assert report.retried == 5  # without the read timeout the late answer would count
        assert "timeout" in (outbox_rows(engine)[0].last_error or "")
        assert len(lrs.registration_ids(registration)) == 5  # stored despite the timeout
        clock.advance(2)
        assert worker.run_once().delivered == 5
    assert sorted(lrs.registration_ids(registration)) == sorted(s["id"] for s in statements)


def test_one_bad_statement_is_isolated_and_kept_as_a_dead_letter(
    engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    registration, statements = _statements(8)
    bad = json.loads(json.dumps(statements[3]))
    bad["verb"]["id"] = "answered"  # not an IRI: a strict LRS refuses it
    statements[3] = bad
    _enqueue(engine, clock, statements)
    with _worker(engine, settings_for(proxy.endpoint), clock) as worker:
        report = worker.run_once()
    assert (report.delivered, report.dead) == (7, 1)
    assert report.requests > 2  # the batch was split to find the culprit
    rows = {row.statement_id: row for row in outbox_rows(engine)}
    dead = rows[bad["id"]]
    assert (dead.status, dead.last_status_code) == ("dead", 400)
    assert "verb.id" in (dead.last_error or "")  # the LRS's own message is kept
    assert sorted(lrs.registration_ids(registration)) == sorted(
        s["id"] for s in statements if s is not bad
    )
    with engine.connect() as conn:
        status = outbox_status(conn, settings_for(proxy.endpoint), now=clock())
    assert [letter.statement_id for letter in status.dead_letters] == [bad["id"]]
    with engine.begin() as conn:
        assert retry_dead_letters(conn, now=clock()) == 1
    with _worker(engine, settings_for(proxy.endpoint), clock) as worker:
        assert worker.run_once().dead == 1  # still refused, still kept


def test_a_conflicting_statement_does_not_block_its_batch(
    engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    """The LRS answers 409 for a whole batch when one id exists with other content."""
    registration, statements = _statements(6)
    _enqueue(engine, clock, statements[:1])
    with _worker(engine, settings_for(proxy.endpoint), clock) as worker:
        assert worker.run_once().delivered == 1
        changed = json.loads(json.dumps(statements[0]))
        changed["timestamp"] = "2026-03-02T10:00:00.000Z"
        _enqueue(engine, clock, [changed, *statements[1:]])
        report = worker.run_once()
    # the other five are delivered; the changed one is not the stored statement: dead letter
    assert (report.delivered, report.dead) == (5, 1)
    conflict = [row for row in outbox_rows(engine) if row.last_status_code == 409]
    assert [row.status for row in conflict] == ["dead"]
    assert "different statement" in (conflict[0].last_error or "")
    assert sorted(lrs.registration_ids(registration)) == sorted(s["id"] for s in statements)


def test_wrong_credentials_keep_statements_pending_and_say_so(
    engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    registration, statements = _statements(4)
    _enqueue(engine, clock, statements)
    good = base64.b64encode(b"socle:right-password").decode()
    proxy.required_authorization = f"Basic {good}"
    wrong = settings_for(proxy.endpoint, password="wrong-password")
    with _worker(engine, wrong, clock) as worker:
        report = worker.run_once()
    assert report.credentials_rejected == ["default"]
    assert outbox_statuses(engine) == {"pending": 4}
    with engine.connect() as conn:
        status = outbox_status(conn, wrong, now=clock())
    assert status.lrs[0].credentials_rejected
    assert status.dead == 0
    assert any("refuses our credentials" in hint for hint in status.hints)
    clock.advance(61)
    with _worker(engine, settings_for(proxy.endpoint, password="right-password"), clock) as w:
        assert w.run_once().delivered == 4
    assert len(lrs.registration_ids(registration)) == 4


def test_named_lrs_with_encrypted_password(engine: Engine, lrs: LrsProcess, clock: Clock) -> None:
    registration, statements = _statements(3)
    with engine.begin() as conn:
        lrs_id = add_lrs(
            conn,
            name="region",
            endpoint=lrs.endpoint,
            username="socle",
            password="pw",
            secret="app-secret",
        )
        enqueue(conn, statements, lrs_id=lrs_id, now=clock())
    no_default = LrsSettings()
    with _worker(engine, no_default, clock, secret="other-secret") as worker:
        report = worker.run_once()
        assert (report.requests, report.unconfigured) == (0, 3)
    with _worker(engine, no_default, clock, secret="app-secret") as worker:
        assert worker.run_once().delivered == 3
    assert len(lrs.registration_ids(registration)) == 3


def test_without_any_lrs_the_outbox_just_fills(engine: Engine, clock: Clock) -> None:
    _, statements = _statements(5)
    _enqueue(engine, clock, statements)
    with _worker(engine, LrsSettings(), clock) as worker:
        report = worker.run_once()
    assert (report.requests, report.unconfigured) == (0, 5)
    assert outbox_statuses(engine) == {"pending": 5}
    assert [row.attempts for row in outbox_rows(engine)] == [0] * 5
