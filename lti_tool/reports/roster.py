"""The course roster from LTI Names and Role Provisioning Services (NRPS).

Fetched live for the teacher's page when the launch offers the service: learners who never
opened the activity appear as « non commencé », and names appear when the platform shares
them. Names are stored (in ``LtiUser``) only when the registration allows personal data; the
pseudonymous ``sub`` is all that is kept otherwise. A platform that fails or is slow costs the
page its roster, never the page: the report shows the attempts and says why the roster is
missing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final, cast
from urllib.parse import quote

import requests
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.names_roles import NamesRolesProvisioningService
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.config import Settings
from lti_tool.lti.keys import KeyService
from lti_tool.lti.registrations import to_registration
from lti_tool.lti.stored_claims import NRPS_CLAIM
from lti_tool.models import Launch, LtiUser
from lti_tool.player.grades import CachingServiceConnector, TimeoutSession
from lti_tool.reports.queries import Member

log = logging.getLogger(__name__)

LEARNER_ROLES: Final = ("Learner", "Student")
MAX_MEMBERS: Final = 20_000
"""Members read at most: beyond, the roster is cut and the page says so."""


@dataclass(frozen=True)
class Roster:
    members: tuple[Member, ...] = ()
    offered: bool = False
    error: str | None = None
    truncated: bool = False


def offers_roster(launch: Launch) -> bool:
    claim = launch.claims.get(NRPS_CLAIM)
    return isinstance(claim, dict) and bool(claim.get("context_memberships_url"))


def _is_learner(roles: Any) -> bool:
    if not isinstance(roles, list):
        return False
    return any(str(role).rsplit("#", 1)[-1] in LEARNER_ROLES for role in roles)


def fetch_roster(session: Session, launch: Launch, settings: Settings) -> Roster:
    """The members of the launch's course restricted to its activity (``rlid``)."""
    if not offers_roster(launch):
        return Roster()
    claim = dict(launch.claims[NRPS_CLAIM])
    registration = to_registration(
        launch.platform, KeyService.from_settings(session, settings).ensure_key()
    )
    connector = CachingServiceConnector(registration, TimeoutSession(settings.http_timeout))
    service = NamesRolesProvisioningService(connector, cast(Any, claim))
    members: list[Member] = []
    url: str | None = claim["context_memberships_url"]
    link = launch.resource_link
    if url and link is not None:
        separator = "&" if "?" in url else "?"
        url = f"{url}{separator}rlid={quote(link.resource_link_id, safe='')}"
    pages = 0
    try:
        while url and len(members) < MAX_MEMBERS and pages < 1000:
            page, url = service.get_members_page(url)
            pages += 1
            for item in page:
                if not isinstance(item, dict) or not item.get("user_id"):
                    continue
                if item.get("status", "Active") != "Active":
                    continue
                members.append(
                    Member(
                        sub=str(item["user_id"]),
                        name=str(item["name"]) if item.get("name") else None,
                        email=str(item["email"]) if item.get("email") else None,
                        learner=_is_learner(item.get("roles")),
                    )
                )
    except (LtiException, LtiServiceException, requests.RequestException, ValueError) as exc:
        log.warning("roster of launch %s not read: %s", launch.id, exc)
        return Roster(offered=True, error=type(exc).__name__)
    return Roster(tuple(members), offered=True, truncated=bool(url))


def store_names(session: Session, launch: Launch, roster: Roster) -> int:
    """Keep the roster's names for the agents already known, when the registration allows
    personal data; nothing otherwise. Returns how many rows changed."""
    if not launch.platform.store_personal_data or not roster.members:
        return 0
    by_sub = {m.sub: m for m in roster.members if m.name or m.email}
    changed = 0
    subs = list(by_sub)
    for start in range(0, len(subs), 900):
        for user in session.scalars(
            select(LtiUser).where(
                LtiUser.platform_id == launch.platform_id,
                LtiUser.sub.in_(subs[start : start + 900]),
            )
        ):
            member = by_sub[user.sub]
            if (member.name or user.name) != user.name or (
                member.email or user.email
            ) != user.email:
                user.name = member.name or user.name
                user.email = member.email or user.email
                changed += 1
    return changed
