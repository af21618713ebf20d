"""Secrets kept in the database, encrypted under a key derived from the application secret.

One scheme for every secret the tool stores (LRS passwords here, the tool's RSA private keys
in ``lti_tool.lti.keys``): HKDF-SHA256 derives a 32-byte key from the application secret
(``SOCLE_SECRET_KEY``) with a salt and a context label of its own per use, so no two uses
share a key, and Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) seals the value.
A database dump or a copied SQLite file therefore hands out no secret without the
application secret, which lives outside the database.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_fernet(secret: str, *, salt: bytes, info: bytes) -> Fernet:
    """The Fernet key of one use (``salt``, ``info``) of the application secret."""
    if not secret:
        raise ValueError("an application secret (SOCLE_SECRET_KEY) is needed")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(
        secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))
