"""Tables of the administration console: the audit log, one-time sign-in links, and the hosts
allowed to register through LTI Dynamic Registration.

The audit log is append-only: the ORM refuses to change or delete an entry (see
:func:`_refuse_audit_changes`), and no page or command offers to. An erased agent's entries
name them only by a digest of their ``sub`` (``lti_tool.privacy.agents``), so keeping the log
does not keep the agent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from lti_tool.db import Base


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AuditEntry(Base):
    """One administrative action: who, when, what, and the state before and after."""

    __tablename__ = "admin_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(500))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class SignInLink(Base):
    """A one-time sign-in link of ``socle admin link``: only the SHA-256 of its secret is kept,
    so reading the table does not give a usable link."""

    __tablename__ = "admin_sign_in_link"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RegistrationHost(Base):
    """A platform host allowed to use LTI Dynamic Registration (added from the console), on
    top of ``SOCLE_REGISTRATION_HOSTS``."""

    __tablename__ = "registration_host"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class AuditLogIsReadOnly(RuntimeError):
    """Raised when code tries to change or delete an audit entry."""


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context: Any, _instances: Any) -> None:
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, AuditEntry) and (
            instance in session.deleted or session.is_modified(instance)
        ):
            raise AuditLogIsReadOnly("audit log entries are never changed or deleted")
