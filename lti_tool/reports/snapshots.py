"""Organisation reports kept in the database, shared by every process, refreshed off the
request path.

An organisation report aggregates every attempt of a platform registration: about 1.5 s of
work for 20 000 attempts (``benchmarks/reports.py``), and a national platform holds far more.
A training manager reading it, sorting, exporting or changing language must not wait for
that each time, nor each of the tool's processes and nodes compute it again:

- the figures are stored (``report_snapshot``: aggregates only, no agent's identifier) with
  the platform's *change stamp* they were computed at — how many attempts, answers and ends it
  holds, and the latest start and end, one indexed aggregate query;
- a view whose stamp matches the stored one is served as it is (fresh);
- when results arrived since, the stored figures are still served if they are younger than
  ``stale_for`` seconds (``SOCLE_REPORT_STALE_FOR``, 30 minutes by default), saying when they
  were computed, and the process recomputes them in a background thread — once per report
  at a time — for the next view;
- with nothing stored, or figures older than that, the view computes them itself.

Each process also keeps the latest reports it served in memory (a few, least recently used
dropped), so a fresh report costs the stamp query only. Two processes may recompute the same
report at the same moment; the last one stored wins, both are right.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import cattrs
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lti_tool.db import Database
from lti_tool.models import ReportSnapshot, utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")

_converter = cattrs.Converter()


def variant_of(parts: dict[str, Any]) -> str:
    """The stored name of what else a report depends on (own course, minimum group, themes,
    labels in the reader's language)."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Kept(Generic[T]):
    """A report and how current it is."""

    report: T
    computed_at: datetime
    fresh: bool
    """False when results arrived after ``computed_at`` (a newer report is being computed)."""


class ReportKeeper:
    """Serves organisation reports from the database (see the module's docstring).

    ``background=False`` (the tests) queues the refreshes instead of starting threads:
    :meth:`run_pending` runs them, so nothing depends on thread timing. ``clock`` is the
    time the staleness is judged by.
    """

    def __init__(
        self,
        database: Database,
        *,
        stale_for: int,
        background: bool = True,
        clock: Callable[[], datetime] = utcnow,
        memory_size: int = 16,
    ) -> None:
        self.database = database
        self.stale_for = timedelta(seconds=stale_for)
        self.background = background
        self.clock = clock
        self.memory_size = memory_size
        self._memory: OrderedDict[tuple[int, str], tuple[str, datetime, Any]] = OrderedDict()
        self._refreshing: set[tuple[int, str]] = set()
        self._pending: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def get(
        self,
        session: Session,
        *,
        platform_id: int,
        variant: str,
        stamp: str,
        kind: type[T],
        compute: Callable[[Session], T],
        current_stamp: Callable[[Session], str],
    ) -> Kept[T]:
        """The report of ``platform_id`` in ``variant``, for the platform's ``stamp``.

        ``compute(session)`` computes it; ``current_stamp(session)`` reads the stamp again
        (for a refresh in the background, which uses a session of its own)."""
        key = (platform_id, variant)
        remembered = self._remembered(key)
        if remembered is not None and remembered[0] == stamp:
            return Kept(remembered[2], remembered[1], fresh=True)
        row = session.execute(
            select(ReportSnapshot.stamp, ReportSnapshot.computed_at, ReportSnapshot.payload).where(
                ReportSnapshot.platform_id == platform_id, ReportSnapshot.variant == variant
            )
        ).first()
        if row is not None:
            computed_at = _aware(row.computed_at)
            if row.stamp == stamp or self.clock() - computed_at <= self.stale_for:
                if remembered is not None and remembered[1] == computed_at:
                    report = remembered[2]
                else:
                    report = _converter.structure(row.payload, kind)
                    self._remember(key, row.stamp, computed_at, report)
                if row.stamp == stamp:
                    return Kept(report, computed_at, fresh=True)
                self._refresh_later(key, compute, current_stamp)
                return Kept(report, computed_at, fresh=False)
        computed_at = self.clock()
        report = compute(session)
        self._store(key, stamp, computed_at, report)
        return Kept(report, computed_at, fresh=True)

    def run_pending(self) -> int:
        """Run the queued refreshes (``background=False``); returns how many ran."""
        with self._lock:
            jobs, self._pending = self._pending, []
        for job in jobs:
            job()
        return len(jobs)

    # -- inside ----------------------------------------------------------------------------
    def _remembered(self, key: tuple[int, str]) -> tuple[str, datetime, Any] | None:
        with self._lock:
            entry = self._memory.get(key)
            if entry is not None:
                self._memory.move_to_end(key)
            return entry

    def _remember(self, key: tuple[int, str], stamp: str, at: datetime, report: Any) -> None:
        with self._lock:
            self._memory[key] = (stamp, at, report)
            self._memory.move_to_end(key)
            while len(self._memory) > self.memory_size:
                self._memory.popitem(last=False)

    def _store(self, key: tuple[int, str], stamp: str, at: datetime, report: Any) -> None:
        """Store (or replace) the report, in a transaction of its own: the request's session
        stays read-only, and a report computed by another process meanwhile is replaced by
        this one unless it is newer."""
        platform_id, variant = key
        payload = _converter.unstructure(report)
        with self.database.session() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
            statement = insert(ReportSnapshot).values(
                platform_id=platform_id,
                variant=variant,
                stamp=stamp,
                computed_at=at,
                payload=payload,
            )
            session.execute(
                statement.on_conflict_do_nothing(index_elements=["platform_id", "variant"])
            )
            session.execute(
                update(ReportSnapshot)
                .where(
                    ReportSnapshot.platform_id == platform_id,
                    ReportSnapshot.variant == variant,
                    ReportSnapshot.computed_at <= at,
                )
                .values(stamp=stamp, computed_at=at, payload=payload)
            )
            session.commit()
        self._remember(key, stamp, at, report)

    def _refresh_later(
        self,
        key: tuple[int, str],
        compute: Callable[[Session], Any],
        current_stamp: Callable[[Session], str],
    ) -> None:
        with self._lock:
            if key in self._refreshing:
                return
            self._refreshing.add(key)

        def refresh() -> None:
            try:
                with self.database.session() as session:
                    stamp = current_stamp(session)
                    at = self.clock()
                    report = compute(session)
                self._store(key, stamp, at, report)
            except Exception:  # a failed refresh leaves the kept report; the next view retries
                log.exception("refreshing the organisation report of platform %s failed", key[0])
            finally:
                with self._lock:
                    self._refreshing.discard(key)

        if self.background:
            threading.Thread(target=refresh, name="socle-report-refresh", daemon=True).start()
        else:
            with self._lock:
                self._pending.append(refresh)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
