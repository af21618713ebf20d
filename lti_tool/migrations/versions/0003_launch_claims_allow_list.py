"""keep only the allow-listed claims of launches stored before the allow-list

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 01:45:00

Launches recorded before ``lti_tool.lti.stored_claims`` held the whole id_token (names,
emails, pictures, vendor extensions), even for registrations that do not allow personal data.
This rewrites each stored ``launch.claims`` through the same allow-list that new launches go
through, in batches so that a large table is not loaded at once. Nothing else reads the
removed claims, so the downgrade has nothing to restore.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BATCH = 500

_launch = sa.table("launch", sa.column("id", sa.String), sa.column("claims", sa.JSON))


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):  # some drivers hand JSON back as text
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def upgrade() -> None:
    from lti_tool.lti.stored_claims import stored_claims

    bind = op.get_bind()
    last = ""
    while True:
        rows = bind.execute(
            sa.select(_launch.c.id, _launch.c.claims)
            .where(_launch.c.id > last)
            .order_by(_launch.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for launch_id, claims in rows:
            original = _as_dict(claims)
            kept = stored_claims(original)
            if kept != original:
                bind.execute(
                    _launch.update().where(_launch.c.id == launch_id).values(claims=kept)
                )
        last = rows[-1][0]


def downgrade() -> None:
    """Nothing to restore: the removed claims were never read after the launch."""
