"""``socle worker``, the one background process of a deployment, stopped as a deploy stops it.

SIGTERM arrives while a batch is with the LRS (stored there, its answer not yet back). The
worker cuts that request (an LRS that never answers must not hold a deploy), leaves its rows
pending — nothing is marked delivered that the LRS did not confirm — and exits 0. The next
worker delivers everything: the cut batch again (statement ids are deterministic, so the LRS
keeps one copy), the rest once. Nothing is lost, nothing is stored twice.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine

from lti_tool.migrate import upgrade_database
from tests.peers import missing_peer
from tests.xapi import samples
from tests.xapi.lrs_peer import LRS_DIR, LRS_SERVER, REPO, LrsProcess
from tests.xapi.proxy import Fault, FaultProxy
from xapi.builders import StatementBuilder
from xapi.outbox import enqueue, outbox_table

pytestmark = pytest.mark.lrs

BATCH = 10
SOCLE = Path(sys.executable).with_name("socle")


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def lrs(tmp_path: Path) -> Iterator[LrsProcess]:
    node = shutil.which("node")
    if node is None:
        missing_peer("Node.js is not installed: the LRS peer (xapi-statements) cannot run")
    if not LRS_SERVER.exists():
        missing_peer(f"the LRS is not installed: run `npm ci` in {LRS_DIR} (or `make lrs`)")
    server = LrsProcess(str(node), tmp_path / "lrs")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def proxy(lrs: LrsProcess) -> Iterator[FaultProxy]:
    server = FaultProxy(f"http://127.0.0.1:{lrs.port}").start()
    yield server
    server.stop()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    upgrade_database(url, secret_key="worker-test-secret")
    engine = create_engine(url)
    yield url, engine
    engine.dispose()


def _start(url: str, proxy: FaultProxy, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SOCLE_DATABASE_URL": url,
        "SOCLE_SECRET_KEY": "worker-test-secret",
        "SOCLE_INSTANCE_DIR": str(tmp_path / "instance"),
        "SOCLE_LRS_ENDPOINT": proxy.endpoint,
        "SOCLE_LRS_USERNAME": "socle",
        "SOCLE_LRS_PASSWORD": "secret",
        "SOCLE_LRS_BATCH_SIZE": str(BATCH),
        "SOCLE_LRS_POLL_INTERVAL": "0.1",
        "SOCLE_LRS_READ_TIMEOUT": "60",
    }
    return subprocess.Popen(
        [str(SOCLE), "worker"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _by_status(engine: Engine) -> dict[str, int]:
    table = outbox_table.c
    with engine.connect() as conn:
        return dict(conn.execute(select(table.status, func.count()).group_by(table.status)).all())


def test_sigterm_mid_batch_delivers_the_batch_in_flight_then_exits(
    database: tuple[str, Engine], lrs: LrsProcess, proxy: FaultProxy, tmp_path: Path
) -> None:
    url, engine = database
    registration = uuid.uuid4()
    builder = StatementBuilder(samples.BASE_URL)
    statements = [
        statement
        for index in range(3)
        for statement in samples.full_attempt(
            builder, uuid.uuid5(registration, str(index)), sub=str(registration)
        )
    ][:25]
    with engine.begin() as conn:
        enqueue(conn, statements)

    # The LRS stores the first batch; its answer reaches the worker only after the SIGTERM.
    release = Fault(delay_after_forward=3.0)
    proxy.faults.append(release)
    worker = _start(url, proxy, tmp_path)
    try:
        _wait_for(lambda: proxy.forwarded_posts >= 1, 120, "the first batch to reach the LRS")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0  # a graceful stop
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)

    assert _by_status(engine) == {"pending": len(statements)}  # nothing marked unconfirmed

    restarted = _start(url, proxy, tmp_path)
    try:
        _wait_for(lambda: _by_status(engine) == {"delivered": len(statements)}, 120, "every row")
    finally:
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(timeout=60) == 0

    sends = Counter(proxy.sent_ids())
    assert set(sends) == {s["id"] for s in statements}
    cut = {s["id"] for s in statements[:BATCH]}
    assert {sid for sid, count in sends.items() if count == 2} == cut
    assert all(sends[sid] == 1 for sid in sends if sid not in cut)
    agent = (
        '{"objectType":"Agent","account":{"homePage":"'
        + samples.ISSUER
        + '","name":"'
        + str(registration)
        + '"}}'
    )
    stored = lrs.statements(agent=agent)
    assert sorted(s["id"] for s in stored) == sorted(s["id"] for s in statements)
