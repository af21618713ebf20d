"""Peers of the xAPI tests: the real LRS (Node, xapi-statements 5.0.1) and the databases.

The LRS is Learning Locker's statement service started from ``tests/lrs/node_modules`` with
in-memory models; its ``test`` auth repo (``dist/repo/authRepo/getClient/fake.js``) accepts
*any* Authorization header as its default client, except a few literal tokens none of which
is a Basic header, so wrong credentials are tested through :class:`FaultProxy`'s
``required_authorization``. Without Node or ``npm ci`` in ``tests/lrs``, LRS tests skip with the
reason (fail when ``SOCLE_REQUIRE_PEERS=1``).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine

from tests.peers import missing_peer
from tests.xapi.lrs_peer import LRS_DIR, LRS_SERVER, LrsProcess
from tests.xapi.proxy import FaultProxy
from xapi.delivery import LrsSettings
from xapi.outbox import metadata, outbox_table


@pytest.fixture(scope="session")
def lrs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LrsProcess]:
    node = shutil.which("node")
    if node is None:
        missing_peer("Node.js is not installed: the LRS peer (xapi-statements) cannot run")
    if not LRS_SERVER.exists():
        missing_peer(f"the LRS is not installed: run `npm ci` in {LRS_DIR} (or `make lrs`)")
    server = LrsProcess(str(node), tmp_path_factory.mktemp("lrs"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def lrs(lrs_server: LrsProcess) -> LrsProcess:
    """The session's LRS, started again if an outage test left it stopped."""
    if not lrs_server.running:
        lrs_server.start()
    return lrs_server


@pytest.fixture
def proxy(lrs: LrsProcess) -> Iterator[FaultProxy]:
    server = FaultProxy(f"http://127.0.0.1:{lrs.port}").start()
    yield server
    server.stop()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A private database: a SQLite file, or a private schema on SOCLE_TEST_DATABASE_URL."""
    url = os.environ.get("SOCLE_TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'outbox.sqlite3'}"
        return
    schema = f"xapi_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    created = create_engine(database_url)
    metadata.create_all(created)
    yield created
    created.dispose()


START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves forward instead of sleeping through backoffs.

    It starts at a fixed instant, far from the real time: whatever is enqueued, retried or
    reported in a test must be given ``now=clock()``, the time the worker reads. A call that
    falls back on the real clock shows at once (its rows are months in the future), instead of
    failing only on a machine slow enough to cross a one-second margin.
    """

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def settings_for(endpoint: str, **overrides: Any) -> LrsSettings:
    values: dict[str, Any] = {
        "endpoint": endpoint,
        "username": "socle",
        "password": "secret",
        "batch_size": 50,
        "connect_timeout": 10.0,  # bounds for a loaded machine; tests of timeouts set their own
        "read_timeout": 30.0,
        "backoff_base": 1.0,
        "backoff_max": 60.0,
        "lease_seconds": 30.0,
        "poll_interval": 0.2,
    }
    values.update(overrides)
    return LrsSettings(**values)


def outbox_rows(engine: Engine) -> list[Any]:
    """Every outbox row, oldest first."""
    with engine.connect() as conn:
        return list(conn.execute(select(outbox_table).order_by(outbox_table.c.id)).all())


def outbox_statuses(engine: Engine) -> dict[str, int]:
    """How many outbox rows are in each status."""
    counts: dict[str, int] = {}
    for row in outbox_rows(engine):
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts
