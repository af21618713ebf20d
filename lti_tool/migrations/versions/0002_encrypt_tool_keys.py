"""encrypt the tool's private keys at rest

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 01:10:00

``tool_key.private_pem`` held each RSA private key in clear; it becomes
``private_key_encrypted``, the PEM sealed with a key derived from ``SOCLE_SECRET_KEY``
(:func:`lti_tool.lti.keys.seal_private_key`). The secret comes from the caller
(``socle db upgrade`` passes the configured one), or from the environment as the tool reads it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_tool_key = sa.table(
    "tool_key",
    sa.column("kid", sa.String),
    sa.column("private_key_encrypted", sa.Text),
)


def _secret_key() -> str:
    secret = context.config.attributes.get("secret_key")
    if secret:
        return str(secret)
    from lti_tool.config import Settings

    return Settings.from_env().secret_key


def _rows() -> list[tuple[str, str]]:
    query = sa.select(_tool_key.c.kid, _tool_key.c.private_key_encrypted)
    return [(kid, value) for kid, value in op.get_bind().execute(query)]


def _rewrite(kid: str, value: str) -> None:
    op.get_bind().execute(
        _tool_key.update().where(_tool_key.c.kid == kid).values(private_key_encrypted=value)
    )


def upgrade() -> None:
    from lti_tool.lti.keys import PEM_PREFIX, seal_private_key, unseal_private_key

    with op.batch_alter_table("tool_key") as batch:
        batch.alter_column(
            "private_pem",
            new_column_name="private_key_encrypted",
            existing_type=sa.Text(),
            existing_nullable=False,
        )
    rows = _rows()
    if not rows:
        return
    secret = _secret_key()
    for kid, value in rows:
        if value.startswith(PEM_PREFIX):
            _rewrite(kid, seal_private_key(value, secret))
        else:  # already sealed (a database restored from a later backup): it must open
            unseal_private_key(value, secret, kid)


def downgrade() -> None:
    from lti_tool.lti.keys import PEM_PREFIX, unseal_private_key

    rows = _rows()
    if rows:
        secret = _secret_key()
        for kid, value in rows:
            if not value.startswith(PEM_PREFIX):
                _rewrite(kid, unseal_private_key(value, secret, kid))
    with op.batch_alter_table("tool_key") as batch:
        batch.alter_column(
            "private_key_encrypted",
            new_column_name="private_pem",
            existing_type=sa.Text(),
            existing_nullable=False,
        )
