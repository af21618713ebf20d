"""Who may use the console, and how they prove it: OpenID Connect, or a one-time link.

OpenID Connect (authlib's Flask client, built for ProConnect): authorization code with PKCE
(S256), ``state`` and ``nonce`` kept in the session by authlib; the id_token is checked by
authlib (signature against the provider's JWKS, ``iss``, ``aud``/``azp``, ``exp``/``iat``
with 5 s leeway, ``nonce``, ``at_hash``). The userinfo answer is read here, because authlib's
``userinfo()`` expects JSON and ProConnect answers a signed JWT (``application/jwt``): a JWT
answer is verified like the id_token (signature, ``iss``, ``aud``), and its ``sub`` must be
the id_token's (OpenID Connect Core 5.3.2) — a tampered or substituted answer is refused.

Who is an administrator: an email in ``SOCLE_ADMIN_EMAILS``, or a userinfo claim with the
value of ``SOCLE_ADMIN_CLAIM`` (e.g. the SIRET of the collectivité). Anybody else who signs in
at the provider is refused, and the refusal is written to the audit log.

Without a provider (small deployments), ``socle admin link --email …`` prints a link that
signs in once, within minutes; only its SHA-256 is stored (``SignInLink``).

The session (Flask's signed cookie, ``socle_admin`` on ``/admin``) is HttpOnly, SameSite=Lax,
Secure unless the tool runs on plain http on a loopback address, and ends after
``SOCLE_ADMIN_IDLE_MINUTES`` without a request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.integrations.flask_client import OAuth
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.admin.models import SignInLink
from lti_tool.admin.settings import AdminSettings, PrivacySettings

CLIENT_NAME = "socle_admin"
CLOCK_LEEWAY = 5  # seconds, as for LTI launches (architecture.md)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class SignInRefused(Exception):
    """A sign-in that must not succeed; ``reason`` is a code the page turns into French."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Administrator:
    """The signed-in person, as the session keeps them."""

    email: str
    name: str
    subject: str
    via: str  # "oidc" | "link"

    def as_session(self) -> dict[str, str]:
        return {"email": self.email, "name": self.name, "subject": self.subject, "via": self.via}

    @classmethod
    def from_session(cls, data: Mapping[str, Any]) -> Administrator | None:
        try:
            return cls(
                str(data["email"]), str(data["name"]), str(data["subject"]), str(data["via"])
            )
        except (KeyError, TypeError):
            return None


def is_administrator(settings: AdminSettings, claims: Mapping[str, Any]) -> bool:
    """The allow-list: an email of ``SOCLE_ADMIN_EMAILS`` or the claim of ``SOCLE_ADMIN_CLAIM``.

    The email counts only when the provider says it is verified or says nothing of it
    (ProConnect vouches for the emails it sends and has no ``email_verified``)."""
    email = str(claims.get("email") or "").strip().lower()
    if email and claims.get("email_verified", True) is not False and email in settings.admin_emails:
        return True
    if settings.admin_claim is not None:
        name, expected = settings.admin_claim
        value = claims.get(name)
        values = value if isinstance(value, list) else [value]
        return any(str(item) == expected for item in values if item is not None)
    return False


def display_name(claims: Mapping[str, Any]) -> str:
    """ProConnect's ``given_name`` + ``usual_name``, else ``name``, else the email."""
    parts = [str(claims.get(key) or "").strip() for key in ("given_name", "usual_name")]
    name = " ".join(part for part in parts if part) or str(claims.get("name") or "").strip()
    return name or str(claims.get("email") or claims.get("sub") or "")


def verify_userinfo_jwt(
    token: str, *, jwks: Mapping[str, Any], issuer: str, client_id: str, algorithms: list[str]
) -> dict[str, Any]:
    """Claims of a signed userinfo answer: signature, then ``iss`` and ``aud`` when present
    (OpenID Connect Core 5.3.2: a signed answer SHOULD carry them; ProConnect's does)."""
    try:
        decoded = jwt.decode(
            token,
            KeySet.import_key_set(dict(jwks)),  # type: ignore[arg-type]
            registry=JWSRegistry(algorithms=algorithms),
        )
    except (JoseError, ValueError) as exc:
        raise SignInRefused("userinfo_invalid", str(exc)) from exc
    claims = dict(decoded.claims)
    if "iss" in claims and claims["iss"] != issuer:
        raise SignInRefused("userinfo_invalid", "issuer")
    audience = claims.get("aud")
    if audience is not None:
        audiences = audience if isinstance(audience, list) else [audience]
        if client_id not in audiences:
            raise SignInRefused("userinfo_invalid", "audience")
    return claims


