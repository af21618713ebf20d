"""The xAPI outbox: statements written in the caller's transaction, delivered later.

Why an outbox (cosmicpython, "transactional outbox"): an answer and the statement that reports
it must both exist or both not exist. :func:`enqueue` only INSERTs, on the connection or session
the service layer already holds, so the statement rows commit or roll back with the attempt's
state; delivery (:mod:`xapi.delivery`) happens afterwards, outside any web request.

The tables live on their own :data:`metadata` (with a naming convention, so Alembic names
constraints the same way on SQLite and PostgreSQL); the app's Alembic environment includes it.

Named LRSs (``xapi_lrs``) keep their password encrypted with Fernet, under a key derived from
the application's secret: a database dump does not hand out LRS credentials. A NULL ``lrs_id``
on an outbox row means "the default LRS" given by the ``SOCLE_LRS_*`` settings.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from xapi.sealing import derive_fernet

OutboxStatus = Literal["pending", "delivered", "dead"]
PENDING: Final = "pending"
DELIVERED: Final = "delivered"
DEAD: Final = "dead"

metadata: Final = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
"""The xapi package's own MetaData; the app's Alembic env lists it next to its own."""


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the only kind of datetime stored here)."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp always stored in UTC and always read back timezone-aware.

    Why: SQLite has no time zones and returns naive datetimes, PostgreSQL's ``timestamptz``
    returns aware ones; comparing ``next_attempt_at <= now`` must mean the same on both.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive values (they would be read as local time), store UTC."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"outbox timestamps must be timezone-aware, got {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Give back an aware UTC datetime whatever the backend returned."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


lrs_table: Final = Table(
    "xapi_lrs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("endpoint", String(500), nullable=False),
    Column("username", String(255), nullable=False),
    Column("password_encrypted", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

outbox_table: Final = Table(
    "xapi_outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("statement_id", String(36), nullable=False, index=True),
    Column("lrs_id", Integer, ForeignKey("xapi_lrs.id"), nullable=True),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("claim_token", String(36), nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status"),
    CheckConstraint("attempts >= 0", name="attempts"),
    Index("ix_xapi_outbox_due", "status", "lrs_id", "next_attempt_at"),
)

Executor = Connection | Session
"""What the service layer holds: a Core connection or an ORM session, both in a transaction."""


def _statement_id(statement: Mapping[str, Any]) -> str:
    """The statement's id, required: the worker de-duplicates and the LRS answers 409 by it."""
    raw = statement.get("id")
    if not isinstance(raw, str):
        raise ValueError("every statement put in the outbox needs its deterministic 'id'")
    try:
        return str(uuid.UUID(raw))
    except ValueError as exc:
        raise ValueError(f"statement id {raw!r} is not a UUID") from exc


def enqueue(
    connection_or_session: Executor,
    statements: Iterable[Mapping[str, Any]],
    lrs_id: int | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Add statements to the outbox inside the caller's transaction; return how many.

    Only INSERTs, never commits: the caller's ``commit()`` makes the statements exist together
    with the state change that caused them, and a rollback leaves no row. ``lrs_id`` is a row
    of ``xapi_lrs`` (the registration's LRS) or None for the default LRS of the settings.
    """
    created = now or utcnow()
    rows = [
        {
            "statement_id": _statement_id(statement),
            "lrs_id": lrs_id,
            "payload": json.dumps(statement, ensure_ascii=False, separators=(",", ":")),
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": created,
            "created_at": created,
        }
        for statement in statements
    ]
    if rows:
        connection_or_session.execute(insert(outbox_table), rows)
    return len(rows)


# --- Named LRSs with encrypted passwords ------------------------------------------------------


class LrsSecretError(RuntimeError):
    """The stored password cannot be decrypted: the secret is missing or has changed."""


def _fernet(secret: str) -> Fernet:
    """Derive the Fernet key from the application secret (HKDF-SHA256, fixed context).

    The context label keeps this key distinct from any other use of the same secret.
    """
    if not secret:
        raise LrsSecretError("a secret (SOCLE_SECRET_KEY) is needed to store LRS passwords")
    return derive_fernet(secret, salt=b"socle-xapi-lrs", info=b"lrs-password")


def encrypt_password(password: str, secret: str) -> str:
    """Encrypt an LRS password for storage."""
    return _fernet(secret).encrypt(password.encode("utf-8")).decode("ascii")


def decrypt_password(token: str, secret: str) -> str:
    """Decrypt a stored LRS password, with a message that says what to do when it fails."""
    try:
        return _fernet(secret).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise LrsSecretError(
            "the LRS password cannot be decrypted: SOCLE_SECRET_KEY has changed since it was "
            "stored; set the password again"
        ) from exc


@dataclass(frozen=True)
class LrsRecord:
    """A named LRS as listed (never with its password)."""

    id: int
    name: str
    endpoint: str
    username: str


@dataclass(frozen=True)
class LrsTarget:
    """Everything needed to send to one LRS: where, and with which credentials."""

    lrs_id: int | None
    name: str
    endpoint: str
    username: str
    password: str

    @property
    def statements_url(self) -> str:
        """``<endpoint>/statements`` whatever the endpoint's trailing slash."""
        return f"{self.endpoint.rstrip('/')}/statements"


def add_lrs(
    connection_or_session: Executor,
    *,
    name: str,
    endpoint: str,
    username: str,
    password: str,
    secret: str,
) -> int:
    """Register a named LRS (in the caller's transaction) and return its id."""
    if not endpoint.startswith(("http://", "https://")):
        raise ValueError(f"the LRS endpoint must be an http(s) URL, got {endpoint!r}")
    result = connection_or_session.execute(
        insert(lrs_table)
        .values(
            name=name,
            endpoint=endpoint,
            username=username,
            password_encrypted=encrypt_password(password, secret),
            created_at=utcnow(),
        )
        .returning(lrs_table.c.id)
    )
    return int(result.scalar_one())


def list_lrs(connection_or_session: Executor) -> list[LrsRecord]:
    """The named LRSs, by name."""
    rows = connection_or_session.execute(
        select(
            lrs_table.c.id, lrs_table.c.name, lrs_table.c.endpoint, lrs_table.c.username
        ).order_by(lrs_table.c.name)
    ).all()
    return [LrsRecord(row.id, row.name, row.endpoint, row.username) for row in rows]


def load_lrs(connection_or_session: Executor, lrs_id: int, secret: str | None) -> LrsTarget | None:
    """The named LRS with its decrypted password, or None when no such row exists."""
    row = connection_or_session.execute(
        select(lrs_table).where(lrs_table.c.id == lrs_id)
    ).one_or_none()
    if row is None:
        return None
    password = decrypt_password(row.password_encrypted, secret or "")
    return LrsTarget(row.id, row.name, row.endpoint, row.username, password)


def find_lrs_id(connection_or_session: Executor, name: str) -> int | None:
    """The id of the named LRS, or None."""
    value = connection_or_session.execute(
        select(lrs_table.c.id).where(lrs_table.c.name == name)
    ).scalar_one_or_none()
    return None if value is None else int(value)
