"""Benchmark of an agent's export and erasure as the outbox grows.

Run: ``.venv/bin/python benchmarks/privacy_erasure.py [--database-url URL] [--sizes 10000,100000]``

Finding an agent's statements reads the outbox's payloads (``LIKE`` on the registration,
then a JSON check of each candidate): the cost grows with the outbox, not with the agent.
This prints, per outbox size, the milliseconds to export one agent (12 statements) and to
erase them (with the voids it queues), on SQLite by default or on the database given.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, insert

from lti_tool.db import Database
from lti_tool.migrate import upgrade_database
from lti_tool.models import Attempt, Deployment, LtiUser, Platform, ResourceLink
from lti_tool.privacy.agents import erase_agent, export_agent
from xapi.outbox import DELIVERED, outbox_table

ISSUER = "https://moodle.bench.example"
PER_AGENT = 12


def _payload(statement_id: str, sub: str, attempt_id: str) -> str:
    return json.dumps(
        {
            "id": statement_id,
            "actor": {"objectType": "Agent", "account": {"homePage": ISSUER, "name": sub}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
            "object": {"id": f"https://socle.example/xapi/activities/challenge/{statement_id}"},
            "context": {"registration": attempt_id},
        },
        separators=(",", ":"),
    )


def populate(database: Database, size: int) -> int:
    """``size // 12`` agents with one attempt and 12 delivered statements each; returns the
    id of the agent to export and erase."""
    now = datetime.now(UTC)
    with database.session() as session, session.begin():
        for table in (outbox_table,):
            session.execute(delete(table))
        session.execute(delete(Platform))
        platform = Platform(
            name="bench",
            issuer=ISSUER,
            client_id="bench",
            auth_login_url=f"{ISSUER}/auth",
            auth_token_url=f"{ISSUER}/token",
            key_set_url=f"{ISSUER}/jwks",
        )
        platform.deployments.append(Deployment(deployment_id="1"))
        session.add(platform)
        session.flush()
        link = ResourceLink(deployment_pk=platform.deployments[0].id, resource_link_id="r1")
        session.add(link)
        session.flush()
        target = 0
        rows = []
        for number in range(max(size // PER_AGENT, 1)):
            user = LtiUser(platform_id=platform.id, sub=f"agent-{number:07d}")
            session.add(user)
            session.flush()
            attempt = Attempt(
                user_pk=user.id,
                resource_link_pk=link.id,
                parcours_id="p",
                algorithm="socle",
                seed=1,
            )
            session.add(attempt)
            session.flush()
            target = user.id if number == size // PER_AGENT // 2 else target
            for _ in range(PER_AGENT):
                statement_id = str(uuid.uuid4())
                rows.append(
                    {
                        "statement_id": statement_id,
                        "lrs_id": None,
                        "payload": _payload(statement_id, user.sub, attempt.id),
                        "status": DELIVERED,
                        "attempts": 1,
                        "next_attempt_at": now,
                        "created_at": now,
                        "delivered_at": now,
                    }
                )
            if len(rows) >= 5000:
                session.execute(insert(outbox_table), rows)
                rows = []
        if rows:
            session.execute(insert(outbox_table), rows)
    return target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="socle-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    upgrade_database(url)
    database = Database(url)
    print(f"database: {url.split('@')[-1]}")
    print(f"{'outbox rows':>12} | {'export ms':>9} | {'erase ms':>8} | voids")
    print(f"{'-' * 12}-+-{'-' * 9}-+-{'-' * 8}-+------")
    for size in (int(s) for s in args.sizes.split(",")):
        user_id = populate(database, size)
        with database.session() as session:
            user = session.get(LtiUser, user_id)
            assert user is not None
            start = time.perf_counter()
            document = export_agent(session, user)
            export_ms = (time.perf_counter() - start) * 1000
        assert len(document["statements"]) == PER_AGENT
        with database.session() as session, session.begin():
            user = session.get(LtiUser, user_id)
            assert user is not None
            start = time.perf_counter()
            report = erase_agent(
                session, user, tool_base_url="https://socle.example", now=datetime.now(UTC)
            )
            erase_ms = (time.perf_counter() - start) * 1000
        print(f"{size:>12} | {export_ms:>9.1f} | {erase_ms:>8.1f} | {report.voids_queued}")
    database.dispose()


if __name__ == "__main__":
    main()
