"""Database engine, sessions and the declarative base.

The service layer owns transactions (``with session.begin(): ...``); views only ask for the
request's session. SQLite is the zero-configuration default, PostgreSQL the production one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# The SQLite file holds launches, attempts and the (sealed) tool keys: only the tool's own
# user may read it. SQLite gives its -wal and -shm files the mode of the database file.
SQLITE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if needed and make it the owner's alone."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    os.chmod(path, PRIVATE_DIR_MODE)
    return path


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    database = parsed.database or ""
    if database in {"", ":memory:"} or database.startswith("file:") or "mode=memory" in url:
        return None
    return Path(database)


def secure_sqlite_file(path: Path) -> None:
    """Create the SQLite file as 0600 before SQLite does (it would use the umask, often 0644),
    and tighten an existing one. A missing folder is created private (0700)."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=PRIVATE_DIR_MODE)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, SQLITE_FILE_MODE)
    os.close(fd)
    for companion in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists():
            os.chmod(companion, SQLITE_FILE_MODE)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout, and a private file.

    The demo serves the tool and the LMS from threads of one process, and the xAPI worker
    writes beside the web requests, so SQLite must wait for a lock instead of failing.
    """
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None:
            secure_sqlite_file(path)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 15})
    if not url.startswith("sqlite"):
        kwargs = {**server_pool_options(url), **kwargs}
    engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"), **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    return engine


def server_pool_options(url: str) -> dict[str, Any]:
    """Pool and driver options for a database server, from the environment.

    * ``SOCLE_DATABASE_POOL_SIZE`` (default 5) and ``SOCLE_DATABASE_MAX_OVERFLOW`` (10):
      connections one process keeps and may add; a gunicorn worker has 4 threads, so at most
      4 are busy at once (see ``docs/scaling.md`` for the server's ``max_connections``).
    * ``SOCLE_DATABASE_PGBOUNCER=1``: the URL points at PgBouncer in transaction mode, where
      consecutive transactions of one client may run on different server connections, so
      psycopg's server-side prepared statements (made after 5 runs of a query) are turned
      off. The tool keeps no other session state on a connection.
    """
    options: dict[str, Any] = {
        "pool_size": int(os.environ.get("SOCLE_DATABASE_POOL_SIZE", "5")),
        "max_overflow": int(os.environ.get("SOCLE_DATABASE_MAX_OVERFLOW", "10")),
    }
    pgbouncer = os.environ.get("SOCLE_DATABASE_PGBOUNCER", "").lower() in {"1", "true", "yes"}
    if pgbouncer and make_url(url).drivername.endswith("psycopg"):
        options["connect_args"] = {"prepare_threshold": None}
    return options


class Database:
    """Holds the engine and the session factory of one application."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, future=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for work outside a request (CLI, background threads)."""
        session = self.sessions()
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
