"""Readiness: may this node take agents now?

``GET /readyz`` answers 200 only when the three things a page needs are there:

* the database answers;
* its schema is at the migrations' head: a node started with newer code than the schema
  (the one-shot migration not run yet, or failed) would fail on its first query of a new
  column, so it stays out of the load balancer instead;
* the content is loaded and has at least one parcours (a node started on an empty or wrong
  ``SOCLE_CONTENT_DIR`` would answer every launch with "no parcours").

Liveness (``/healthz``) stays a plain 200: a node waiting for a migration is alive, and
restarting it would not help.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.orm import Session

from lti_tool.config import PACKAGE_DIR


@functools.cache
def migration_heads() -> frozenset[str]:
    """The head revision(s) of the migrations shipped with this code (read once)."""
    from lti_tool.migrate import alembic_config

    config = alembic_config("sqlite://")
    config.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@dataclass(frozen=True)
class Readiness:
    database: str
    migrations: str
    content: str

    @property
    def ready(self) -> bool:
        return self.database == self.migrations == self.content == "ok"

    def as_dict(self) -> dict[str, str]:
        return {
            "status": "ok" if self.ready else "unavailable",
            "database": self.database,
            "migrations": self.migrations,
            "content": self.content,
        }


def check(session: Session, parcours_count: int) -> Readiness:
    """Each check's verdict: ``ok`` or a short reason (never a secret: no URL, no message)."""
    content = "ok" if parcours_count > 0 else "no parcours loaded"
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:
        return Readiness(exc.__class__.__name__, "unknown", content)
    try:
        current = frozenset(session.scalars(text("SELECT version_num FROM alembic_version")).all())
    except Exception:
        session.rollback()
        return Readiness("ok", "not migrated", content)
    heads = migration_heads()
    if current == heads:
        migrations = "ok"
    else:
        behind = ", ".join(sorted(current)) or "none"
        migrations = f"at {behind}, head is {', '.join(sorted(heads))}"
    return Readiness("ok", migrations, content)
