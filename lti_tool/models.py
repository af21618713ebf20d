"""Persistent state of the tool: platform registrations, keys, LTI launches and attempts.

Only pseudonymous LMS identifiers are required; names and emails are kept only when the
registration asks for them (``Platform.store_personal_data``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_uuid() -> str:
    return str(uuid.uuid4())


class Platform(Base):
    """One LMS registration: an issuer and one of its client ids."""

    __tablename__ = "platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_platform_issuer_client"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    key_set_url: Mapped[str] = mapped_column(String(1000))
    auth_audience: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    store_personal_data: Mapped[bool] = mapped_column(Boolean, default=False)
    # The LRS of this registration (a row of xapi_lrs); None: the default LRS of the settings.
    lrs_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="Deployment.id"
    )


class Deployment(Base):
    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class ToolKey(Base):
    """An RSA key of the tool. The signing key is the newest one whose ``not_before`` passed.

    A rotated-in key is published in the JWKS before it signs anything, so platforms that
    cache our JWKS already know it; a superseded key stays published for a retention period.
    """

    __tablename__ = "tool_key"

    kid: Mapped[str] = mapped_column(String(100), primary_key=True)
    # The PEM sealed with a key derived from SOCLE_SECRET_KEY (lti_tool.lti.keys): a copy of
    # the database alone does not let anyone sign as the tool.
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def private_pem(self) -> str:
        """The clear PEM, on keys handed out by ``KeyService`` (which decrypts them)."""
        pem: str | None = self.__dict__.get("_private_pem")
        if pem is None:
            raise RuntimeError("this tool key was not unsealed: load it through KeyService")
        return pem

    def unseal(self, pem: str) -> None:
        """Keep the decrypted PEM on this object for the session's lifetime (never stored)."""
        self.__dict__["_private_pem"] = pem


class LoginState(Base):
    """An OIDC login we started: the launch must come back with this state and nonce."""

    __tablename__ = "login_state"

    state: Mapped[str] = mapped_column(String(100), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(100))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    target_link_uri: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UsedNonce(Base):
    """Nonces of accepted launches: an id_token is accepted once."""

    __tablename__ = "used_nonce"
    __table_args__ = (UniqueConstraint("platform_id", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LtiUser(Base):
    """A person as the LMS identifies them: the pseudonymous ``sub`` of one platform."""

    __tablename__ = "lti_user"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LtiContext(Base):
    """A course (LTI context) of a deployment."""

    __tablename__ = "lti_context"
    __table_args__ = (UniqueConstraint("deployment_pk", "context_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_pk: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(500), nullable=True)
    label: Mapped[str | None] = mapped_column(String(255), nullable=True)


class ResourceLink(Base):
    """An LMS activity pointing at a parcours."""

    __tablename__ = "resource_link"
    __table_args__ = (UniqueConstraint("deployment_pk", "resource_link_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_pk: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"))
    context_pk: Mapped[int | None] = mapped_column(
        ForeignKey("lti_context.id", ondelete="CASCADE"), nullable=True
    )
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(500), nullable=True)
    parcours_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lineitem_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Launch(Base):
    """An accepted launch. The signed page token names it; its claims serve later calls.

    Binding the launch data to a server-side row named by a signed token (rather than a
    cookie or a bare launch id) keeps the session working in iframes without third-party
    cookies, and a leaked launch id alone gives access to nothing.
    """

    __tablename__ = "launch"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    deployment_pk: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"))
    user_pk: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="CASCADE"), nullable=True
    )
    resource_link_pk: Mapped[int | None] = mapped_column(
        ForeignKey("resource_link.id", ondelete="CASCADE"), nullable=True
    )
    message_type: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(20))  # "teacher" | "learner"
    locale: Mapped[str] = mapped_column(String(10), default="fr")
    claims: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    platform: Mapped[Platform] = relationship()
    deployment: Mapped[Deployment] = relationship()
    user: Mapped[LtiUser | None] = relationship()
    resource_link: Mapped[ResourceLink | None] = relationship()


