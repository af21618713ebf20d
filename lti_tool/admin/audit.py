"""The audit log: every administrative action, who did it, when, and the state before/after.

Entries are written in the transaction of the action they describe, so an action that fails
leaves no entry and an entry never describes an action that did not happen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.admin.models import AuditEntry


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    entry = AuditEntry(actor=actor, action=action, target=target[:500], before=before, after=after)
    if at is not None:
        entry.at = at
    session.add(entry)
    session.flush()
    return entry


def entries(session: Session, *, page: int = 1, per_page: int = 50) -> tuple[list[AuditEntry], int]:
    """One page of the log, newest first, and the total count."""
    total = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    rows = session.scalars(
        select(AuditEntry)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((max(page, 1) - 1) * per_page)
        .limit(per_page)
    )
    return list(rows), int(total)
