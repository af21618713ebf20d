"""Alembic migrations, run programmatically (``socle db upgrade``, demo and tests)."""

from __future__ import annotations

import threading

from alembic import command
from alembic.config import Config

from lti_tool.config import PACKAGE_DIR

_lock = threading.Lock()

MIGRATION_LOCK_KEY = 0x50C1E_D8  # any fixed bigint, the same for every `socle` of one database
"""PostgreSQL advisory lock held while migrating: containers started together (tool, worker,
grades) upgrade one after the other, the later ones finding the schema at head."""


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision``; creates the SQLite file's folder when needed."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        from pathlib import Path

        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with _lock:
        command.upgrade(alembic_config(database_url), revision)
