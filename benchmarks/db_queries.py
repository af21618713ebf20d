"""Every player, report and background query of the tool, EXPLAINed and timed on a large base.

Run: ``.venv/bin/python benchmarks/db_queries.py --answers 1000000`` (PostgreSQL on
127.0.0.1:5432, trust auth). It creates its own database, brings it to the migrations' head,
fills it with generated data in SQL (``generate_series``: 1 million answers take seconds),
then for each query prints the plan's access paths (index or sequential scan), the
planner's cost and the measured time (median of ``--repeat`` runs, warm cache), and drops
the database (``--keep`` keeps it).

Shape of the data, from the load benchmark's walk of ``socle-commun``: 25 answers per
attempt, 1.2 attempts per agent and activity, 500 activities (resource links) in 100
courses, one statement per answer plus 4 per attempt in the outbox (all delivered but the
last ``--pending``), 2 % of finished attempts waiting for the gradebook.

``--plans`` prints whole plans. A sequential scan over a large table in the output is what
to look at: those queries are the ones the indexes of migration 0007 serve.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

ANSWERS_PER_ATTEMPT = 25
ATTEMPTS_PER_USER = 1.2
RESOURCE_LINKS = 500
COURSES = 100


@dataclass(frozen=True)
class Query:
    name: str
    where: str  # who runs it
    sql: str


def queries() -> list[Query]:
    """The statements the code sends, with typical parameters (SQLAlchemy's SQL, inlined)."""
    attempt = "(SELECT id FROM attempt WHERE user_pk = 4242 ORDER BY number LIMIT 1)"
    return [
        Query("launch by id", "every page", "SELECT * FROM launch WHERE id = 'launch-4242'"),
        Query(
            "attempts of an agent in an activity",
            "every player page",
            "SELECT * FROM attempt WHERE resource_link_pk = 42 AND user_pk = 4242 "
            "AND preview = false ORDER BY number DESC",
        ),
        Query(
            "answers of an attempt",
            "every player page",
            f"SELECT * FROM answer WHERE attempt_id = {attempt} ORDER BY seq",
        ),
        Query(
            "challenges seen in earlier attempts",
            "challenge choice (2nd attempt on)",
            "SELECT answer.challenge_id FROM answer JOIN attempt ON attempt.id = "
            "answer.attempt_id WHERE attempt.user_pk = 4242 AND attempt.resource_link_pk = 42 "
            "AND attempt.id != 'x'",
        ),
        Query(
            "next attempt number",
            "start",
            "SELECT max(number) FROM attempt WHERE resource_link_pk = 42 AND user_pk = 4242",
        ),
        Query(
            "session statements already written",
            "page after an idle gap",
            "SELECT statement_id FROM xapi_outbox WHERE statement_id IN "
            "('00000000-0000-0000-0000-000000004242', '00000000-0000-0000-0000-000000004243')",
        ),
        Query(
            "activity report (teacher)",
            "GET /activity/report",
            "SELECT attempt.*, lti_user.* FROM attempt LEFT JOIN lti_user ON lti_user.id = "
            "attempt.user_pk WHERE attempt.resource_link_pk = 42 AND attempt.preview = false "
            "ORDER BY attempt.started_at",
        ),
        Query(
            "due scores",
            "grade sync (worker)",
            "SELECT id FROM attempt WHERE grade_status = 'pending' AND grade_next_try_at <= now() "
            "ORDER BY grade_next_try_at LIMIT 20",
        ),
        Query(
            "best score sent before",
            "grade sync (worker)",
            "SELECT max(mastery) FROM attempt WHERE user_pk = 4242 AND resource_link_pk = 42 "
            "AND grade_status = 'sent' AND id != 'x'",
        ),
        Query(
            "idle attempts",
            "sweep (worker, hourly)",
            "SELECT * FROM attempt WHERE status = 'started' AND preview = false AND user_pk IS "
            "NOT NULL AND started_at < now() - interval '15 minutes'",
        ),
        Query(
            "due statements",
            "xAPI delivery (worker)",
            "SELECT id FROM xapi_outbox WHERE status = 'pending' AND lrs_id IS NULL AND "
            "next_attempt_at <= now() ORDER BY next_attempt_at, id LIMIT 50 FOR UPDATE SKIP LOCKED",
        ),
        Query(
            "outbox depth and age",
            "GET /metrics",
            "SELECT count(*), min(created_at) FROM xapi_outbox WHERE status = 'pending'",
        ),
        Query(
            "dead letters",
            "GET /metrics, socle xapi status",
            "SELECT count(*) FROM xapi_outbox WHERE status = 'dead'",
        ),
        Query(
            "gradebook backlog",
            "GET /metrics",
            "SELECT grade_status, count(*) FROM attempt WHERE grade_status IN "
            "('pending', 'failed') GROUP BY grade_status",
        ),
        Query(
            "expired launches",
            "purge (worker, hourly)",
            "SELECT id FROM launch WHERE expires_at < now() - interval '1 day' LIMIT 1000",
        ),
        Query(
            "logins in progress from one address",
            "GET /lti/login",
            "SELECT count(*) FROM login_state WHERE state LIKE 'abc123%' AND expires_at >= now()",
        ),
    ]


def generate(connection: psycopg.Connection, answers: int, pending: int) -> None:
    attempts = answers // ANSWERS_PER_ATTEMPT
    users = max(1, int(attempts / ATTEMPTS_PER_USER))
    steps = [
        "INSERT INTO platform (id, name, issuer, client_id, auth_login_url, auth_token_url, "
        "key_set_url, store_personal_data, created_at) VALUES (1, 'LMS', 'https://lms', 'c', "
        "'https://lms/auth', 'https://lms/token', 'https://lms/jwks', false, now())",
        "INSERT INTO deployment (id, platform_id, deployment_id, created_at) "
        "VALUES (1, 1, 'd', now())",
        f"INSERT INTO lti_context (id, deployment_pk, context_id, title) SELECT g, 1, "
        f"'course-' || g, 'Cours ' || g FROM generate_series(1, {COURSES}) g",
        f"INSERT INTO resource_link (id, deployment_pk, context_pk, resource_link_id, title, "
        f"parcours_id, created_at) SELECT g, 1, 1 + g % {COURSES}, 'activity-' || g, 'Socle', "
        f"'socle-commun', now() FROM generate_series(1, {RESOURCE_LINKS}) g",
        f"INSERT INTO lti_user (id, platform_id, sub, created_at) SELECT g, 1, 'agent-' || g, "
        f"now() FROM generate_series(1, {users}) g",
        # one launch per attempt, most of them expired
        f"INSERT INTO launch (id, platform_id, deployment_pk, user_pk, resource_link_pk, "
        f"message_type, role, locale, claims, created_at, expires_at) SELECT 'launch-' || g, 1, "
        f"1, 1 + g % {users}, 1 + (g % {users}) % {RESOURCE_LINKS}, 'LtiResourceLinkRequest', "
        f"'learner', 'fr', '{{}}', now() - (g % 365) * interval '1 day', now() - (g % 365) * "
        f"interval '1 day' + interval '4 hours' FROM generate_series(1, {attempts}) g",
        # attempt g belongs to user 1 + g % users in that user's activity; a second attempt
        # for the first 20 % of users (number 2)
        f"INSERT INTO attempt (id, user_pk, resource_link_pk, launch_id, parcours_id, algorithm, "
        f"number, preview, status, seed, locale, answer_count, started_at, finished_at, "
        f"mastery, result, grade_status, grade_tries, grade_next_try_at) SELECT "
        f"'attempt-' || g, 1 + g % {users}, 1 + (g % {users}) % {RESOURCE_LINKS}, "
        f"'launch-' || g, 'socle-commun', 'socle', 1 + g / {users}, false, "
        f"CASE WHEN g % 10 = 0 THEN 'started' ELSE 'completed' END, g, 'fr', "
        f"{ANSWERS_PER_ATTEMPT}, now() - (g % 365) * interval '1 day', CASE WHEN g % 10 = 0 "
        f"THEN NULL ELSE now() - (g % 365) * interval '1 day' + interval '20 minutes' END, "
        f"CASE WHEN g % 10 = 0 THEN NULL ELSE (g % 100) / 100.0 END, NULL, "
        f"CASE WHEN g % 10 = 0 THEN 'none' WHEN g % 50 = 1 THEN 'pending' WHEN g % 500 = 3 "
        f"THEN 'failed' ELSE 'sent' END, 1, CASE WHEN g % 50 = 1 THEN now() + interval "
        f"'1 minute' END FROM generate_series(1, {attempts}) g",
        f"INSERT INTO answer (attempt_id, seq, challenge_id, skill_id, status, response, "
        f"served_at, answered_at) SELECT 'attempt-' || a, s, 'challenge-' || ((a * 7 + s) % 900), "
        f"'skill-' || ((a + s) % 300), CASE WHEN (a + s) % 3 = 0 THEN 'ko' ELSE 'ok' END, "
        f"'\"B\"', now() - (a % 365) * interval '1 day' + s * interval '40 seconds', "
        f"now() - (a % 365) * interval '1 day' + s * interval '45 seconds' "
        f"FROM generate_series(1, {attempts}) a, generate_series(1, {ANSWERS_PER_ATTEMPT}) s",
        f"INSERT INTO xapi_outbox (statement_id, lrs_id, payload, status, attempts, "
        f"next_attempt_at, created_at, delivered_at) SELECT "
        f"lpad(to_hex(g), 8, '0') || '-0000-0000-0000-' || lpad(to_hex(g), 12, '0'), NULL, "
        f"'{{\"id\": \"x\"}}', CASE WHEN g > {answers + 4 * attempts - pending} THEN 'pending' "
        f"WHEN g % 100000 = 7 THEN 'dead' ELSE 'delivered' END, 1, now(), "
        f"now() - (g % 365) * interval '1 day', now() FROM generate_series(1, "
        f"{answers + 4 * attempts}) g",
        "INSERT INTO login_state (state, nonce, platform_id, target_link_uri, created_at, "
        "expires_at) SELECT md5(g::text) || '.' || g, 'n', 1, 'https://tool/lti/launch', now(), "
        "now() + interval '10 minutes' FROM generate_series(1, 2000) g",
    ]
    for sql in steps:
        started = time.perf_counter()
        connection.execute(sql)  # type: ignore[arg-type]
        print(f"  {time.perf_counter() - started:6.1f} s  {sql[:70]}…", flush=True)
    connection.execute("ANALYZE")


def access_paths(plan: dict[str, object]) -> list[str]:
    """The scans of a JSON plan: 'Index Scan on attempt using ix_…', 'Seq Scan on answer'."""
    found: list[str] = []
    node_type = str(plan.get("Node Type", ""))
    if "Scan" in node_type:
        relation = plan.get("Relation Name") or plan.get("Index Name") or ""
        index = plan.get("Index Name")
        text = f"{node_type} on {relation}" + (
            f" using {index}" if index and index != relation else ""
        )
        found.append(text)
    for child in plan.get("Plans", []) or []:  # type: ignore[union-attr]
        found.extend(access_paths(child))
    return found


def explain(connection: psycopg.Connection, query: Query, repeat: int, full: bool) -> None:
    row = connection.execute(
        f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {query.sql}"  # type: ignore[arg-type]
    ).fetchone()
    assert row is not None
    plan = row[0][0]["Plan"]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        connection.execute(query.sql).fetchall()  # type: ignore[arg-type]
        times.append((time.perf_counter() - started) * 1000)
    paths = "; ".join(dict.fromkeys(access_paths(plan)))
    print(
        f"| {query.name} | {query.where} | {paths} | {plan['Total Cost']:.0f} "
        f"| {statistics.median(times):.2f} |",
        flush=True,
    )
    if full:
        text = connection.execute(f"EXPLAIN {query.sql}").fetchall()  # type: ignore[arg-type]
        print("\n".join("    " + line[0] for line in text))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--pending", type=int, default=200, help="statements not delivered")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default=f"socle_queries_{os.getpid()}")
    parser.add_argument("--revision", default="head", help="migration to bring the schema to")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--plans", action="store_true", help="print whole plans")
    args = parser.parse_args()

    from lti_tool.migrate import upgrade_database

    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{args.database}"')  # type: ignore[arg-type]
    url = f"{args.server}/{args.database}"
    try:
        upgrade_database(
            url.replace("postgresql://", "postgresql+psycopg://"),
            args.revision,
            secret_key="queries-benchmark",
        )
        with psycopg.connect(url, autocommit=True) as connection:
            print(f"generating {args.answers:,} answers", flush=True)
            generate(connection, args.answers, args.pending)
            size = connection.execute(
                "SELECT pg_size_pretty(pg_database_size(current_database()))"
            ).fetchone()
            print(f"database size: {size[0] if size else '?'}\n")
            print(f"migrations at {args.revision}; {args.answers:,} answers\n")
            print("| query | run by | access paths | cost | median ms |")
            print("|---|---|---|---|---|")
            for query in queries():
                explain(connection, query, args.repeat, args.plans)
    finally:
        if not args.keep:
            with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
                admin.execute(
                    f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'  # type: ignore[arg-type]
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
