"""Connection pool sizing and PgBouncer compatibility, set by the environment."""

from __future__ import annotations

import pytest


def test_pool_and_pgbouncer_options_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lti_tool.db import server_pool_options

    url = "postgresql+psycopg://socle@db/socle"
    assert server_pool_options(url) == {"pool_size": 5, "max_overflow": 10}
    monkeypatch.setenv("SOCLE_DATABASE_POOL_SIZE", "8")
    monkeypatch.setenv("SOCLE_DATABASE_MAX_OVERFLOW", "0")
    monkeypatch.setenv("SOCLE_DATABASE_PGBOUNCER", "1")
    assert server_pool_options(url) == {
        "pool_size": 8,
        "max_overflow": 0,
        "connect_args": {"prepare_threshold": None},
    }