class Attempt(Base):
    """One agent's run through one parcours from one LMS activity (the xAPI registration).

    The engine is stateless: the attempt stores the ordered answers and the challenge being
    shown; everything else (estimates, next challenge, levels) is recomputed from them.
    Preview attempts (teachers) and anonymous ones are bound to their launch and never reach
    the LRS or the gradebook.
    """

    __tablename__ = "attempt"
    __table_args__ = (
        UniqueConstraint("user_pk", "resource_link_pk", "number"),
        Index("ix_attempt_report", "resource_link_pk", "preview"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    user_pk: Mapped[int | None] = mapped_column(
        ForeignKey("lti_user.id", ondelete="CASCADE"), nullable=True
    )
    resource_link_pk: Mapped[int] = mapped_column(
        ForeignKey("resource_link.id", ondelete="CASCADE")
    )
    launch_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    parcours_id: Mapped[str] = mapped_column(String(100))
    algorithm: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(Integer, default=1)
    preview: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="started")  # started | completed
    seed: Mapped[int] = mapped_column(Integer)
    locale: Mapped[str] = mapped_column(String(10), default="fr")
    job_profile_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Declared by the agent on the start page (optional): A, B, C or contractuel.
    agent_category: Mapped[str | None] = mapped_column(String(20), nullable=True)
    self_assessment: Mapped[dict[str, int] | None] = mapped_column(JSON, nullable=True)
    # Extended time chosen on the start page (« temps majoré », RGAA 13.1): 1, 1.5 or 2.
    time_factor: Mapped[float] = mapped_column(Float, default=1.0, server_default="1")
    answer_count: Mapped[int] = mapped_column(Integer, default=0)
    current_challenge_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    current_served_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    timer_started_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    mastery: Mapped[float | None] = mapped_column(Float, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Gradebook (AGS): none | pending | sent | failed, retried with backoff until sent.
    grade_status: Mapped[str] = mapped_column(String(20), default="none")
    grade_tries: Mapped[int] = mapped_column(Integer, default=0)
    grade_next_try_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    grade_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    grade_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    user: Mapped[LtiUser | None] = relationship()
    resource_link: Mapped[ResourceLink] = relationship()
    answers: Mapped[list[AnswerRecord]] = relationship(
        back_populates="attempt", order_by="AnswerRecord.seq", cascade="all, delete-orphan"
    )


class AnswerRecord(Base):
    """One answer of an attempt. ``(attempt, seq)`` is unique: a resubmitted form, a double
    click or a back button can never record the same answer twice."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("attempt_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("attempt.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    challenge_id: Mapped[str] = mapped_column(String(100))
    skill_id: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10))  # ok | ko | skipped | timedout
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
    served_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    attempt: Mapped[Attempt] = relationship(back_populates="answers")


class ChallengeReport(Base):
    """A problem an agent reported on a challenge (« Signaler un problème »), in their words.

    Kept for the content team (``socle content reports``). Bound to the attempt so that
    erasing an agent's data erases what they wrote too.
    """

    __tablename__ = "challenge_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    attempt_id: Mapped[str] = mapped_column(
        ForeignKey("attempt.id", ondelete="CASCADE"), index=True
    )
    challenge_id: Mapped[str] = mapped_column(String(100), index=True)
    parcours_id: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text, default="")
    locale: Mapped[str] = mapped_column(String(10), default="fr")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

class ChallengeCalibration(Base):
    """Fitted parameters of one challenge (``socle calibrate``); they override the content's
    ``calibration`` when the tool starts. Difficulty is on the level scale."""

    __tablename__ = "challenge_calibration"

    challenge_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    difficulty: Mapped[float] = mapped_column(Float)
    discrimination: Mapped[float] = mapped_column(Float)
    difficulty_se: Mapped[float] = mapped_column(Float)
    discrimination_se: Mapped[float] = mapped_column(Float)
    answers: Mapped[int] = mapped_column(Integer)
    #: Which answers were used: "all platforms" or one platform's issuer.
    source: Mapped[str] = mapped_column(String(500))
    fitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

class ReportSnapshot(Base):
    """The figures of one organisation report, kept for every process of the tool
    (``lti_tool.reports.snapshots``): aggregates only, never an agent's identifier."""

    __tablename__ = "report_snapshot"
    __table_args__ = (UniqueConstraint("platform_id", "variant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[int] = mapped_column(
        ForeignKey("platform.id", ondelete="CASCADE"), index=True
    )
    #: What else the figures depend on (own course, minimum group, themes, labels), hashed.
    variant: Mapped[str] = mapped_column(String(64))
    #: The platform's change stamp the figures were computed at.
    stamp: Mapped[str] = mapped_column(String(500))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


# Tables of the administration console live with it; importing them here puts them on the
# same metadata for migrations and for the checks that walk every table.
from lti_tool.admin import models as _admin_models  # noqa: E402, F401
