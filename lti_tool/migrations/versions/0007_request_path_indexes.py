"""indexes for the report, background and purge queries at scale

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 04:20:00

Found with ``benchmarks/db_queries.py`` (EXPLAIN of every player, report and background
query on 1 million generated answers): these queries scanned whole tables.

* the activity report (attempts of one resource link, by start): the unique key
  (user, resource link, number) starts with the user, so it cannot serve it;
* the purge (attempts of expired launches, expired launches, login states and nonces);
* the grade sync (due pending scores) and the metrics' gradebook backlog: partial indexes,
  only the few rows still waiting are indexed;
* the idle-attempt sweep (started attempts by start time): partial, started attempts only.

Partial indexes are spelled for both databases the tool runs on (PostgreSQL and SQLite
both support ``CREATE INDEX ... WHERE``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_PENDING = sa.text("grade_status = 'pending'")
_BACKLOG = sa.text("grade_status IN ('pending', 'failed')")
_STARTED = sa.text("status = 'started'")


def upgrade() -> None:
    op.create_index(
        "ix_attempt_resource_link_started", "attempt", ["resource_link_pk", "started_at"]
    )
    op.create_index("ix_attempt_launch_id", "attempt", ["launch_id"])
    op.create_index(
        "ix_attempt_grade_due",
        "attempt",
        ["grade_next_try_at"],
        postgresql_where=_PENDING,
        sqlite_where=_PENDING,
    )
    op.create_index(
        "ix_attempt_grade_backlog",
        "attempt",
        ["grade_status"],
        postgresql_where=_BACKLOG,
        sqlite_where=_BACKLOG,
    )
    op.create_index(
        "ix_attempt_started_idle",
        "attempt",
        ["started_at"],
        postgresql_where=_STARTED,
        sqlite_where=_STARTED,
    )
    op.create_index("ix_launch_expires_at", "launch", ["expires_at"])
    op.create_index("ix_login_state_expires_at", "login_state", ["expires_at"])
    op.create_index("ix_used_nonce_expires_at", "used_nonce", ["expires_at"])


def downgrade() -> None:
    for table, name in (
        ("used_nonce", "ix_used_nonce_expires_at"),
        ("login_state", "ix_login_state_expires_at"),
        ("launch", "ix_launch_expires_at"),
        ("attempt", "ix_attempt_started_idle"),
        ("attempt", "ix_attempt_grade_backlog"),
        ("attempt", "ix_attempt_grade_due"),
        ("attempt", "ix_attempt_launch_id"),
        ("attempt", "ix_attempt_resource_link_started"),
    ):
        op.drop_index(name, table_name=table)
