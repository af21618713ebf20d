"""Training reports on PostgreSQL with generated data: page times and export memory.

Run (a PostgreSQL server on 127.0.0.1:5432, user postgres, trust auth; the script creates the
database ``--database``, default ``socle_bench_reports``, and drops it at the end)::

    .venv/bin/python benchmarks/reports.py [--agents 500] [--attempts 20000] [--csv-rows 10000]

Targets: course report of ``--agents`` agents and organisation view over ``--attempts``
attempts, p95 < 500 ms; CSV export of ``--csv-rows`` agents streamed under 50 MB.

The data is generated, then inserted in bulk (``executemany``), as a platform with many
courses would hold it: each finished attempt has levels for the parcours' competences, a
mastery, a job family and category (most agents), a self-assessment, and its answers (about
two failed skills in five). Pages are requested through the Flask test client with a
teacher's (or administrator's) page token, like an LMS iframe would; the NRPS roster is not
offered (the platform's answer time is not ours). Memory is Python's own allocation peak
while the CSV is read chunk by chunk (``tracemalloc``), and the process's peak RSS growth.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from lti_tool.app import create_app
from lti_tool.config import PROJECT_DIR, Settings
from lti_tool.domain.categories import AGENT_CATEGORIES
from lti_tool.migrate import upgrade_database
from lti_tool.models import (
    AnswerRecord,
    Attempt,
    Deployment,
    LtiContext,
    LtiUser,
    Platform,
    ReportSnapshot,
    ResourceLink,
)
from lti_tool.reports.views import _organisation_report
from tests.lti.forge import INSTRUCTOR
from tests.player.agent import Agent
from tests.player.conftest import register
from tests.player.platform import GradebookPlatform

ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
TARGET_MS = 500.0
TARGET_MB = 50.0
PARCOURS = "socle-commun"
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Generator:
    """Rows for one platform: users, courses, activities, attempts and their answers."""

    def __init__(self, app: Any, platform_id: int, deployment_pk: int, seed: int) -> None:
        self.app = app
        self.platform_id = platform_id
        self.deployment_pk = deployment_pk
        self.rng = random.Random(seed)
        content = app.extensions["socle"].catalogue.content
        self.content = content
        parcours = content.parcours[PARCOURS]
        self.codes = sorted(
            {content.tubes[t.tube_id].competence_code for t in parcours.tubes},
            key=lambda c: tuple(map(int, c.split("."))),
        )
        self.skills = list(content.skills_of_parcours(PARCOURS))
        self.families = sorted(content.job_profiles)
        self.areas = [area.code for area in content.areas]
        self.user_index = 0

    def users(self, session: Any, count: int) -> list[int]:
        rows = [
            {"platform_id": self.platform_id, "sub": f"bench-{self.user_index + i}"}
            for i in range(count)
        ]
        self.user_index += count
        session.execute(sa.insert(LtiUser), rows)
        return list(
            session.scalars(
                sa.select(LtiUser.id)
                .where(LtiUser.platform_id == self.platform_id)
                .order_by(LtiUser.id.desc())
                .limit(count)
            )
        )

    def activity(self, session: Any, link_id: str, course: str) -> int:
        context = session.scalar(
            sa.select(LtiContext.id).where(
                LtiContext.deployment_pk == self.deployment_pk, LtiContext.context_id == course
            )
        )
        if context is None:
            context = session.scalar(
                sa.insert(LtiContext)
                .values(deployment_pk=self.deployment_pk, context_id=course, title=course)
                .returning(LtiContext.id)
            )
        link = session.scalar(
            sa.select(ResourceLink.id).where(
                ResourceLink.deployment_pk == self.deployment_pk,
                ResourceLink.resource_link_id == link_id,
            )
        )
        if link is None:
            link = session.scalar(
                sa.insert(ResourceLink)
                .values(
                    deployment_pk=self.deployment_pk,
                    context_pk=context,
                    resource_link_id=link_id,
                    title=link_id,
                    parcours_id=PARCOURS,
                )
                .returning(ResourceLink.id)
            )
        return int(link)

    def attempts(self, session: Any, link_pk: int, user_pks: list[int]) -> None:
        rng = self.rng
        start = datetime(2026, 1, 5, tzinfo=UTC)
        attempts, answers = [], []
        for user_pk in user_pks:
            attempt_id = str(uuid.uuid4())
            started = start + timedelta(minutes=rng.randrange(0, 330 * 24 * 60))
            finished = rng.random() < 0.8
            levels = {code: max(0, min(8, round(rng.gauss(2.5, 1.3)))) for code in self.codes}
            mastery = rng.random()
            count = rng.randrange(15, 35) if finished else rng.randrange(1, 15)
            attempts.append(
                {
                    "id": attempt_id,
                    "user_pk": user_pk,
                    "resource_link_pk": link_pk,
                    "parcours_id": PARCOURS,
                    "algorithm": "socle",
                    "number": 1,
                    "preview": False,
                    "status": "completed" if finished else "started",
                    "seed": rng.randrange(2**31 - 1),
                    "locale": "fr",
                    "job_profile_id": rng.choice(self.families) if rng.random() < 0.8 else None,
                    "agent_category": (
                        rng.choice(AGENT_CATEGORIES) if rng.random() < 0.7 else None
                    ),
                    "self_assessment": {a: rng.randrange(1, 5) for a in self.areas},
                    "answer_count": count,
                    "started_at": started,
                    "finished_at": started + timedelta(minutes=rng.randrange(10, 60))
                    if finished
                    else None,
                    "mastery": mastery if finished else None,
                    "result": {"levels": levels, "mastery": mastery, "score": 0, "passed": None}
                    if finished
                    else None,
                    "grade_status": "none",
                    "grade_tries": 0,
                }
            )
            for seq in range(count):
                skill = rng.choice(self.skills)
                answers.append(
                    {
                        "attempt_id": attempt_id,
                        "seq": seq,
                        "challenge_id": skill.challenges[0].id if skill.challenges else "x",
                        "skill_id": skill.id,
                        "status": "ok" if rng.random() < 0.6 else "ko",
                        "response": None,
                        "served_at": started,
                        "answered_at": started,
                    }
                )
        session.execute(sa.insert(Attempt), attempts)
        for begin in range(0, len(answers), 20_000):
            session.execute(sa.insert(AnswerRecord), answers[begin : begin + 20_000])


def forget_kept_reports(agent: Agent) -> None:
    """Nothing kept: no stored organisation report, none in this process's memory."""
    ext = agent.app.extensions["socle"]
    with ext.database.session() as session:
        session.execute(sa.delete(ReportSnapshot))
        session.commit()
    ext.reports._memory.clear()


