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
