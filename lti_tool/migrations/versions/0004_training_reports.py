"""agents' declared category; index for the reports' per-activity reads

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 04:00:00

``attempt.agent_category``: the category (A, B, C, contractuel) an agent may declare on the
start page, beside the job family (``job_profile_id``); the training reports break down by
both. ``ix_attempt_report``: the course report reads every attempt of one activity (the only
index on ``attempt`` so far starts with the user).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent_category", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_attempt_report", ["resource_link_pk", "preview"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_attempt_report")
        batch_op.drop_column("agent_category")
