"""extended time per attempt, and the problems agents report on challenges

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 04:00:00

``attempt.time_factor`` keeps the « temps majoré » an agent chose on the start page (1, 1.5
or 2; existing attempts ran at 1). ``challenge_report`` keeps « Signaler un problème »
reports for the content team, deleted with their attempt.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attempt") as batch:
        batch.add_column(sa.Column("time_factor", sa.Float(), nullable=False, server_default="1"))
    op.create_table(
        "challenge_report",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "attempt_id",
            sa.String(36),
            sa.ForeignKey("attempt.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("challenge_id", sa.String(100), nullable=False),
        sa.Column("parcours_id", sa.String(100), nullable=False),
        sa.Column("category", sa.String(30), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_challenge_report_attempt_id", "challenge_report", ["attempt_id"])
    op.create_index("ix_challenge_report_challenge_id", "challenge_report", ["challenge_id"])


def downgrade() -> None:
    op.drop_table("challenge_report")
    with op.batch_alter_table("attempt") as batch:
        batch.drop_column("time_factor")
