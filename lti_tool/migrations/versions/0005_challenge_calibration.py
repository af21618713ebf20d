"""fitted challenge parameters (socle calibrate)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 04:10:00

``challenge_calibration`` holds, per challenge, the difficulty and discrimination fitted from
recorded answers by ``socle calibrate``, with their standard errors and sample size. The tool
reads them at start-up and they override the content's ``calibration`` (the content ships in
the image; the answers live in the database).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "challenge_calibration",
        sa.Column("challenge_id", sa.String(100), primary_key=True),
        sa.Column("difficulty", sa.Float(), nullable=False),
        sa.Column("discrimination", sa.Float(), nullable=False),
        sa.Column("difficulty_se", sa.Float(), nullable=False),
        sa.Column("discrimination_se", sa.Float(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("challenge_calibration")
