"""Platform registrations (``socle platform add/list/remove``) and pylti1p3's view of them.

Registrations live in the database: several platforms, one issuer with many client ids,
each with many deployments. ``DbToolConf`` adapts them to pylti1p3's ``ToolConfAbstract`` so
its deep-linking and grade services work from the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.request import Request
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.lti.keys import public_jwk
from lti_tool.models import Deployment, Platform, ToolKey


class RegistrationError(ValueError):
    """A registration request that cannot be honoured; the message says why."""


class RegistrationExists(RegistrationError):
    """The (issuer, client id) is registered already and the caller may not change it."""


# What ``add_platform`` does when the (issuer, client id) is registered already:
# "refuse" (dynamic registration: an unauthenticated request must never alter a trusted
# registration), "add_deployments" (``socle platform add`` run again with one more deployment
# id: accepted only when every other setting is unchanged), "update" (``--update``: the
# administrator replaces the endpoints and settings on purpose).
OnExisting = Literal["refuse", "add_deployments", "update"]


@dataclass(frozen=True)
class PlatformInput:
    """What an LMS administrator copies from the LMS into ``socle platform add``."""

    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    deployment_ids: tuple[str, ...] = ()
    name: str | None = None
    auth_audience: str | None = None
    store_personal_data: bool = False


def _check_url(label: str, value: str, *, allow_http: bool) -> None:
    parts = urlsplit(value)
    schemes = {"https", "http"} if allow_http else {"https"}
    if parts.scheme not in schemes or not parts.netloc:
        expected = "an http(s) URL" if allow_http else "an https URL"
        raise RegistrationError(f"{label} must be {expected}, got {value!r}")


def is_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in {"localhost", "127.0.0.1", "::1"} or host.endswith(".localhost")


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def _same_settings(platform: Platform, data: PlatformInput) -> bool:
    return (
        platform.auth_login_url == data.auth_login_url
        and platform.auth_token_url == data.auth_token_url
        and platform.key_set_url == data.key_set_url
        and platform.auth_audience == data.auth_audience
        and platform.store_personal_data == data.store_personal_data
        and (not data.name or platform.name == data.name)
    )


def add_platform(
    session: Session, data: PlatformInput, *, existing: OnExisting = "refuse"
) -> Platform:
    """Register a platform; what happens to an existing (issuer, client id) is ``existing``'s.

    Plain http is accepted only for local addresses (the demo LMS, tests): a real platform
    must use https so its keys and tokens cannot be tampered with on the way.
    """
    for label, value in (
        ("issuer", data.issuer),
        ("auth login URL", data.auth_login_url),
        ("auth token URL", data.auth_token_url),
        ("key set URL", data.key_set_url),
    ):
        _check_url(label, value, allow_http=is_local(value))
    if not data.client_id.strip():
        raise RegistrationError("client id must not be empty")
    deployment_ids = tuple(d.strip() for d in data.deployment_ids if d.strip())
    if not deployment_ids:
        raise RegistrationError("at least one deployment id is required")

    platform = session.scalar(
        select(Platform).where(Platform.issuer == data.issuer, Platform.client_id == data.client_id)
    )
    if platform is None:
        platform = Platform(
            name=data.name or urlsplit(data.issuer).netloc,
            issuer=data.issuer,
            client_id=data.client_id,
            auth_login_url=data.auth_login_url,
            auth_token_url=data.auth_token_url,
            key_set_url=data.key_set_url,
            auth_audience=data.auth_audience,
            store_personal_data=data.store_personal_data,
        )
        session.add(platform)
    elif existing == "refuse":
        raise RegistrationExists(
            f"issuer {data.issuer!r} with client id {data.client_id!r} is registered already"
        )
    elif existing == "add_deployments" and not _same_settings(platform, data):
        raise RegistrationExists(
            f"issuer {data.issuer!r} with client id {data.client_id!r} is registered already "
            "with other settings: pass --update to replace them"
        )
    elif existing == "update":
        platform.auth_login_url = data.auth_login_url
        platform.auth_token_url = data.auth_token_url
        platform.key_set_url = data.key_set_url
        platform.auth_audience = data.auth_audience
        platform.store_personal_data = data.store_personal_data
        if data.name:
            platform.name = data.name
    known = {d.deployment_id for d in platform.deployments}
    for deployment_id in deployment_ids:
        if deployment_id not in known:
            platform.deployments.append(Deployment(deployment_id=deployment_id))
    session.flush()
    return platform


def list_platforms(session: Session) -> list[Platform]:
    return list(session.scalars(select(Platform).order_by(Platform.issuer, Platform.client_id)))


def remove_platform(
    session: Session, issuer: str, client_id: str | None = None, deployment_id: str | None = None
) -> int:
    """Remove a registration (or one deployment of it). Returns how many rows went."""
    query = select(Platform).where(Platform.issuer == issuer)
    if client_id:
        query = query.where(Platform.client_id == client_id)
    platforms = list(session.scalars(query))
    if not platforms:
        raise RegistrationError(f"no platform registered with issuer {issuer!r}")
    if len(platforms) > 1 and not client_id:
        ids = ", ".join(p.client_id for p in platforms)
        raise RegistrationError(f"issuer {issuer!r} has several client ids ({ids}): pick one")
    removed = 0
    for platform in platforms:
        if deployment_id:
            for deployment in list(platform.deployments):
                if deployment.deployment_id == deployment_id:
                    session.delete(deployment)
                    removed += 1
            if not removed:
                raise RegistrationError(f"no deployment {deployment_id!r} for issuer {issuer!r}")
        else:
            session.delete(platform)
            removed += 1
    session.flush()
    return removed


def find_platform(session: Session, issuer: str, client_id: str | None) -> Platform | None:
    """The registration for an issuer and client id; the client id may be omitted only when
    the issuer has exactly one registration (some platforms leave it out of login requests)."""
    query = select(Platform).where(Platform.issuer == issuer)
    if client_id:
        return session.scalar(query.where(Platform.client_id == client_id))
    platforms = list(session.scalars(query))
    return platforms[0] if len(platforms) == 1 else None


def allowed_registration_hosts(session: Session, settings: Any) -> tuple[str, ...]:
    """Hosts allowed to use dynamic registration: ``SOCLE_REGISTRATION_HOSTS`` and those an
    administrator added in the console."""
    from lti_tool.admin.models import RegistrationHost

    stored = session.scalars(select(RegistrationHost.host))
    return tuple(dict.fromkeys([*settings.registration_hosts, *stored]))


def framing_origins(session: Session) -> list[str]:
    """Origins allowed to embed the tool: those of every registered platform."""
    origins: set[str] = set()
    for issuer, login_url in session.execute(select(Platform.issuer, Platform.auth_login_url)):
        for url in (issuer, login_url):
            origin = origin_of(url)
            if origin:
                origins.add(origin)
    return sorted(origins)


def to_registration(platform: Platform, signing_key: ToolKey | None) -> Registration:
    registration = (
        Registration()
        .set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_login_url(platform.auth_login_url)
        .set_auth_token_url(platform.auth_token_url)
        .set_key_set_url(platform.key_set_url)
    )
    if platform.auth_audience:
        registration.set_auth_audience(platform.auth_audience)
    if signing_key is not None:
        registration.set_tool_private_key(signing_key.private_pem)
        registration.set_tool_public_key(signing_key.private_pem)
    return registration


class DbToolConf(ToolConfAbstract[Request]):
    """pylti1p3 tool configuration read from the database (many client ids per issuer)."""

    def __init__(self, session: Session, signing_key: ToolKey | None) -> None:
        super().__init__()
        self.session = session
        self.signing_key = signing_key

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        platform = find_platform(self.session, iss, None)
        if platform is None:
            raise RegistrationError(f"unknown issuer {iss!r}")
        return to_registration(platform, self.signing_key)

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Registration:
        platform = find_platform(self.session, iss, client_id)
        if platform is None:
            raise RegistrationError(f"unknown issuer {iss!r} / client id {client_id!r}")
        return to_registration(platform, self.signing_key)

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        return self.find_deployment_by_params(iss, deployment_id, "")

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> LtiDeployment | None:
        platform = find_platform(self.session, iss, client_id or None)
        if platform is None:
            return None
        for deployment in platform.deployments:
            if deployment.deployment_id == deployment_id:
                return LtiDeployment().set_deployment_id(deployment_id)
        return None

    def get_jwks(
        self, iss: str | None = None, client_id: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        if self.signing_key is None:
            return {"keys": []}
        return {"keys": [public_jwk(self.signing_key.private_pem, self.signing_key.kid)]}
