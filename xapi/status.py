"""What the outbox holds, per LRS, and the re-queueing of dead letters.

Why a module of its own: ``socle xapi status`` is what an administrator reads when a training
service says "the dashboard shows nothing". It must answer, without reading logs: is anything
waiting, since when, is the LRS refusing our credentials, is there no LRS at all, which
statements were refused and why. The functions return values; :mod:`xapi.commands` renders them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from xapi.delivery import LrsSettings
from xapi.outbox import DEAD, DELIVERED, PENDING, Executor, lrs_table, outbox_table, utcnow

CREDENTIAL_CODES = (401, 403)


@dataclass(frozen=True)
class LrsStatus:
    """Counts and health of the outbox rows bound for one LRS."""

    lrs_id: int | None
    name: str
    endpoint: str | None
    pending: int
    delivered: int
    dead: int
    retrying: int
    """Pending rows that already failed at least once."""
    in_flight: int
    """Pending rows a worker holds right now (claimed, lease not expired): being sent."""
    oldest_pending_age: timedelta | None
    credentials_rejected: bool
    last_error: str | None

    @property
    def configured(self) -> bool:
        """False when nothing can be sent (no default endpoint, or a row pointing nowhere)."""
        return self.endpoint is not None


@dataclass(frozen=True)
class DeadLetter:
    """A statement an LRS refused, with the LRS's answer."""

    id: int
    statement_id: str
    lrs_name: str
    attempts: int
    status_code: int | None
    error: str | None
    created_at: datetime


@dataclass(frozen=True)
class OutboxStatus:
    """The whole picture: one line per LRS, the dead letters, and hints for the operator."""

    lrs: tuple[LrsStatus, ...]
    dead_letters: tuple[DeadLetter, ...]
    hints: tuple[str, ...]

    @property
    def pending(self) -> int:
        """Pending rows over all LRSs."""
        return sum(item.pending for item in self.lrs)

    @property
    def in_flight(self) -> int:
        """Rows being sent right now over all LRSs."""
        return sum(item.in_flight for item in self.lrs)

    @property
    def dead(self) -> int:
        """Dead letters over all LRSs."""
        return sum(item.dead for item in self.lrs)


def outbox_status(
    connection_or_session: Executor,
    settings: LrsSettings,
    *,
    now: datetime | None = None,
    dead_letter_limit: int = 20,
) -> OutboxStatus:
    """Count the outbox per LRS and collect hints (no LRS configured, credentials refused)."""
    moment = now or utcnow()
    table = outbox_table.c
    counts = connection_or_session.execute(
        select(table.lrs_id, table.status, func.count(), func.min(table.created_at)).group_by(
            table.lrs_id, table.status
        )
    ).all()
    retrying_rows = connection_or_session.execute(
        select(table.lrs_id, func.count())
        .where(table.status == PENDING, table.attempts > 0)
        .group_by(table.lrs_id)
    ).all()
    in_flight_rows = connection_or_session.execute(
        select(table.lrs_id, func.count())
        .where(
            table.status == PENDING,
            table.claim_token.is_not(None),
            table.lease_expires_at >= moment,
        )
        .group_by(table.lrs_id)
    ).all()
    rejected_rows = connection_or_session.execute(
        select(table.lrs_id, func.count())
        .where(table.status == PENDING, table.last_status_code.in_(CREDENTIAL_CODES))
        .group_by(table.lrs_id)
    ).all()
    named = {
        row.id: (row.name, row.endpoint)
        for row in connection_or_session.execute(
            select(lrs_table.c.id, lrs_table.c.name, lrs_table.c.endpoint)
        ).all()
    }

    keys: set[int | None] = {None, *named}
    keys.update(row[0] for row in counts)
    per_status: dict[tuple[int | None, str], tuple[int, datetime | None]] = {
        (row[0], row[1]): (int(row[2]), row[3]) for row in counts
    }
    retrying = {row[0]: int(row[1]) for row in retrying_rows}
    in_flight = {row[0]: int(row[1]) for row in in_flight_rows}
    last_errors = {key: _last_error(connection_or_session, key) for key in keys}
    rejected = {row[0]: int(row[1]) for row in rejected_rows}

    lines = []
    for key in sorted(keys, key=lambda value: (value is not None, value or 0)):
        if key is None:
            name, endpoint = "default", settings.endpoint or None
        else:
            name, endpoint = named.get(key, (f"#{key} (missing)", None))
        pending, oldest = per_status.get((key, PENDING), (0, None))
        oldest_age = None if oldest is None else moment - oldest
        lines.append(
            LrsStatus(
                lrs_id=key,
                name=name,
                endpoint=endpoint,
                pending=pending,
                delivered=per_status.get((key, DELIVERED), (0, None))[0],
                dead=per_status.get((key, DEAD), (0, None))[0],
                retrying=retrying.get(key, 0),
                in_flight=in_flight.get(key, 0),
                oldest_pending_age=oldest_age,
                credentials_rejected=rejected.get(key, 0) > 0,
                last_error=last_errors.get(key),
            )
        )
    status_lines = tuple(lines)
    return OutboxStatus(
        lrs=status_lines,
        dead_letters=tuple(dead_letters(connection_or_session, limit=dead_letter_limit)),
        hints=tuple(_hints(status_lines)),
    )