@dataclass
class AdminConsole:
    """What the console's views need: its settings, the OIDC client, a clock (tests set it)."""

    settings: AdminSettings
    privacy: PrivacySettings
    http_timeout: float
    clock: Callable[[], datetime] = utcnow
    oauth: OAuth | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def idle(self) -> timedelta:
        return timedelta(minutes=self.settings.idle_minutes)

    def client(self) -> Any:
        if self.oauth is None:
            raise SignInRefused("not_configured")
        return self.oauth.create_client(CLIENT_NAME)

    def oidc_userinfo(
        self, token: Mapping[str, Any], id_claims: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The userinfo answer, verified when signed, whose ``sub`` matches the id_token's."""
        client = self.client()
        metadata = client.load_server_metadata()
        endpoint = metadata.get("userinfo_endpoint")
        if not endpoint:
            return dict(id_claims)
        response = client.get(endpoint, token=dict(token), timeout=self.http_timeout)
        if response.status_code != 200:
            raise SignInRefused("userinfo_failed", f"HTTP {response.status_code}")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type == "application/jwt":
            algorithms = metadata.get("userinfo_signing_alg_values_supported") or ["RS256"]
            try:
                claims = verify_userinfo_jwt(
                    response.text.strip(),
                    jwks=client.fetch_jwk_set(),
                    issuer=metadata["issuer"],
                    client_id=self.settings.oidc_client_id,
                    algorithms=[alg for alg in algorithms if alg != "none"],
                )
            except SignInRefused:  # a rotated key: fetch the key set once more
                claims = verify_userinfo_jwt(
                    response.text.strip(),
                    jwks=client.fetch_jwk_set(force=True),
                    issuer=metadata["issuer"],
                    client_id=self.settings.oidc_client_id,
                    algorithms=[alg for alg in algorithms if alg != "none"],
                )
        else:
            try:
                claims = dict(response.json())
            except ValueError as exc:
                raise SignInRefused("userinfo_invalid", "not JSON") from exc
        if claims.get("sub") != id_claims.get("sub"):
            raise SignInRefused("userinfo_invalid", "sub differs from the id_token's")
        return {**dict(id_claims), **claims}


def build_oauth(app: Any, settings: AdminSettings, http_timeout: float) -> OAuth | None:
    if not settings.oidc_configured:
        return None
    oauth = OAuth(app)
    oauth.register(
        CLIENT_NAME,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": settings.oidc_scopes,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_post",
            "default_timeout": http_timeout,
        },
    )
    return oauth


# --- one-time links -----------------------------------------------------------------------
def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_sign_in_link(
    session: Session, email: str, *, minutes: int, now: datetime | None = None
) -> str:
    """Store a one-time link for ``email``; return its secret (shown once, never stored)."""
    if "@" not in email or not email.strip():
        raise ValueError(f"{email!r} is not an email address")
    moment = now or utcnow()
    secret = secrets.token_urlsafe(32)
    session.add(
        SignInLink(
            digest=_digest(secret),
            email=email.strip().lower(),
            created_at=moment,
            expires_at=moment + timedelta(minutes=minutes),
        )
    )
    session.flush()
    return secret


def use_sign_in_link(session: Session, secret: str, now: datetime) -> str:
    """Consume a link: the email it signs in, or :class:`SignInRefused` (unknown, used,
    expired). The row is locked so that two clicks at once cannot both succeed."""
    row = session.scalar(
        select(SignInLink).where(SignInLink.digest == _digest(secret)).with_for_update()
    )
    if row is None:
        raise SignInRefused("link_unknown")
    if row.used_at is not None:
        raise SignInRefused("link_used")
    if _aware(row.expires_at) <= now:
        raise SignInRefused("link_expired")
    row.used_at = now
    session.flush()
    return row.email


def link_is_usable(session: Session, secret: str, now: datetime) -> bool:
    row = session.get(SignInLink, _digest(secret))
    return row is not None and row.used_at is None and _aware(row.expires_at) > now