def new_results(agent: Agent) -> None:
    """Results arrive on the platform (one more answer counted): the kept figures are out of
    date. The refresh they start runs to its end before the next measure."""
    wait_for_refreshes()
    ext = agent.app.extensions["socle"]
    with ext.database.session() as session:
        attempt_id = session.scalars(sa.select(Attempt.id).limit(1)).one()
        session.execute(
            sa.update(Attempt)
            .where(Attempt.id == attempt_id)
            .values(answer_count=Attempt.answer_count + 1)
        )
        session.commit()


def wait_for_refreshes() -> None:
    for thread in threading.enumerate():
        if thread.name == "socle-report-refresh":
            thread.join()


def time_refresh(agent: Agent, runs: int) -> tuple[list[float], list[float]]:
    """The work of one refresh (what the background thread does), timed on its own."""
    ext = agent.app.extensions["socle"]
    wall, cpu = [], []
    with agent.app.test_request_context("/"), ext.database.session() as session:
        platform_id = session.scalars(sa.select(Platform.id)).first()
        for _ in range(runs):
            begin, begin_cpu = time.perf_counter(), time.thread_time()
            _organisation_report(
                session,
                ext.catalogue.content,
                platform_id,
                own_course=None,
                themes=(),
                min_group=5,
                other_label="Autres",
                no_course_label="Sans cours",
            )
            cpu.append((time.thread_time() - begin_cpu) * 1000)
            wall.append((time.perf_counter() - begin) * 1000)
    return wall, cpu


