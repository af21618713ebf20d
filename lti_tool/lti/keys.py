"""The tool's signing keys: generation, JWKS, rotation.

A key is published as soon as it exists and signs only from its ``not_before``; a superseded
key stays published for ``retention`` seconds, so tokens it signed still verify while
platforms refresh their cached copy of our JWKS.

Private keys are stored encrypted (Fernet under a key derived by HKDF from
``SOCLE_SECRET_KEY``, the scheme of :mod:`xapi.sealing` that also protects LRS passwords): a
copy of the database, or of the SQLite file, does not let anyone sign launches and grades
as the tool. The price is that the secret key must be kept: with another secret the keys
cannot be decrypted, and the tool says so instead of silently generating a new key that no
platform knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken
from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import ToolKey, utcnow
from xapi.sealing import derive_fernet

if TYPE_CHECKING:
    from lti_tool.config import Settings

PEM_PREFIX = "-----BEGIN"


class KeySecretError(RuntimeError):
    """A stored private key cannot be decrypted with the configured secret key."""


def _fernet(secret_key: str) -> Fernet:
    try:
        return derive_fernet(secret_key, salt=b"socle-tool-key", info=b"rsa-private-key")
    except ValueError as exc:
        raise KeySecretError(str(exc)) from exc


def seal_private_key(pem: str, secret_key: str) -> str:
    """Encrypt a PEM for storage."""
    return _fernet(secret_key).encrypt(pem.encode("ascii")).decode("ascii")


def unseal_private_key(sealed: str, secret_key: str, kid: str = "") -> str:
    """Decrypt a stored key, or say plainly why not and what to do."""
    if sealed.startswith(PEM_PREFIX):
        raise KeySecretError(
            f"the tool key {kid} is stored in clear: run `socle db upgrade` to encrypt it"
        )
    try:
        return _fernet(secret_key).decrypt(sealed.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise KeySecretError(
            f"the tool key {kid} cannot be decrypted: SOCLE_SECRET_KEY is not the one it was "
            "encrypted with. Set SOCLE_SECRET_KEY back to its former value (or restore "
            "instance/secret_key); if it is lost, delete the rows of the tool_key table and "
            "give the platforms the new key (their keyset URL picks it up)."
        ) from exc


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

    def __init__(
        self, session: Session, *, secret_key: str, publish_delay: int, retention: int
    ) -> None:
        self.session = session
        self.secret_key = secret_key
        self.publish_delay = timedelta(seconds=publish_delay)
        self.retention = timedelta(seconds=retention)

    @classmethod
    def from_settings(cls, session: Session, settings: Settings) -> KeyService:
        return cls(
            session,
            secret_key=settings.secret_key,
            publish_delay=settings.key_publish_delay,
            retention=settings.key_retention,
        )

    def _all(self) -> list[ToolKey]:
        keys = list(self.session.scalars(select(ToolKey).order_by(ToolKey.not_before)))
        for key in keys:
            if "_private_pem" not in key.__dict__:
                key.unseal(unseal_private_key(key.private_key_encrypted, self.secret_key, key.kid))
        return keys

    def _new_key(self, not_before: datetime, now: datetime) -> ToolKey:
        pem = generate_private_pem()
        key = ToolKey(
            kid=thumbprint(pem),
            private_key_encrypted=seal_private_key(pem, self.secret_key),
            created_at=now,
            not_before=not_before,
        )
        key.unseal(pem)
        self.session.add(key)
        self.session.flush()
        return key

    def ensure_key(self) -> ToolKey:
        """Return the signing key, creating the first one if the tool has none."""
        now = utcnow()
        keys = self._all()
        if not keys:
            return self._new_key(now, now)
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
        return self._new_key(now + wait, now)

    def retire(self, kid: str, now: datetime | None = None) -> KeyInfo:
        """Withdraw a key now: a superseded key before the end of its retention, or a next
        key that should not become the signing one. The signing key cannot be retired (rotate
        first, then retire it once platforms know its successor)."""
        now = now or utcnow()
        infos = {info.kid: info for info in self.describe(now)}
        info = infos.get(kid)
        if info is None:
            raise LookupError(f"no tool key {kid!r}")
        if info.status == "active":
            raise ValueError(
                f"key {kid} signs the tool's messages: rotate first, then retire it once the "
                "new key signs"
            )
        key = self.session.get(ToolKey, kid)
        self.session.delete(key)
        self.session.flush()
        return info