def _last_error(connection_or_session: Executor, lrs_id: int | None) -> str | None:
    """The most recent failure among the LRS's pending rows (one row read, even in an outage)."""
    table = outbox_table.c
    lrs_filter = table.lrs_id.is_(None) if lrs_id is None else table.lrs_id == lrs_id
    value = connection_or_session.execute(
        select(table.last_error)
        .where(table.status == PENDING, table.last_error.is_not(None), lrs_filter)
        .order_by(table.next_attempt_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if value is None else str(value)


def _hints(lines: Sequence[LrsStatus]) -> list[str]:
    hints = []
    for line in lines:
        if line.lrs_id is None and line.endpoint is None:
            hints.append(
                "No default LRS is configured (SOCLE_LRS_ENDPOINT is empty): statements are "
                "kept in the outbox, which just fills, and are sent once an LRS is set."
            )
        elif not line.configured and line.pending:
            hints.append(
                f"{line.pending} statements point to LRS {line.name}, which does not exist: "
                "register it again or re-point the platform."
            )
        if line.credentials_rejected:
            variables = (
                "SOCLE_LRS_USERNAME / SOCLE_LRS_PASSWORD"
                if line.lrs_id is None
                else f"the credentials of LRS {line.name}"
            )
            hints.append(
                f"LRS {line.name} refuses our credentials (HTTP 401/403): check {variables}; "
                "its statements stay pending and are retried."
            )
        if line.pending and "refuses xAPI version" in (line.last_error or ""):
            hints.append(
                f"LRS {line.name} refuses the xAPI version we speak: set SOCLE_LRS_VERSION "
                "(default LRS) or SOCLE_LRS_VERSIONS (named LRSs) to the version it supports; "
                "its statements stay pending."
            )
        if line.dead:
            hints.append(
                f"{line.dead} statements were refused by LRS {line.name}: read their errors, "
                "then `socle xapi retry` re-queues them."
            )
    return hints


def dead_letters(connection_or_session: Executor, *, limit: int = 20) -> list[DeadLetter]:
    """The most recent dead letters with the LRS's answer."""
    table = outbox_table.c
    names = {
        row.id: row.name
        for row in connection_or_session.execute(select(lrs_table.c.id, lrs_table.c.name)).all()
    }
    rows = connection_or_session.execute(
        select(
            table.id,
            table.statement_id,
            table.lrs_id,
            table.attempts,
            table.last_status_code,
            table.last_error,
            table.created_at,
        )
        .where(table.status == DEAD)
        .order_by(table.id.desc())
        .limit(limit)
    ).all()
    return [
        DeadLetter(
            id=row.id,
            statement_id=row.statement_id,
            lrs_name="default" if row.lrs_id is None else names.get(row.lrs_id, f"#{row.lrs_id}"),
            attempts=row.attempts,
            status_code=row.last_status_code,
            error=row.last_error,
            created_at=row.created_at,
        )
        for row in rows
    ]


def retry_dead_letters(
    connection_or_session: Executor,
    ids: Sequence[int] | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Put dead letters back to pending (all, or those ``ids``); return how many.

    The LRS's last answer stays in ``last_error`` until the next attempt replaces it, so the
    status still shows why the row had failed.
    """
    table = outbox_table.c
    statement = update(outbox_table).where(table.status == DEAD)
    if ids is not None:
        statement = statement.where(table.id.in_(list(ids)))
    result = connection_or_session.execute(
        statement.values(
            status=PENDING,
            next_attempt_at=now or utcnow(),
            claim_token=None,
            lease_expires_at=None,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
