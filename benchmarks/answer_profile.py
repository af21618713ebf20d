"""Where one answer's time goes: SQL statements, commits and CPU per page type, and a profile.

Run: ``.venv/bin/python benchmarks/answer_profile.py`` (``--database-url`` for PostgreSQL,
``--profile`` for cProfile's top functions per page type, ``--cold`` to empty every
process-local cache before each request, as when each request of an agent lands on another
worker of another node — the load benchmark's round robin).

One agent walks the parcours again and again through the Flask test client (as
``benchmarks/pages.py`` does); each request is counted: the SQL statements it sent, the
commits, the CPU time of this process (the server's work: the test client runs in the same
thread). "Per answer" adds up the requests of one answer's cycle: the answer POST, its
feedback, the next challenge page, and a fifth of a checkpoint.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event
from werkzeug.test import TestResponse

from benchmarks.pages import take_parcours
from lti_tool.app import create_app
from lti_tool.config import PROJECT_DIR, Settings
from lti_tool.migrate import upgrade_database
from tests.player.agent import Agent
from tests.player.conftest import register
from tests.player.platform import GradebookPlatform

CYCLE = {"answer (POST + 303)": 1.0, "feedback": 1.0, "challenge page": 1.0, "checkpoint": 0.2}


class Counted:
    """Statements, commits and CPU per page type (duck-compatible with ``pages.Timings``)."""

    def __init__(self, engine: Any, profile: bool, cold: Callable[[], None] | None) -> None:
        self.statements: dict[str, list[int]] = defaultdict(list)
        self.commits: dict[str, list[int]] = defaultdict(list)
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.samples = self.cpu
        self.profiles: dict[str, cProfile.Profile] = {}
        self.profile = profile
        self.cold = cold
        self._statements = self._commits = 0

        @event.listens_for(engine, "before_cursor_execute")
        def _count(*_args: Any) -> None:
            self._statements += 1

        @event.listens_for(engine, "commit")
        def _commit(*_args: Any) -> None:
            self._commits += 1

    def time(
        self, page: str, call: Callable[..., TestResponse], *args: Any, **kwargs: Any
    ) -> TestResponse:
        if self.cold is not None:
            self.cold()
        profiler = None
        if self.profile:
            profiler = self.profiles.setdefault(page, cProfile.Profile())
            profiler.enable()
        statements, commits = self._statements, self._commits
        started = time.process_time()
        response = call(*args, **kwargs)
        self.cpu[page].append((time.process_time() - started) * 1000)
        if profiler is not None:
            profiler.disable()
        self.statements[page].append(self._statements - statements)
        self.commits[page].append(self._commits - commits)
        return response


def cold_caches() -> None:
    """Forget what this process learnt from earlier requests (engine tallies, launch and
    attempt caches), as a worker that never saw this agent."""
    from lti_tool.domain.adaptive import get_algorithm

    for name in ("socle", "baseline"):
        cache = getattr(get_algorithm(name), "_cache", None)
        if cache is not None:
            cache.clear()
    from lti_tool.player.service import clear_process_caches

    clear_process_caches()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=150)
    parser.add_argument("--parcours", default="socle-commun")
    parser.add_argument("--database-url", default=None, help="default: a SQLite file")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--cold", action="store_true", help="no process-local cache")
    parser.add_argument("--top", type=int, default=30)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="socle-profile-") as workdir:
        url = options.database_url or f"sqlite:///{Path(workdir) / 'profile.sqlite3'}"
        upgrade_database(url, secret_key="profile-secret")
        app = create_app(
            Settings(
                instance_dir=Path(workdir) / "instance",
                database_url=url,
                secret_key="profile-secret",
                base_url="http://localhost",
                content_dir=PROJECT_DIR / "content",
            )
        )
        app.extensions["socle"].grades.stop()
        platform = GradebookPlatform()
        platform.start()
        try:
            register(app, platform)
            warm = Agent(app, platform, parcours=options.parcours, resource_link="warm-up")
            engine = app.extensions["socle"].database.engine
            take_parcours(warm, Counted(engine, False, None), 1)  # type: ignore[arg-type]
            counted = Counted(engine, options.profile, cold_caches if options.cold else None)
            given = attempts = 0
            while given < options.answers:
                attempts += 1
                agent = Agent(
                    app, platform, parcours=options.parcours, resource_link=f"a-{attempts}"
                )
                given += take_parcours(agent, counted, 3)  # type: ignore[arg-type]
        finally:
            platform.stop()
            app.extensions["socle"].database.dispose()
    dialect = url.split(":", 1)[0]
    print(
        f"{given} answers in {attempts} attempts of {options.parcours}, {dialect}, "
        f"{'cold' if options.cold else 'warm'} process caches\n"
    )
    print("| page | requests | SQL statements | commits | CPU ms (mean) |")
    print("|---|---|---|---|---|")
    per_answer = {"statements": 0.0, "commits": 0.0, "cpu": 0.0}
    for page, values in counted.cpu.items():
        statements = statistics.fmean(counted.statements[page])
        commits = statistics.fmean(counted.commits[page])
        cpu = statistics.fmean(values)
        print(f"| {page} | {len(values)} | {statements:.1f} | {commits:.2f} | {cpu:.1f} |")
        weight = CYCLE.get(page, 0.0)
        per_answer["statements"] += weight * statements
        per_answer["commits"] += weight * commits
        per_answer["cpu"] += weight * cpu
    print(
        f"| **per answer** (answer + feedback + next page + 1/5 checkpoint) | | "
        f"{per_answer['statements']:.1f} | {per_answer['commits']:.2f} | "
        f"{per_answer['cpu']:.1f} |"
    )
    if options.profile:
        for page, profiler in counted.profiles.items():
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(options.top)
            print(f"\n=== {page} ===\n" + out.getvalue().replace(str(PROJECT_DIR) + "/", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
