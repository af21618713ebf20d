"""``socle db upgrade`` run by several containers at once on one empty PostgreSQL database.

Each upgrade takes a PostgreSQL advisory lock before reading the schema's version: the
second one waits, then finds the schema at head and does nothing. The test holds that lock
itself until both upgrades are waiting for it, then lets them race: without the lock they
would not wait, and both would create the same tables.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from lti_tool.migrate import MIGRATION_LOCK_KEY, alembic_config

pytestmark = pytest.mark.postgres


@pytest.fixture
def empty_schema() -> Iterator[tuple[str, str]]:
    """(admin URL, URL of a new empty schema on it)."""
    url = os.environ.get("SOCLE_TEST_DATABASE_URL")
    if not url:
        pytest.skip("SOCLE_TEST_DATABASE_URL is not set: concurrent upgrades need PostgreSQL")
    schema = f"upgrade_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield url, f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_two_concurrent_upgrades_of_an_empty_database_both_succeed(
    empty_schema: tuple[str, str], tmp_path: Path
) -> None:
    admin_url, url = empty_schema
    name = f"socle-upgrade-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "SOCLE_DATABASE_URL": url,
        "SOCLE_INSTANCE_DIR": str(tmp_path / "instance"),
        "PGAPPNAME": name,
    }
    admin = create_engine(admin_url)
    upgrades: list[subprocess.Popen[bytes]] = []
    try:
        with admin.connect() as holder:
            holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            upgrades = [
                subprocess.Popen(
                    [sys.executable, "-m", "lti_tool.cli", "db", "upgrade"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
                for _ in range(2)
            ]
            waiting = 0
            deadline = time.monotonic() + 120  # a bound for a loaded machine
            while waiting < 2 and time.monotonic() < deadline:
                ended = [p for p in upgrades if p.poll() is not None]
                assert not ended, "an upgrade did not wait:\n" + "\n".join(
                    p.communicate()[0].decode(errors="replace") for p in ended
                )
                time.sleep(0.1)
                waiting = holder.execute(
                    text(
                        "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)"
                        " WHERE locktype = 'advisory' AND NOT granted AND application_name = :n"
                    ),
                    {"n": name},
                ).scalar_one()
                holder.commit()  # a fresh snapshot of pg_locks at each look
            assert waiting == 2, "the upgrades never waited for the migration lock"
            holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            holder.commit()
        outputs = [p.communicate(timeout=300)[0].decode(errors="replace") for p in upgrades]
    finally:
        for process in upgrades:
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        admin.dispose()
    assert [p.returncode for p in upgrades] == [0, 0], "\n".join(outputs)
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    schema_engine = create_engine(url)
    try:
        with schema_engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            assert list(versions) == [head]
    finally:
        schema_engine.dispose()
