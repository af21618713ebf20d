"""The tool's signing keys: generation, JWKS, rotation.

A key is published as soon as it exists and signs only from its ``not_before``; a superseded
key stays published for ``retention`` seconds, so tokens it signed still verify while
platforms refresh their cached copy of our JWKS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import ToolKey, utcnow


def _aware(value: datetime) -> datetime:
    """SQLite gives back naive datetimes; every stored datetime is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def generate_private_pem() -> str:
    return RSAKey.generate_key(2048).as_pem(private=True).decode("ascii")


def public_jwk(private_pem: str, kid: str) -> dict[str, Any]:
    public = dict(RSAKey.import_key(private_pem).as_dict(private=False))
    public.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return public


def thumbprint(private_pem: str) -> str:
    """RFC 7638 thumbprint: a stable, unique ``kid`` derived from the key itself."""
    return str(RSAKey.import_key(private_pem).thumbprint())


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    status: str  # next | active | retired
    created_at: datetime
    not_before: datetime
    published: bool


class KeyService:
    """Reads and changes the tool's keys inside the caller's session."""

    def __init__(self, session: Session, *, publish_delay: int, retention: int) -> None:
        self.session = session
        self.publish_delay = timedelta(seconds=publish_delay)
        self.retention = timedelta(seconds=retention)

    def _all(self) -> list[ToolKey]:
        return list(self.session.scalars(select(ToolKey).order_by(ToolKey.not_before)))

    def ensure_key(self) -> ToolKey:
        """Return the signing key, creating the first one if the tool has none."""
        now = utcnow()
        keys = self._all()
        if not keys:
            pem = generate_private_pem()
            key = ToolKey(kid=thumbprint(pem), private_pem=pem, created_at=now, not_before=now)
            self.session.add(key)
            self.session.flush()
            return key
        return self.signing_key(keys, now)

    def signing_key(
        self, keys: list[ToolKey] | None = None, now: datetime | None = None
    ) -> ToolKey:
        now = now or utcnow()
        keys = self._all() if keys is None else keys
        usable = [k for k in keys if _aware(k.not_before) <= now]
        if not usable:
            raise LookupError("the tool has no signing key yet: run `socle keys rotate`")
        return usable[-1]

    def describe(self, now: datetime | None = None) -> list[KeyInfo]:
        now = now or utcnow()
        keys = self._all()
        active = self.signing_key(keys, now) if keys else None
        infos = []
        for index, key in enumerate(keys):
            not_before = _aware(key.not_before)
            if active is not None and key.kid == active.kid:
                status, published = "active", True
            elif not_before > now:
                status, published = "next", True
            else:
                successor = keys[index + 1]
                status = "retired"
                published = _aware(successor.not_before) + self.retention > now
            infos.append(KeyInfo(key.kid, status, _aware(key.created_at), not_before, published))
        return infos

    def jwks(self, now: datetime | None = None) -> dict[str, Any]:
        published = {info.kid for info in self.describe(now) if info.published}
        keys = [public_jwk(k.private_pem, k.kid) for k in self._all() if k.kid in published]
        return {"keys": keys}

    def rotate(self, delay: int | None = None) -> ToolKey:
        """Add a key that is published now and signs once ``delay`` seconds have passed."""
        now = utcnow()
        wait = self.publish_delay if delay is None else timedelta(seconds=delay)
        pem = generate_private_pem()
        key = ToolKey(kid=thumbprint(pem), private_pem=pem, created_at=now, not_before=now + wait)
        self.session.add(key)
        self.session.flush()
        return key
