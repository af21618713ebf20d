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


def alembic_config(database_url: str, secret_key: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    # Migration 0002 encrypts the tool's keys with it; without it, it reads SOCLE_SECRET_KEY.
    config.attributes["secret_key"] = secret_key
    return config


def upgrade_database(
    database_url: str, revision: str = "head", *, secret_key: str | None = None
) -> None:
    """Bring the schema to ``revision``; a SQLite file is created private (see ``make_engine``)."""
    with _lock:
        command.upgrade(alembic_config(database_url, secret_key), revision)


def downgrade_database(database_url: str, revision: str, *, secret_key: str | None = None) -> None:
    with _lock:
        command.downgrade(alembic_config(database_url, secret_key), revision)
