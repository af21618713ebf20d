"""Alembic environment: the tool's tables and the xAPI outbox share one schema history."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData, text

from lti_tool import models  # noqa: F401 - registers the tables
from lti_tool.db import Base, make_engine
from lti_tool.migrate import MIGRATION_LOCK_KEY


def _target_metadata() -> list[MetaData]:
    metadatas = [Base.metadata]
    try:
        from xapi.outbox import metadata as xapi_metadata
    except ImportError:
        return metadatas
    return [*metadatas, xapi_metadata]


target_metadata = _target_metadata()


def run_migrations_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    try:  # a migration that stops with an error (0002 with another secret) leaks no connection
        with engine.connect() as connection:
            context.configure(
                connection=connection, target_metadata=target_metadata, render_as_batch=True
            )
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    # Concurrent upgrades (several containers starting on one database) wait
                    # here; the version table is read after the lock, so a later one finds it
                    # at head. Released with the transaction, even if the process dies.
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                    )
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
