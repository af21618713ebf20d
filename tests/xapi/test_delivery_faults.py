"""An LRS that answers badly never makes a statement lost or falsely delivered.

Each fault comes from a real HTTP server on 127.0.0.1 (:class:`FaultProxy` in front of the real
LRS): a 200 that is not an xAPI answer, a 200 with other ids, an answer that trickles forever,
a 409 over the same or a different stored statement, and a worker process stopped by SIGTERM
in the middle of a trickled answer. Time is the injected clock: the trickle moves it, so the
request deadline is reached without waiting for it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from tests.xapi import samples
from tests.xapi.conftest import Clock, outbox_rows, outbox_statuses, settings_for
from tests.xapi.lrs_peer import REPO, LrsProcess
from tests.xapi.proxy import Fault, FaultProxy
from xapi.builders import StatementBuilder
from xapi.commands import render_status
from xapi.delivery import LrsSettings, Worker, check_post_answer
from xapi.outbox import LrsTarget, add_lrs, enqueue, outbox_table
from xapi.status import outbox_status

pytestmark = pytest.mark.lrs

CAPTIVE_PORTAL = "<html>not json {{{"


def _statements(count: int) -> tuple[uuid.UUID, list[dict[str, Any]]]:
    registration = uuid.uuid4()
    statements = samples.full_attempt(StatementBuilder(samples.BASE_URL), registration)
    return registration, statements[:count]


def _enqueue(engine: Engine, statements: list[dict[str, Any]], now: datetime) -> None:
    with engine.begin() as conn:
        enqueue(conn, statements, now=now)


def _monotonic(clock: Clock) -> Callable[[], float]:
    return lambda: clock().timestamp()


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (200, CAPTIVE_PORTAL, "not JSON"),
        (200, '{"ok": true}', "not a JSON array"),
        (200, "[]", "other ids"),
        (200, '["00000000-0000-0000-0000-000000000000"]', "other ids"),
        (204, "", "HTTP 204"),
        (201, '["a"]', "HTTP 201"),
    ],
)
def test_a_2xx_is_an_xapi_answer_only_with_the_ids_sent(
    status: int, body: str, problem: str
) -> None:
    assert problem in (check_post_answer(status, body, ["a"]) or "")


def test_the_ids_sent_in_order_make_the_answer() -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    assert check_post_answer(200, json.dumps(ids), ids) is None
    assert check_post_answer(200, json.dumps([i.upper() for i in ids]), ids) is None
    assert check_post_answer(200, json.dumps(ids[::-1]), ids) is not None


@pytest.mark.parametrize(
    "answer",
    [
        Fault(status=200, headers={"Content-Type": "application/json"}, body=CAPTIVE_PORTAL),
        Fault(status=200, headers={"Content-Type": "application/json"}, body='["x"]'),
        Fault(status=204),
    ],
    ids=["non-json-200", "wrong-ids-200", "204-to-post"],
)
def test_a_2xx_that_is_not_an_xapi_answer_is_retried_then_dead_lettered(
    answer: Fault, engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    registration, statements = _statements(3)
    _enqueue(engine, statements, clock())
    proxy.default_fault = answer
    settings = settings_for(proxy.endpoint, invalid_answer_limit=3, backoff_max=5.0)
    with Worker(engine, settings, clock=clock) as worker:
        first = worker.run_once()
        assert (first.delivered, first.retried, first.dead) == (0, 3, 0)
        assert outbox_statuses(engine) == {"pending": 3}
        with engine.connect() as conn:
            status = outbox_status(conn, settings, now=clock())
        assert status.lrs[0].retrying == 3
        assert "not an xAPI answer" in (status.lrs[0].last_error or "")
        clock.advance(10)
        assert worker.run_once().retried == 3
        clock.advance(10)
        third = worker.run_once()
    assert (third.delivered, third.dead) == (0, 3)
    rows = outbox_rows(engine)
    assert {row.status for row in rows} == {"dead"}
    assert all("not an xAPI answer" in (row.last_error or "") for row in rows)
    if answer.body:
        assert answer.body in (rows[0].last_error or "")  # the endpoint's answer is kept
    assert lrs.registration_ids(registration) == []
    with engine.connect() as conn:
        text = render_status(outbox_status(conn, settings, now=clock()))
    assert "3 statements were refused" in text


def test_an_endless_trickle_hits_the_request_deadline(
    engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    registration, statements = _statements(2)
    _enqueue(engine, statements, clock())
    # every byte the LRS trickles moves the worker's clock one second
    proxy.faults.append(Fault(status=200, trickle=True, on_byte=lambda: clock.advance(1)))
    settings = settings_for(proxy.endpoint, request_deadline=5.0, read_timeout=30.0)
    with Worker(engine, settings, clock=clock, monotonic=_monotonic(clock)) as worker:
        report = worker.run_once()
        assert (report.delivered, report.retried) == (0, 2)
        rows = outbox_rows(engine)
        assert {row.status for row in rows} == {"pending"}
        assert all(row.claim_token is None for row in rows)
        assert "SOCLE_LRS_REQUEST_DEADLINE" in (rows[0].last_error or "")
        clock.advance(120)  # past any backoff: the next pass reaches the real LRS
        assert worker.run_once().delivered == 2
    assert sorted(lrs.registration_ids(registration)) == sorted(s["id"] for s in statements)


def test_a_worker_stopped_mid_request_releases_its_rows(
    engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    """``interrupt`` from another thread (as the SIGTERM handler does) cuts a trickle."""
    registration, statements = _statements(2)
    _enqueue(engine, statements, clock())
    with Worker(engine, settings_for(proxy.endpoint), clock=clock) as worker:
        proxy.faults.append(Fault(status=200, trickle=True, on_byte=worker.interrupt))
        report = worker.run_once()
    assert report.delivered == 0
    rows = outbox_rows(engine)
    assert [(row.status, row.attempts, row.claim_token) for row in rows] == [
        ("pending", 0, None)
    ] * 2
    assert lrs.registration_ids(registration) == []


def test_409_over_the_same_stored_statement_is_delivered(
    engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    registration, statements = _statements(1)
    _enqueue(engine, statements, clock())
    settings = settings_for(proxy.endpoint)
    with Worker(engine, settings, clock=clock) as worker:
        assert worker.run_once().delivered == 1
        with engine.begin() as conn:  # as if the mark had been lost
            conn.execute(update(outbox_table).values(status="pending", delivered_at=None))
        # an LRS that answers 409 to any resend (the spec allows it); the stored copy has its
        # own stored, authority and version, which the comparison ignores
        proxy.faults.append(Fault(status=409, body='{"message":"conflict"}'))
        report = worker.run_once()
    assert (report.delivered, report.dead) == (1, 0)
    (row,) = outbox_rows(engine)
    assert (row.status, row.last_status_code) == ("delivered", 409)
    assert lrs.registration_ids(registration) == [statements[0]["id"]]


def test_409_over_a_different_stored_statement_is_a_dead_letter(
    engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    _registration, statements = _statements(1)
    _enqueue(engine, statements, clock())
    with Worker(engine, settings_for(proxy.endpoint), clock=clock) as worker:
        assert worker.run_once().delivered == 1
        changed = json.loads(json.dumps(statements[0]))
        changed["result"] = {"completion": True}
        _enqueue(engine, [changed], clock())
        report = worker.run_once()
    assert (report.delivered, report.dead) == (0, 1)
    dead = outbox_rows(engine)[1]
    assert (dead.status, dead.last_status_code) == ("dead", 409)
    assert "different statement" in (dead.last_error or "")
    assert "result" in (dead.last_error or "")
    assert lrs.statement(statements[0]["id"]).get("result") == statements[0].get("result")


def test_status_shows_rows_in_flight_apart(engine: Engine, clock: Clock) -> None:
    _registration, statements = _statements(3)
    _enqueue(engine, statements, clock())
    first = outbox_rows(engine)[0].id
    with engine.begin() as conn:
        conn.execute(
            update(outbox_table)
            .where(outbox_table.c.id == first)
            .values(claim_token=str(uuid.uuid4()), lease_expires_at=clock())
        )
    settings = settings_for("http://127.0.0.1:9/xAPI/")
    with engine.connect() as conn:
        status = outbox_status(conn, settings, now=clock())
    assert (status.lrs[0].pending, status.lrs[0].in_flight) == (3, 1)
    lines = render_status(status).splitlines()
    assert lines[0].split()[2:4] == ["pending", "in-flight"]
    assert lines[1].split()[2:4] == ["2", "1"]
    clock.advance(1)  # the lease expired: the row is waiting again, not in flight
    with engine.connect() as conn:
        assert outbox_status(conn, settings, now=clock()).in_flight == 0


def test_sigterm_stops_a_worker_stuck_in_a_trickled_answer(
    database_url: str, engine: Engine, lrs: LrsProcess, proxy: FaultProxy
) -> None:
    registration, statements = _statements(4)
    # the worker runs in another process, on the real clock: the rows are due now
    _enqueue(engine, statements, datetime.now(UTC))
    proxy.default_fault = Fault(status=200, trickle=True, trickle_interval=0.5)
    env = {
        **os.environ,
        "XAPI_TEST_DATABASE_URL": database_url,
        "SOCLE_LRS_ENDPOINT": proxy.endpoint,
        "SOCLE_LRS_USERNAME": "socle",
        "SOCLE_LRS_PASSWORD": "secret",
        "SOCLE_LRS_LEASE_SECONDS": "600",
        "SOCLE_LRS_REQUEST_DEADLINE": "600",
        "SOCLE_LRS_READ_TIMEOUT": "60",
        "SOCLE_LRS_POLL_INTERVAL": "0.1",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.xapi.run_worker", "worker"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert proxy.trickling.wait(timeout=60), "the worker never reached the trickle"
        worker.send_signal(signal.SIGTERM)
        _out, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
    assert worker.returncode == 0, err.decode()
    assert b"released to pending" in err
    rows = outbox_rows(engine)
    assert [(row.status, row.claim_token, row.attempts) for row in rows] == [
        ("pending", None, 0)
    ] * 4  # not delivered, not claimed: the next worker sends them
    assert proxy.trickle_ended.wait(timeout=10)  # the connection was closed, not left open
    assert lrs.registration_ids(registration) == []
    # and the next worker does deliver them
    proxy.default_fault = None
    env["SOCLE_LRS_REQUEST_DEADLINE"] = "30"
    done = subprocess.run(
        [sys.executable, "-m", "tests.xapi.run_worker", "worker", "--once"],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert b"4 delivered" in done.stdout, done.stdout
    assert sorted(lrs.registration_ids(registration)) == sorted(s["id"] for s in statements)


def test_the_xapi_version_is_a_setting_per_lrs() -> None:
    settings = LrsSettings.from_env(
        {
            "SOCLE_LRS_ENDPOINT": "http://127.0.0.1:9/xAPI/",
            "SOCLE_LRS_VERSION": "2.0.0",
            "SOCLE_LRS_VERSIONS": "region=2.0.0, ville=1.0.3",
        }
    )
    assert settings.version == "2.0.0"
    assert settings.named_versions() == {"region": "2.0.0", "ville": "1.0.3"}
    named = LrsTarget(7, "autre", "http://127.0.0.1:9/", "u", "p")
    assert settings.version_of(named) == "1.0.3"  # unlisted named LRSs speak 1.0.3
    with pytest.raises(ValueError, match=r"SOCLE_LRS_VERSION must be one of 1\.0\.3, 2\.0\.0"):
        LrsSettings.from_env({"SOCLE_LRS_VERSION": "1.0"})
    with pytest.raises(ValueError, match="SOCLE_LRS_VERSIONS"):
        LrsSettings.from_env({"SOCLE_LRS_VERSIONS": "region:2.0.0"})


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_each_version_header_against_the_test_lrs(
    version: str, engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    """xapi-statements 5.0.1 speaks 1.0.x only: a 2.0.0 header is refused with a 400, which
    is our configuration's fault, so the statements stay pending and the status says why."""
    registration, statements = _statements(3)
    _enqueue(engine, statements, clock())
    settings = settings_for(proxy.endpoint, version=version)
    with Worker(engine, settings, clock=clock) as worker:
        report = worker.run_once()
    assert set(proxy.versions) == {version}
    if version == "1.0.3":
        assert report.delivered == 3
        assert len(lrs.registration_ids(registration)) == 3
        return
    assert (report.delivered, report.retried, report.dead) == (0, 3, 0)
    assert proxy.post_count == 1  # not split: the batch is fine, the header is not
    assert outbox_statuses(engine) == {"pending": 3}
    with engine.connect() as conn:
        status = outbox_status(conn, settings, now=clock())
    assert any("refuses the xAPI version" in hint for hint in status.hints)
    assert lrs.registration_ids(registration) == []


def test_a_named_lrs_gets_its_own_version(
    engine: Engine, lrs: LrsProcess, proxy: FaultProxy, clock: Clock
) -> None:
    _registration, statements = _statements(2)
    with engine.begin() as conn:
        lrs_id = add_lrs(
            conn,
            name="region",
            endpoint=proxy.endpoint,
            username="socle",
            password="secret",
            secret="test-secret",
        )
        enqueue(conn, statements[:1], lrs_id=lrs_id, now=clock())
        enqueue(conn, statements[1:], now=clock())
    settings = settings_for(proxy.endpoint, version="1.0.3", versions="region=2.0.0")
    with Worker(engine, settings, clock=clock, secret="test-secret") as worker:
        report = worker.run_once()
    assert proxy.versions == ["1.0.3", "2.0.0"]  # the default LRS first, then "region"
    assert (report.delivered, report.retried) == (1, 1)
