"""organisation reports kept for every process

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 11:30:00

``report_snapshot`` keeps the figures of each organisation report (aggregates only) with the
platform's change stamp they were computed at: every process and node of the tool serves
them, and refreshes them off the request path when new results arrive.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_snapshot",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(64), nullable=False),
        sa.Column("stamp", sa.String(500), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platform.id"],
            name=op.f("fk_report_snapshot_platform_id_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_snapshot")),
        sa.UniqueConstraint("platform_id", "variant", name=op.f("uq_report_snapshot_platform_id")),
    )
    op.create_index(
        op.f("ix_report_snapshot_platform_id"), "report_snapshot", ["platform_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("report_snapshot")
