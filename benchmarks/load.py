"""Socle under concurrent agents, against the bare ceiling of the same stack, in one run.

Run: ``.venv/bin/python benchmarks/load.py`` (``--help`` for the options; PostgreSQL on
127.0.0.1:5432 with trust auth, Node for the LRS). It prints one table per run and writes
the raw figures as JSON (``--json``).

What runs, all on this machine:

* **two tool nodes**: ``socle serve`` twice (each gunicorn ``--workers 2 --threads 4``, the
  production settings), on their own PostgreSQL database, created and dropped by the run;
* **the xAPI worker** (``socle xapi worker``) delivering the outbox to the test LRS
  (Learning Locker's statement service, ``tests/lrs``) while the agents play;
* **the ceiling**: ``benchmarks/bare_app.py`` (Flask + SQLAlchemy, one INSERT and one commit
  per request) behind the same gunicorn settings, twice, on the same database server;
* **the agents**: Locust users (this same file, imported by ``locust -f``). Each one is an LMS
  user: OIDC login (``GET /lti/login``), an id_token signed with the platform library
  (``lti1p3platform``'s ``Registration.encode_and_sign``) posted to ``/lti/launch``, then the
  whole parcours page after page — start, challenge, answer, feedback, checkpoint, results —
  with a think time between pages, answering right or wrong at random. Each request goes to
  the next node in turn (two nodes sharing one database: nothing may live in one node's
  memory). When a parcours ends, the user launches again as a new agent.

For each number of concurrent agents (``--levels``) the run measures Socle for
``--duration`` seconds, then the bare endpoint with as many users and no think time, and
reports: answers/s and their ratio to bare inserts/s, p50/p95/p99 per page, errors, tool CPU
per answer (CPU seconds of every gunicorn process / answers), database CPU per answer,
memory per worker, database connections, outbox depth over time, and the load generator's
own CPU (it shares the cores: the figure says how much it took from the servers).

``--think 0`` measures capacity (the ratio to the ceiling is only meaningful when both
sides are saturated); the default think time (1-3 s between pages) measures latency as
agents see it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROLE_ENV = "SOCLE_LOAD_ROLE"
PAGES = (
    "login",
    "launch",
    "activity home",
    "start",
    "challenge page",
    "timer",
    "answer",
    "feedback",
    "checkpoint",
    "results",
)


# ----------------------------------------------------------------------------------------
# The agents (imported by Locust, in its own process)
# ----------------------------------------------------------------------------------------
if os.environ.get(ROLE_ENV) == "locust":
    from urllib.parse import parse_qs, urlsplit

    from locust import HttpUser, task
    from locust.exception import StopUser
    from locust.runners import STATE_STOPPED, STATE_STOPPING
    from lti1p3platform.registration import Registration

    from lti_tool.content_store import load_catalogue
    from tests.lti.forge import CLAIM, LEARNER
    from tests.player.agent import Page, _PageParser
    from tests.player_helpers import right_answer, wrong_answer

    _PLATFORM = json.loads(Path(os.environ["SOCLE_LOAD_PLATFORM"]).read_text())
    _NODES = os.environ["SOCLE_LOAD_NODES"].split(",")
    _THINK = tuple(float(x) for x in os.environ.get("SOCLE_LOAD_THINK", "1,3").split(","))
    _PARCOURS = os.environ.get("SOCLE_LOAD_PARCOURS", "socle-commun")
    _COURSES = int(os.environ.get("SOCLE_LOAD_COURSES", "20"))
    _CONTENT = load_catalogue(Path(os.environ["SOCLE_LOAD_CONTENT"])).content

    def _page(response: Any) -> Page:
        body = response.text
        parser = _PageParser()
        parser.feed(body)
        return Page(
            response.status_code, body, response.url, parser.forms, parser.hooks, parser.links
        )

    def _token(url: str) -> str:
        return parse_qs(urlsplit(url).query).get("lt", [""])[0]

    class LmsAgent(HttpUser):
        """One agent after another, each launching from an LMS course and taking the parcours."""

        host = _NODES[0]

        def on_start(self) -> None:
            self.turn = random.randrange(len(_NODES))

        def url(self, path: str) -> str:
            """The next node, in turn: both nodes serve every agent."""
            self.turn = (self.turn + 1) % len(_NODES)
            return _NODES[self.turn] + path

        def think(self) -> None:
            low, high = _THINK[0], _THINK[-1]
            if high > 0:
                time.sleep(random.uniform(low, high))  # gevent-patched: yields

        def call(self, name: str, method: str, path: str, **kwargs: Any) -> Any:
            # When the measured time is over, no new request starts: the agent stops between
            # two pages (Locust would otherwise cut requests in flight after --stop-timeout,
            # and count them as errors of the tool).
            runner = self.environment.runner
            if runner is not None and runner.state in (STATE_STOPPING, STATE_STOPPED):
                raise StopUser()
            expect = kwargs.pop("expect", (200,))
            kwargs.setdefault("allow_redirects", False)
            with self.client.request(
                method, self.url(path), name=name, catch_response=True, **kwargs
            ) as response:
                if response.status_code not in expect:
                    # No HTTP status: the connection failed; say how (reset, refused...).
                    why = f" ({type(response.error).__name__}: {response.error})"[:200]
                    response.failure(
                        f"{name}: HTTP {response.status_code}"
                        + (why if response.status_code == 0 and response.error else "")
                    )
                    raise _Abandon(name)
                response.success()
            return response

        def location(self, response: Any) -> str:
            """The path of a redirect (the tool answers with absolute or relative URLs)."""
            parts = urlsplit(response.headers["Location"])
            return parts.path + ("?" + parts.query if parts.query else "")

        def get_page(self, name: str, path: str) -> Page:
            return _page(self.call(name, "GET", path))

        @task
        def take_parcours(self) -> None:
            try:
                self._take_parcours()
            except _Abandon:
                self.think()

        def _take_parcours(self) -> None:
            self.client.cookies.clear()  # a new agent, a new browser
            sub = f"load-{uuid.uuid4().hex[:12]}"
            course = random.randrange(_COURSES)
            login = self.call(
                "login",
                "GET",
                "/lti/login",
                params={
                    "iss": _PLATFORM["issuer"],
                    "login_hint": sub,
                    "target_link_uri": _PLATFORM["target_link_uri"],
                    "client_id": _PLATFORM["client_id"],
                    "lti_deployment_id": _PLATFORM["deployment_id"],
                },
                expect=(302,),
            )
            query = parse_qs(urlsplit(login.headers["Location"]).query)
            now = int(time.time())
            claims = {
                "iss": _PLATFORM["issuer"],
                "aud": _PLATFORM["client_id"],
                "sub": sub,
                "exp": now + 300,
                "iat": now,
                "nonce": query["nonce"][0],
                CLAIM + "message_type": "LtiResourceLinkRequest",
                CLAIM + "version": "1.3.0",
                CLAIM + "deployment_id": _PLATFORM["deployment_id"],
                CLAIM + "target_link_uri": _PLATFORM["target_link_uri"],
                CLAIM + "resource_link": {"id": f"activity-{course}", "title": "Socle commun"},
                CLAIM + "roles": [LEARNER],
                CLAIM + "context": {"id": f"course-{course}", "title": f"Cours {course}"},
                CLAIM + "custom": {"parcours": _PARCOURS},
                CLAIM + "launch_presentation": {"document_target": "iframe", "locale": "fr-FR"},
            }
            id_token = Registration.encode_and_sign(
                claims, _PLATFORM["private_key"], headers={"kid": _PLATFORM["kid"]}
            )
            launched = self.call(
                "launch",
                "POST",
                "/lti/launch",
                data={"id_token": id_token, "state": query["state"][0]},
                expect=(303,),
            )
            home_path = self.location(launched)
            token = _token(home_path)
            self.get_page("activity home", home_path)
            self.think()
            started = self.call("start", "POST", "/play/start", data={"lt": token}, expect=(303,))
            path = self.location(started)
            if path.startswith("/play/self-assessment"):
                self.get_page("self-assessment", path)
                skipped = self.call(
                    "self-assessment",
                    "POST",
                    "/play/self-assessment",
                    data={"lt": _token(path), "action": "skip"},
                    expect=(303,),
                )
                path = self.location(skipped)
            while True:
                if not path.startswith("/play?") and path != "/play":
                    break
                response = self.call("challenge page", "GET", path, expect=(200, 303))
                if response.status_code == 303:
                    path = self.location(response)
                    continue
                page = _page(response)
                if page.is_timer_warning:
                    self.think()
                    timer = self.call(
                        "timer",
                        "POST",
                        "/play/timer",
                        data=page.hidden("/play/timer"),
                        expect=(303,),
                    )
                    path = self.location(timer)
                    continue
                challenge = _CONTENT.challenges[page.challenge_id or ""]
                self.think()
                fields = (
                    right_answer(challenge) if random.random() < 0.6 else wrong_answer(challenge)
                )
                form: dict[str, Any] = dict(page.hidden("/play/answer"))
                form.update(fields)
                form["action"] = "validate"
                answered = self.call("answer", "POST", "/play/answer", data=form, expect=(303,))
                feedback = self.get_page("feedback", self.location(answered))
                if feedback.answer_status is None:
                    raise _Abandon("feedback without status")
                next_path = _next_link(feedback)
                if next_path.startswith("/play/checkpoint"):
                    self.think()
                    checkpoint = self.get_page("checkpoint", next_path)
                    next_path = _next_link(checkpoint)
                self.think()
                path = next_path
            if path.startswith("/play/results"):
                self.get_page("results", path)
            self.think()

    class _Abandon(Exception):
        """The agent gives up this parcours (the failure is recorded) and starts another."""

    def _next_link(page: Page) -> str:
        """Where the agent goes from a feedback or checkpoint page: the checkpoint when one is
        due, else the next challenge (``/play``), else the results."""
        links = [link for link in page.links if "lt=" in link]
        for prefix in ("/play/checkpoint", "/play?", "/play/results"):
            for link in links:
                parts = urlsplit(link)
                path = parts.path + "?" + parts.query
                if path.startswith(prefix):
                    return path
        for form in page.forms:  # a form that GETs /play (no-JS "continue" button)
            if form["attrs"].get("action", "").startswith("/play"):
                values = {n: v for n, v, k in form["inputs"] if k == "hidden"}
                return form["attrs"]["action"] + "?lt=" + values.get("lt", "")
        raise _Abandon("no way forward from " + page.url)


# ----------------------------------------------------------------------------------------
# The orchestrator
# ----------------------------------------------------------------------------------------
@dataclass
class Phase:
    """One measured run of Locust against one target at one concurrency."""

    target: str
    users: int
    seconds: float = 0.0
    stats: dict[str, dict[str, float]] = field(default_factory=dict)
    tool_cpu: float = 0.0
    db_cpu: float = 0.0
    lrs_cpu: float = 0.0
    worker_cpu: float = 0.0
    locust_cpu: float = 0.0
    worker_rss_mib: list[float] = field(default_factory=list)
    db_connections_max: int = 0
    outbox: list[tuple[float, int]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)


class Stack:
    """Every process of the run, started and stopped together."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.database = f"{args.database_prefix}_{os.getpid()}"
        self.server_url = args.server.rstrip("/")
        self.url = f"{self.server_url}/{self.database}"
        self.ports = [_free_port() for _ in range(4)]
        self.env: dict[str, str] = {}

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        from tests.lti.forge import TestPlatform

        _psql(self.server_url, f'CREATE DATABASE "{self.database}"')
        self.platform = TestPlatform()
        self.platform.start()
        base_url = f"http://127.0.0.1:{self.ports[0]}"
        platform_file = self.workdir / "platform.json"
        platform_file.write_text(
            json.dumps(
                {
                    "issuer": self.platform.issuer,
                    "client_id": self.platform.client_id,
                    "deployment_id": self.platform.deployment_id,
                    "kid": self.platform.key.kid,
                    "private_key": self.platform.key.pem,
                    "target_link_uri": base_url + "/lti/launch",
                }
            )
        )
        from lti_tool.demo_lrs import LocalLrs, why_unavailable

        missing = why_unavailable()
        if missing:
            raise SystemExit(f"the LRS cannot start: {missing}")
        self.lrs = LocalLrs(self.workdir / "lrs")
        self.lrs.start()
        self.env = {
            **os.environ,
            "SOCLE_DATABASE_URL": self.url,
            "SOCLE_SECRET_KEY": "load-benchmark-secret-" + uuid.uuid4().hex,
            "SOCLE_BASE_URL": base_url,
            "SOCLE_INSTANCE_DIR": str(self.workdir / "instance"),
            "SOCLE_LOGIN_RATE_LIMIT": "1000000 per minute",
            "SOCLE_LRS_ENDPOINT": self.lrs.endpoint,
            "SOCLE_LRS_USERNAME": "socle",
            "SOCLE_LRS_PASSWORD": "secret",
            "SOCLE_LRS_POLL_INTERVAL": "1",
            "SOCLE_REGISTRATION_LOCAL_HOSTS": "127.0.0.1",
            "SOCLE_LOAD_PLATFORM": str(platform_file),
            "SOCLE_LOAD_CONTENT": str(ROOT / "content"),
            "BARE_DATABASE_URL": self.url,
        }
        for extra in self.args.env:
            name, _, value = extra.partition("=")
            self.env[name] = value
        socle = str(Path(sys.executable).with_name("socle"))
        subprocess.run(
            [socle, "platform", "add", *self.platform.registration_args()],
            env=self.env,
            check=True,
            capture_output=True,
        )
        for index, port in enumerate(self.ports[:2]):
            workers = str(self.args.workers)
            self._spawn(
                f"socle{index + 1}",
                [socle, "serve", "--bind", f"127.0.0.1:{port}", "--workers", workers],
            )
        from benchmarks.bare_app import create_schema

        create_schema(self.url)
        for index, port in enumerate(self.ports[2:]):
            self._spawn(
                f"bare{index + 1}",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(self.args.workers),
                    "--threads",
                    "4",
                    "--chdir",
                    str(ROOT),
                    "--config",  # the tool's gunicorn settings (keep-alive, graceful stop)
                    "python:lti_tool.gunicorn_conf",
                    "benchmarks.bare_app:app",
                ],
            )
        self._spawn("xapi-worker", [socle, "xapi", "worker"])
        for port in self.ports:
            _wait_ready(f"http://127.0.0.1:{port}/readyz")

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        if getattr(self, "lrs", None) is not None:
            self.lrs.stop()
        if getattr(self, "platform", None) is not None:
            self.platform.stop()
        if not self.args.keep_database:
            _psql(self.server_url, f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    # --- what is measured ----------------------------------------------------------------
    def nodes(self, target: str) -> list[str]:
        ports = self.ports[:2] if target == "socle" else self.ports[2:]
        return [f"http://127.0.0.1:{p}" for p in ports]

    def tree(self, *names: str) -> list[Any]:
        import psutil

        found = []
        for name in names:
            process = self.processes.get(name)
            if process is None or process.poll() is not None:
                continue
            root = psutil.Process(process.pid)
            found.extend([root, *root.children(recursive=True)])
        return found

    def gunicorn_workers(self, target: str) -> list[Any]:
        import psutil

        workers = []
        for name in (f"{target}1", f"{target}2"):
            process = self.processes.get(name)
            if process is None:
                continue
            for child in psutil.Process(process.pid).children(recursive=True):
                if "gunicorn" in " ".join(child.cmdline()):
                    workers.append(child)
        return workers

    def run_phase(self, target: str, users: int) -> Phase:
        phase = Phase(target, users)
        prefix = self.workdir / f"{target}-{users}"
        think = self.args.think if target == "socle" else "0"
        env = {
            **self.env,
            ROLE_ENV: "locust",
            "SOCLE_LOAD_NODES": ",".join(self.nodes(target)),
            "SOCLE_LOAD_THINK": think,
            "SOCLE_LOAD_PARCOURS": self.args.parcours,
        }
        locustfile = str(Path(__file__).resolve())
        if target == "bare":
            locustfile = str(ROOT / "benchmarks" / "load_bare.py")
        spawn_rate = max(5.0, users / self.args.ramp)
        argv = [
            str(Path(sys.executable).with_name("locust")),
            "-f",
            locustfile,
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            f"{spawn_rate:g}",
            "--run-time",
            f"{self.args.ramp + self.args.duration:g}s",
            "--reset-stats",
            "--csv",
            str(prefix),
            "--only-summary",
            "--stop-timeout",
            "15",
            "--host",
            self.nodes(target)[0],
            "--loglevel",
            "WARNING",
        ]
        log = (self.workdir / f"locust-{target}-{users}.log").open("ab")
        locust = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        servers = self.tree(f"{target}1", f"{target}2")
        monitor = _Monitor(self, phase, servers)
        children_before = _children_cpu()
        launched = time.monotonic()
        time.sleep(self.args.ramp)
        monitor.begin()
        started = time.monotonic()
        locust.wait()
        phase.seconds = time.monotonic() - started
        monitor.end()
        # Locust's own CPU over its whole life (ramp included), as a share of a core.
        phase.locust_cpu = (_children_cpu() - children_before) * (
            phase.seconds / (time.monotonic() - launched)
        )
        phase.worker_rss_mib = [p.memory_info().rss / 2**20 for p in self.gunicorn_workers(target)]
        phase.stats = _read_stats(Path(f"{prefix}_stats.csv"))
        failures = Path(f"{prefix}_failures.csv")
        if failures.exists():
            with failures.open() as handle:
                phase.failures = list(csv.DictReader(handle))
        return phase


class _Monitor:
    """CPU of each group of processes over the measured window, and samples every second of
    the database connections and the outbox depth.

    The database's CPU is that of the server's own processes (checkpointer, WAL writer...)
    and of the backends serving this run's database only (other databases on the same server
    are left out). Backends come and go during the run: each one's CPU is sampled every
    second and counted from its first sample in the window (zero for a backend born in it) to
    its last, so a backend that ends keeps what it used."""

    def __init__(self, stack: Stack, phase: Phase, servers: list[Any]) -> None:
        import psutil

        self.stack, self.phase = stack, phase
        self.groups = {
            "tool_cpu": servers,
            "lrs_cpu": [self.stack.lrs.process and psutil.Process(self.stack.lrs.process.pid)],
            "worker_cpu": stack.tree("xapi-worker"),
        }
        self.start_cpu: dict[str, float] = {}
        self.measuring = False
        self.db_lock = threading.Lock()
        self.db_first: dict[int, float] = {}
        self.db_last: dict[int, float] = {}
        self.db_processes: dict[int, Any] = {}
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        self.t0 = time.monotonic()

    @staticmethod
    def _cpu(processes: list[Any]) -> float:
        total = 0.0
        for process in processes:
            if process is None:
                continue
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except Exception:
                continue
        return total

    def _sample_db(self, pids: set[int], born_now: bool) -> None:
        """Record the CPU of the server's processes and of this database's backends."""
        import psutil

        with self.db_lock:
            for pid in pids:
                if pid not in self.db_processes:
                    try:
                        self.db_processes[pid] = psutil.Process(pid)
                    except psutil.Error:
                        continue
                    if born_now:  # a backend that started inside the window used nothing before
                        self.db_first[pid] = 0.0
            for pid, process in list(self.db_processes.items()):
                try:
                    times = process.cpu_times()
                except psutil.Error:
                    del self.db_processes[pid]  # ended: its last sample stands
                    continue
                used = times.user + times.system
                self.db_first.setdefault(pid, used)
                self.db_last[pid] = used

    def _db_pids(self, connection: Any) -> set[int]:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s OR datname IS NULL",
            (self.stack.database,),
        ).fetchall()
        return {int(row[0]) for row in rows} - {connection.info.backend_pid}

    def begin(self) -> None:
        import psycopg

        dsn = self.stack.url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as connection:
            pids = self._db_pids(connection)
        with self.db_lock:
            self.db_first.clear()
            self.db_last.clear()
            self.db_processes.clear()
        self._sample_db(pids, born_now=False)
        self.measuring = True
        self.start_cpu = {name: self._cpu(procs) for name, procs in self.groups.items()}

    def end(self) -> None:
        for name, procs in self.groups.items():
            setattr(self.phase, name, self._cpu(procs) - self.start_cpu.get(name, 0.0))
        self._sample_db(set(), born_now=True)
        self.measuring = False
        with self.db_lock:
            self.phase.db_cpu = sum(
                self.db_last[pid] - self.db_first.get(pid, 0.0) for pid in self.db_last
            )
        self.stop_event.set()
        self.thread.join(timeout=5)

    def _sample(self) -> None:
        import psycopg

        dsn = self.stack.url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as connection:
            while not self.stop_event.wait(1.0):
                if self.measuring:
                    self._sample_db(self._db_pids(connection), born_now=True)
                connections = connection.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                    (self.stack.database,),
                ).fetchone()
                self.phase.db_connections_max = max(
                    self.phase.db_connections_max, int(connections[0]) - 1 if connections else 0
                )
                try:
                    depth = connection.execute(
                        "SELECT count(*) FROM xapi_outbox WHERE status = 'pending'"
                    ).fetchone()
                except psycopg.errors.UndefinedTable:
                    continue
                self.phase.outbox.append(
                    (round(time.monotonic() - self.t0, 1), int(depth[0]) if depth else 0)
                )