def time_pages(
    agent: Agent,
    path: str,
    runs: int,
    *,
    before: Callable[[Agent], None] | None = None,
    **query: Any,
) -> tuple[list[float], list[float]]:
    """Wall-clock and this thread's CPU milliseconds per request (the CPU time leaves out
    PostgreSQL's own work and the waits of a busy machine: the steadier of the two).
    ``before(agent)`` runs before each request, untimed."""
    agent.get(path, **query)  # warm-up: templates compiled, caches filled
    wall, cpu = [], []
    for _ in range(runs):
        if before is not None:
            before(agent)
        begin, begin_cpu = time.perf_counter(), time.thread_time()
        response = agent.get(path, **query)
        cpu.append((time.thread_time() - begin_cpu) * 1000)
        wall.append((time.perf_counter() - begin) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return wall, cpu


def measure_csv(agent: Agent) -> tuple[int, float, float, float]:
    """Rows, seconds, tracemalloc peak (MB), peak RSS growth (MB) of one CSV download."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    begin = time.perf_counter()
    response = agent.client.get(
        "/activity/report/export", query_string={"lt": agent.token, "format": "csv"}, buffered=False
    )
    lines = 0
    for chunk in response.response:
        lines += (chunk if isinstance(chunk, bytes) else chunk.encode()).count(b"\n")
    response.close()
    seconds = time.perf_counter() - begin
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return lines - 1, seconds, peak / 2**20, rss_after - rss_before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--attempts", type=int, default=20_000)
    parser.add_argument("--csv-rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database", default="socle_bench_reports")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (and its data) for --reuse"
    )
    parser.add_argument("--reuse", action="store_true", help="measure on a database kept by --keep")
    options = parser.parse_args()

    admin_engine = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    if not options.reuse:
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{options.database}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{options.database}"'))
    database_url = f"{SERVER}/{options.database}"
    platform = GradebookPlatform()
    platform.start()
    try:
        with tempfile.TemporaryDirectory(prefix="socle-bench-") as workdir:
            upgrade_database(database_url)
            app = create_app(
                Settings(
                    instance_dir=Path(workdir) / "instance",
                    database_url=database_url,
                    secret_key="benchmark-secret-key",
                    base_url="http://localhost",
                    content_dir=PROJECT_DIR / "content",
                )
            )
            app.extensions["socle"].grades.stop()
            if not (options.reuse and _adopt(app, platform)):
                register(app, platform)
            results = run(app, platform, options)
            app.extensions["socle"].database.dispose()
    finally:
        platform.stop()
        if not options.keep:
            with admin_engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{options.database}" WITH (FORCE)'))
    return 0 if results else 1


def _adopt(app: Any, platform: GradebookPlatform) -> bool:
    """On a kept database, point its registration at this run's test platform (a new port,
    hence a new issuer): the launches of this run then see the kept data."""
    with app.extensions["socle"].database.session() as session:
        row = session.scalars(sa.select(Platform)).first()
        if row is None:
            return False
        row.issuer, row.client_id = platform.issuer, platform.client_id
        row.auth_login_url = f"{platform.issuer}/auth"
        row.auth_token_url = f"{platform.issuer}/token"
        row.key_set_url = f"{platform.issuer}/jwks"
        deployment = session.scalars(
            sa.select(Deployment).where(Deployment.platform_id == row.id)
        ).one()
        deployment.deployment_id = platform.deployment_id
        session.commit()
    app.extensions["socle"].framing.invalidate()
    return True


def run(app: Any, platform: GradebookPlatform, options: argparse.Namespace) -> bool:
    database = app.extensions["socle"].database
    course = {"id": "course-bench", "label": "BENCH", "title": "Cours mesuré"}
    big = {"id": "course-big", "label": "BIG", "title": "Grand cours"}
    teacher = Agent(
        app, platform, teacher=True, sub="teacher", parcours=PARCOURS, resource_link="bench-course"
    )
    teacher.launch(lti_context=course)
    exporter = Agent(
        app, platform, teacher=True, sub="teacher", parcours=PARCOURS, resource_link="bench-export"
    )
    exporter.launch(lti_context=big)
    admin = Agent(app, platform, sub="admin", parcours=PARCOURS, resource_link="bench-course")
    admin.launch(lti_roles=[INSTRUCTOR, ADMIN], lti_context=course)

    generated = time.perf_counter()
    with database.session() as session:
        if options.reuse:
            existing = session.scalar(sa.select(sa.func.count()).select_from(Attempt))
            if existing:
                return measure(
                    teacher, exporter, admin, options, total=existing, answers=0, generated=0.0
                )
        row = session.scalars(sa.select(Platform).where(Platform.issuer == platform.issuer)).one()
        deployment = session.scalars(
            sa.select(Deployment).where(Deployment.platform_id == row.id)
        ).one()
        generator = Generator(app, row.id, deployment.id, seed=7)
        course_link = generator.activity(session, "bench-course", "course-bench")
        generator.attempts(session, course_link, generator.users(session, options.agents))
        export_link = generator.activity(session, "bench-export", "course-big")
        generator.attempts(session, export_link, generator.users(session, options.csv_rows))
        rest = max(0, options.attempts - options.agents - options.csv_rows)
        per_course = max(1, -(-rest // 40))
        for index in range(40):
            if rest <= 0:
                break
            link = generator.activity(session, f"bench-{index}", f"course-{index}")
            count = min(per_course, rest)
            generator.attempts(session, link, generator.users(session, count))
            rest -= count
        session.commit()
        total = session.scalar(sa.select(sa.func.count()).select_from(Attempt))
        answers = session.scalar(sa.select(sa.func.count()).select_from(AnswerRecord))
    with database.engine.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
    generated = time.perf_counter() - generated
    return measure(
        teacher, exporter, admin, options, total=total, answers=answers, generated=generated
    )


def measure(
    teacher: Agent,
    exporter: Agent,
    admin: Agent,
    options: argparse.Namespace,
    *,
    total: int,
    answers: int,
    generated: float,
) -> bool:
    print(
        f"PostgreSQL, {total} attempts ({answers or 'kept'} answers) generated in "
        f"{generated:.0f} s; Flask test client, Python {sys.version.split()[0]}"
    )

    course_ms = time_pages(teacher, "/activity/report", options.runs)
    filtered_ms = time_pages(teacher, "/activity/report", options.runs, category="B", sort="gap")
    org_cold_ms = time_pages(
        admin, "/organisation/report", max(3, options.runs // 4), before=forget_kept_reports
    )
    org_ms = time_pages(admin, "/organisation/report", options.runs)
    org_stale_ms = time_pages(admin, "/organisation/report", options.runs, before=new_results)
    wait_for_refreshes()
    refresh_ms = time_refresh(admin, max(3, options.runs // 4))
    rows, seconds, peak_mb, rss_mb = measure_csv(exporter)

    print(f"load average after the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print()
    print("| measure | n | p50 | p95 | CPU p95 | target | ok |")
    print("|---|---|---|---|---|---|---|")
    ok = True
    # The first view ever, and the refresh after new results (a background thread), are
    # work done once per change, off the pages that follow: reported, without the target.
    for label, (samples, cpu), target in (
        (f"course report, {options.agents} agents", course_ms, True),
        (f"course report filtered + sorted, {options.agents} agents", filtered_ms, True),
        (f"organisation view, {total} attempts, kept figures current", org_ms, True),
        (f"organisation view, {total} attempts, new results since (kept shown)", org_stale_ms,
         True),
        (f"organisation view, {total} attempts, first view ever (nothing kept)", org_cold_ms,
         False),
        (f"refresh of the kept figures (background thread), {total} attempts", refresh_ms,
         False),
    ):
        good = p95(samples) < TARGET_MS
        if target:
            ok &= good
        print(
            f"| {label} | {len(samples)} | {statistics.median(samples):.0f} ms | "
            f"{p95(samples):.0f} ms | {p95(cpu):.0f} ms | "
            + (f"< {TARGET_MS:.0f} ms | {'yes' if good else 'NO'} |" if target else "— | — |")
        )
    good = peak_mb < TARGET_MB and rows == options.csv_rows
    ok &= good
    print(
        f"| CSV export, {rows} rows, {seconds:.1f} s | 1 | peak Python {peak_mb:.1f} MB | "
        f"peak RSS growth {rss_mb:.1f} MB | | < {TARGET_MB:.0f} MB | {'yes' if good else 'NO'} |"
    )
    return ok


if __name__ == "__main__":
    sys.exit(main())
