"""Service layer of the LTI flow: it owns the transactions of login and launch.

A launch is stored in one transaction (nonce recorded, user, course, activity and launch rows
written) only after :class:`LaunchValidator` accepted it, so a rejected launch leaves nothing
behind.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload

from lti_tool.db import Base
from lti_tool.i18n import SUPPORTED_LOCALES
from lti_tool.lti.launch import (
    AGS_CLAIM,
    CLAIM,
    DEEP_LINKING_REQUEST,
    LaunchRejected,
    ValidatedLaunch,
)
from lti_tool.lti.login import LoginBinding, launch_url, validated_login
from lti_tool.lti.registrations import find_platform
from lti_tool.lti.roles import side_for
from lti_tool.lti.stored_claims import stored_claims
from lti_tool.models import (
    Launch,
    LoginState,
    LtiContext,
    LtiUser,
    ResourceLink,
    UsedNonce,
)

Row = TypeVar("Row", bound=Base)


@dataclass(frozen=True)
class LoginRedirect:
    url: str
    state: str


@dataclass(frozen=True)
class LoginLimits:
    """The most unexpired login states one client address, and everyone, may hold."""

    per_address: int
    total: int


def _refuse_when_full(
    session: Session, limits: LoginLimits, address_prefix: str, now: datetime
) -> None:
    """Refuse a login when too many are in progress from this address, or from everyone.

    A login is in progress until its launch: a state whose nonce a launch has burned is kept
    until it expires (a copy of that launch must fail as a replay), but no longer counts —
    otherwise every completed launch of the last ``login_state_lifetime`` seconds would, and
    a site whose agents share one address (a town hall's NAT) would be refused after
    ``per_address`` launches in that time, however few were in progress.
    """
    completed = (
        select(UsedNonce.id)
        .where(
            UsedNonce.platform_id == LoginState.platform_id,
            UsedNonce.nonce == LoginState.nonce,
        )
        .exists()
    )
    unexpired = (
        select(func.count())
        .select_from(LoginState)
        .where(LoginState.expires_at >= now, ~completed)
    )
    mine = session.scalar(
        unexpired.where(LoginState.state.startswith(address_prefix, autoescape=True))
    )
    if (mine or 0) >= limits.per_address:
        raise LaunchRejected(
            "too_many_logins", f"{mine} logins in progress from this address", 429
        )
    everyone = session.scalar(unexpired) or 0
    if everyone >= limits.total:
        raise LaunchRejected("logins_saturated", f"{everyone} logins in progress", 503)


def start_login(
    session: Session,
    params: dict[str, str],
    *,
    base_url: str,
    lifetime: int,
    binding: LoginBinding,
    browser_id: str,
    client_address: str,
    limits: LoginLimits,
) -> LoginRedirect:
    """Answer a third-party-initiated login: remember state and nonce, go to the platform.

    Every parameter is checked before the first query; the state is bound to the browser
    (``browser_id``) and counted against its client address.
    """
    login = validated_login(params, base_url=base_url)
    platform = find_platform(session, login.iss, login.client_id)
    if platform is None:
        raise LaunchRejected("unknown_issuer", f"issuer {login.iss!r} is not registered", 403)
    deployment_id = login.lti_deployment_id
    if deployment_id and deployment_id not in {d.deployment_id for d in platform.deployments}:
        raise LaunchRejected("unknown_deployment", f"deployment {deployment_id!r} unknown", 403)

    now = datetime.now(UTC)
    session.execute(delete(LoginState).where(LoginState.expires_at < now))
    session.execute(delete(UsedNonce).where(UsedNonce.expires_at < now))
    _refuse_when_full(session, limits, binding.address_prefix(client_address), now)
    state = binding.new_state(browser_id, client_address)
    nonce = secrets.token_urlsafe(24)
    session.add(
        LoginState(
            state=state,
            nonce=nonce,
            platform_id=platform.id,
            target_link_uri=login.target_link_uri,
            created_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        )
    )
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": launch_url(base_url),
        "state": state,
        "nonce": nonce,
        "login_hint": login.login_hint,
    }
    if login.lti_message_hint:
        query["lti_message_hint"] = login.lti_message_hint
    separator = "&" if "?" in platform.auth_login_url else "?"
    return LoginRedirect(platform.auth_login_url + separator + urlencode(query), state)


def _locale(claims: dict[str, Any]) -> str:
    presentation = claims.get(CLAIM + "launch_presentation") or {}
    raw = str(presentation.get("locale") or "fr").replace("_", "-").lower()
    language = raw.split("-")[0]
    return language if language in SUPPORTED_LOCALES else "fr"


def _text(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if isinstance(value, str | int | float) and value != "" else None


def _insert_skipping_conflicts(session: Session, model: type[Base], **values: Any) -> Any:
    """An INSERT that accepts ``on_conflict_do_nothing``: the PostgreSQL or SQLite dialect's
    (the two databases the tool runs on; both spell it ``ON CONFLICT DO NOTHING``)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return insert(model).values(**values)


def _insert_or_get(session: Session, model: type[Row], **key: Any) -> Row:
    """The row of ``model`` with this unique ``key``, inserted if missing.

    Safe when requests insert the same key at once (a course's first launches): the INSERT
    skips a conflicting row (``ON CONFLICT DO NOTHING``, on SQLite and PostgreSQL alike),
    waiting for a concurrent insert of the same key to commit, then the row is read back.
    A read-then-insert would fail with a unique violation for every request but the first.
    """
    statement = _insert_skipping_conflicts(session, model, **key)
    session.execute(statement.on_conflict_do_nothing(index_elements=list(key)))
    return session.scalars(select(model).filter_by(**key)).one()


def _burn_nonce(session: Session, launch: ValidatedLaunch, expires_at: datetime) -> None:
    """Record the launch's nonce as used, or refuse the launch as a replay.

    This INSERT decides between copies of one id_token posted at once: one inserts the row,
    the others wait for it and find it there, and are refused as a replay sent later is.
    """
    statement = _insert_skipping_conflicts(
        session,
        UsedNonce,
        platform_id=launch.platform.id,
        nonce=launch.nonce,
        expires_at=expires_at,
    )
    inserted = session.scalar(
        statement.on_conflict_do_nothing(index_elements=["platform_id", "nonce"]).returning(
            UsedNonce.id
        )
    )
    if inserted is None:
        raise LaunchRejected("replayed", "this id_token nonce was already used", 403)


def record_launch(session: Session, launch: ValidatedLaunch, *, lifetime: int) -> Launch:
    """Store an accepted launch; the caller commits. Returns the launch row.

    Launches may arrive at the same moment (a group's first launches into a new course, a
    double-posted form): the nonce, user, course and activity rows are written with
    insert-or-get statements that are safe under concurrency. The login state is left to
    expire rather than deleted: its nonce is burned here, so it cannot serve again, and a
    concurrent copy of this launch then fails on the nonce, as a replay, not on the state.
    """
    claims = launch.claims
    platform = launch.platform
    now = datetime.now(UTC)
    exp = claims.get("exp")
    nonce_expiry = (
        datetime.fromtimestamp(float(exp), UTC) if isinstance(exp, int | float) else now
    ) + timedelta(hours=1)
    _burn_nonce(session, launch, nonce_expiry)

    user = None
    if not launch.anonymous:
        user = _insert_or_get(session, LtiUser, platform_id=platform.id, sub=str(claims["sub"]))
        if platform.store_personal_data:
            name = claims.get("name") or " ".join(
                str(claims[k]) for k in ("given_name", "family_name") if claims.get(k)
            )
            user.name = _text(name, 255) or user.name
            user.email = _text(claims.get("email"), 255) or user.email

    context = None
    context_claim = claims.get(CLAIM + "context") or {}
    if context_claim.get("id"):
        context = _insert_or_get(
            session,
            LtiContext,
            deployment_pk=launch.deployment.id,
            context_id=str(context_claim["id"])[:255],
        )
        context.title = _text(context_claim.get("title"), 500) or context.title
        context.label = _text(context_claim.get("label"), 255) or context.label

    resource_link = None
    if launch.message_type != DEEP_LINKING_REQUEST:
        link_claim = claims[CLAIM + "resource_link"]
        resource_link = _insert_or_get(
            session,
            ResourceLink,
            deployment_pk=launch.deployment.id,
            resource_link_id=str(link_claim["id"])[:255],
        )
        resource_link.context_pk = context.id if context else resource_link.context_pk
        resource_link.title = _text(link_claim.get("title"), 500) or resource_link.title
        custom = claims.get(CLAIM + "custom") or {}
        parcours = custom.get("parcours")
        if isinstance(parcours, str) and parcours:
            resource_link.parcours_id = parcours[:100]
        ags = claims.get(AGS_CLAIM) or {}
        if isinstance(ags, dict) and isinstance(ags.get("lineitem"), str):
            resource_link.lineitem_url = ags["lineitem"][:1000]

    row = Launch(
        platform_id=platform.id,
        deployment_pk=launch.deployment.id,
        user_pk=user.id if user else None,
        resource_link_pk=resource_link.id if resource_link else None,
        message_type=launch.message_type,
        role=side_for(claims),
        locale=_locale(claims),
        claims=stored_claims(claims),
        created_at=now,
        expires_at=now + timedelta(seconds=lifetime),
    )
    session.add(row)
    session.flush()
    return row


#: Built once, executed with the launch id: building it (four joined loads) on every page
#: was a third of its cost.
_LAUNCH_CONTEXT = (
    select(Launch)
    .where(Launch.id == bindparam("launch_id"))
    .options(
        joinedload(Launch.platform),
        joinedload(Launch.deployment),
        joinedload(Launch.user),
        joinedload(Launch.resource_link),
    )
)


def load_launch(session: Session, launch_id: str) -> Launch | None:
    """The unexpired launch ``launch_id`` with what every page reads of it — its platform,
    deployment, user and resource link — in one query (SQLAlchemy would otherwise load each
    on first access: four more round trips per page)."""
    row = session.scalars(_LAUNCH_CONTEXT, {"launch_id": launch_id}).one_or_none()
    return row if row is not None and unexpired(row) else None


def launch_context_options() -> tuple[Any, ...]:
    """The joined loads of :func:`load_launch`, for a query that reads more with it."""
    return (
        joinedload(Launch.platform),
        joinedload(Launch.deployment),
        joinedload(Launch.user),
        joinedload(Launch.resource_link),
    )


def unexpired(launch: Launch) -> bool:
    expires = launch.expires_at
    expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
    return expires > datetime.now(UTC)