def _children_cpu() -> float:
    """CPU seconds of this process's children that ended (Locust, once waited for)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _read_stats(path: Path) -> dict[str, dict[str, float]]:
    stats: dict[str, dict[str, float]] = {}
    if not path.exists():
        return stats
    with path.open() as handle:
        for row in csv.DictReader(handle):
            stats[row["Name"]] = {
                "count": float(row["Request Count"]),
                "failures": float(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
                "p99": float(row["99%"] or 0),
            }
    return stats


def _psql(server_url: str, sql: str) -> None:
    import psycopg

    dsn = server_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


def _free_port() -> int:
    from lti_tool.demo_lrs import free_port

    return free_port()


def _wait_ready(url: str, timeout: float = 90.0) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not become ready in {timeout:g} s")


def _report(socle: Phase, bare: Phase) -> dict[str, Any]:
    answers = socle.stats.get("answer", {})
    answer_count = answers.get("count", 0.0)
    aggregated = socle.stats.get("Aggregated", {})
    answers_per_s = answer_count / socle.seconds if socle.seconds else 0.0
    bare_total = bare.stats.get("insert", {}).get("count", 0.0)
    bare_per_s = bare_total / bare.seconds if bare.seconds else 0.0
    outbox = [depth for _t, depth in socle.outbox]
    return {
        "agents": socle.users,
        "answers_per_s": answers_per_s,
        "bare_per_s": bare_per_s,
        "ratio": answers_per_s / bare_per_s if bare_per_s else 0.0,
        "requests": aggregated.get("count", 0.0),
        "errors": aggregated.get("failures", 0.0),
        "bare_errors": bare.stats.get("Aggregated", {}).get("failures", 0.0),
        "pages": {
            name: socle.stats[name] for name in (*PAGES, "self-assessment") if name in socle.stats
        },
        "tool_cpu_ms_per_answer": 1000 * socle.tool_cpu / answer_count if answer_count else 0.0,
        "db_cpu_ms_per_answer": 1000 * socle.db_cpu / answer_count if answer_count else 0.0,
        "bare_cpu_ms_per_insert": 1000 * bare.tool_cpu / bare_total if bare_total else 0.0,
        "xapi_worker_cpu_ms_per_answer": (
            1000 * socle.worker_cpu / answer_count if answer_count else 0.0
        ),
        "lrs_cpu_ms_per_answer": 1000 * socle.lrs_cpu / answer_count if answer_count else 0.0,
        "tool_cores": socle.tool_cpu / socle.seconds if socle.seconds else 0.0,
        "db_cores": socle.db_cpu / socle.seconds if socle.seconds else 0.0,
        "locust_cores": socle.locust_cpu / socle.seconds if socle.seconds else 0.0,
        "bare_locust_cores": bare.locust_cpu / bare.seconds if bare.seconds else 0.0,
        "worker_rss_mib": socle.worker_rss_mib,
        "db_connections_max": socle.db_connections_max,
        "outbox_depth": socle.outbox,
        "outbox_max": max(outbox, default=0),
        "outbox_last": outbox[-1] if outbox else 0,
        "failures": socle.failures,  # Locust's failures file: which page, which error
    }


def _print(results: list[dict[str, Any]], think: str) -> None:
    print(f"\nthink time between pages: {think} s\n")
    print(
        "| agents | answers/s | bare inserts/s | ratio | answer p50/p95/p99 ms | errors "
        "| tool CPU ms/answer | DB CPU ms/answer | bare CPU ms/insert | RSS/worker MiB "
        "| DB conns | outbox max → end | load gen cores |"
    )
    print("|" + "---|" * 13)
    for r in results:
        a = r["pages"].get("answer", {})
        rss = r["worker_rss_mib"]
        print(
            f"| {r['agents']} | {r['answers_per_s']:.1f} | {r['bare_per_s']:.0f} "
            f"| {r['ratio']:.2f} | {a.get('p50', 0):.0f} / {a.get('p95', 0):.0f} / "
            f"{a.get('p99', 0):.0f} | {r['errors']:.0f} of {r['requests']:.0f} "
            f"| {r['tool_cpu_ms_per_answer']:.1f} | {r['db_cpu_ms_per_answer']:.1f} "
            f"| {r['bare_cpu_ms_per_insert']:.1f} "
            f"| {statistics.mean(rss) if rss else 0:.0f} | {r['db_connections_max']} "
            f"| {r['outbox_max']} → {r['outbox_last']} | {r['locust_cores']:.2f} |"
        )
    print("\np50 / p95 / p99 ms per page:\n")
    names = [n for n in (*PAGES, "self-assessment") if any(n in r["pages"] for r in results)]
    print("| page | " + " | ".join(f"{r['agents']} agents" for r in results) + " |")
    print("|---|" + "---|" * len(results))
    for name in names:
        cells = []
        for r in results:
            s = r["pages"].get(name)
            cells.append(f"{s['p50']:.0f} / {s['p95']:.0f} / {s['p99']:.0f}" if s else "—")
        print(f"| {name} | " + " | ".join(cells) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="10,50,200", help="concurrent agents per phase")
    parser.add_argument("--duration", type=float, default=60, help="measured seconds per phase")
    parser.add_argument("--ramp", type=float, default=10, help="seconds to start the users")
    parser.add_argument("--think", default="1,3", help="think time: 'min,max' s, or 0")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per node")
    parser.add_argument("--parcours", default="socle-commun")
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--database-prefix", default="socle_load")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write the raw figures here")
    parser.add_argument(
        "--env", action="append", default=[], help="NAME=VALUE for the tool processes"
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # stop the run and every process it started (finally below)

    # SIGINT too: a run started in the background of a script has SIGINT ignored
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    results = []
    with tempfile.TemporaryDirectory(prefix="socle-load-") as tmp:
        stack = Stack(args, Path(tmp))
        try:
            stack.start()
            for users in levels:
                socle = stack.run_phase("socle", users)
                bare = stack.run_phase("bare", users)
                results.append(_report(socle, bare))
                print(f"{users} agents: {results[-1]['answers_per_s']:.1f} answers/s", flush=True)
        finally:
            stack.stop()
            if args.json:
                args.json.write_text(json.dumps(results, indent=1))
    _print(results, args.think)
    return 0


if __name__ == "__main__" and os.environ.get(ROLE_ENV) != "locust":
    sys.exit(main())
