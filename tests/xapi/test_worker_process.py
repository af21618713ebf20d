"""A worker process SIGKILLed mid-batch and started again: nothing lost, nothing duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from tests.xapi import samples
from tests.xapi.lrs_peer import REPO, LrsProcess
from tests.xapi.proxy import Fault, FaultProxy
from xapi.builders import StatementBuilder
from xapi.outbox import enqueue, outbox_table

pytestmark = pytest.mark.lrs

BATCH = 10


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def start_worker(
    database_url: str, proxy: FaultProxy
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "XAPI_TEST_DATABASE_URL": database_url,
            "SOCLE_LRS_ENDPOINT": proxy.endpoint,
            "SOCLE_LRS_USERNAME": "socle",
            "SOCLE_LRS_PASSWORD": "secret",
            "SOCLE_LRS_BATCH_SIZE": str(BATCH),
            "SOCLE_LRS_LEASE_SECONDS": "2",
            "SOCLE_LRS_POLL_INTERVAL": "0.1",
            "SOCLE_LRS_READ_TIMEOUT": "60",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.xapi.run_worker", "worker"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _counts(engine: Engine) -> dict[str, Any]:
    table = outbox_table.c
    with engine.connect() as conn:
        by_status = dict(
            conn.execute(select(table.status, func.count()).group_by(table.status)).all()
        )
        claimed = conn.execute(
            select(func.count()).where(table.status == "pending", table.claim_token.is_not(None))
        ).scalar_one()
    return {"by_status": by_status, "claimed": claimed}


@pytest.mark.parametrize("moment", ["claimed-not-sent", "sent-not-marked"])
def test_sigkill_mid_batch_then_restart_loses_and_duplicates_nothing(
    moment: str,
    engine: Engine,
    lrs: LrsProcess,
    proxy: FaultProxy,
    start_worker: Callable[[], subprocess.Popen[bytes]],
) -> None:
    registration = uuid.uuid4()
    builder = StatementBuilder(samples.BASE_URL)
    statements = [
        statement
        for index in range(3)
        for statement in samples.full_attempt(
            builder, uuid.uuid5(registration, str(index)), sub=str(registration)
        )
    ][:30]
    with engine.begin() as conn:
        enqueue(conn, statements)
    sent_first = [statement["id"] for statement in statements[:BATCH]]

    if moment == "claimed-not-sent":
        # the LRS never sees the first batch: the proxy holds it, then refuses it
        proxy.faults.append(Fault(delay=600, status=503))
        worker = start_worker()
        _wait_for(lambda: proxy.post_count >= 1, 120, "the first POST")
    else:
        # the LRS stores the first batch, its answer is held until the worker is dead
        proxy.faults.append(Fault(delay_after_forward=600))
        worker = start_worker()
        _wait_for(lambda: proxy.forwarded_posts >= 1, 120, "the first batch to be stored")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)

    counts = _counts(engine)
    assert counts == {"by_status": {"pending": 30}, "claimed": BATCH}
    ids_in_lrs = [item["id"] for item in lrs.statements(agent=_agent(registration))]
    assert len(ids_in_lrs) == (0 if moment == "claimed-not-sent" else BATCH)

    restarted = start_worker()
    _wait_for(lambda: _counts(engine)["by_status"] == {"delivered": 30}, 180, "every row delivered")
    restarted.send_signal(signal.SIGTERM)
    assert restarted.wait(timeout=60) == 0  # a graceful stop on SIGTERM

    ids_in_lrs = [item["id"] for item in lrs.statements(agent=_agent(registration))]
    assert sorted(ids_in_lrs) == sorted(statement["id"] for statement in statements)
    assert len(set(ids_in_lrs)) == 30
    sends = Counter(proxy.sent_ids())
    assert {sid: sends[sid] for sid in sent_first} == dict.fromkeys(sent_first, 2)
    assert all(sends[s["id"]] == 1 for s in statements[BATCH:])


def _agent(registration: uuid.UUID) -> str:
    return (
        '{"objectType":"Agent","account":{"homePage":"'
        + samples.ISSUER
        + '","name":"'
        + str(registration)
        + '"}}'
    )
