"""The demo LMS's signing key: generated once, kept on disk, published as a JWKS.

The key must survive restarts, otherwise a tool that cached the platform's JWKS (as real tools
do) would reject every id_token after `socle demo` is restarted.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.registration import Registration

KEY_FILENAME = "demo-lms-key.pem"


class DemoLmsKeyError(Exception):
    """The key file exists but cannot be used; the message says what to do."""


@dataclass(frozen=True)
class PlatformKey:
    """The platform's RSA key pair: PEM for lti1p3platform, and the loaded key for signing.

    Loading a PEM private key costs about 50 ms (cryptography checks the key), and PyJWT would
    do it for every id_token; signing with the already loaded key takes well under 1 ms.
    """

    private_pem: str
    public_pem: str
    private_key: rsa.RSAPrivateKey

    @cached_property
    def public_jwk(self) -> dict[str, Any]:
        """Public JWK with `kid`, `alg` and `use`, computed the way lti1p3platform signs.

        lti1p3platform puts the RFC 7638 thumbprint in the `kid` header of every id_token; the
        JWKS must carry the same value, so both come from `Registration.get_jwk`.
        """
        return dict(Registration.get_jwk(self.public_pem))

    @cached_property
    def kid(self) -> str:
        return str(self.public_jwk["kid"])

    def derived_secret(self, purpose: str) -> bytes:
        """A symmetric secret for one purpose, derived from the private key.

        Signing message hints needs an HMAC secret that also survives restarts; deriving it
        from the key already kept in `data_dir` avoids a second secret file.
        """
        return hashlib.sha256(
            b"socle-demo-lms\0" + purpose.encode() + b"\0" + self.private_pem.encode()
        ).digest()


def _public_pem(private_key: rsa.RSAPrivateKey) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def _create(path: Path) -> None:
    """Write a fresh 2048-bit key readable by the owner only.

    `O_EXCL` makes two processes starting together keep the first key instead of racing.
    """
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(pem)


def load_or_create_platform_key(data_dir: Path) -> PlatformKey:
    """Return the key kept in `data_dir`, generating it on first start."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / KEY_FILENAME
    if not path.exists():
        _create(path)
    try:
        private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise DemoLmsKeyError(
            f"{path} is not an unencrypted PEM private key; delete it to generate a new one"
        ) from exc
    if not isinstance(private_key, rsa.RSAPrivateKey) or private_key.key_size < 2048:
        raise DemoLmsKeyError(f"{path} must hold an RSA key of at least 2048 bits; delete it")
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return PlatformKey(
        private_pem=private_pem, public_pem=_public_pem(private_key), private_key=private_key
    )
