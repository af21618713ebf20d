"""Time to serve each page type of the player to one agent, on SQLite, with the Flask test client.

Run: ``.venv/bin/python benchmarks/pages.py`` (options: ``--answers``, ``--parcours``,
``--profile``). Target: p95 < 50 ms for every page type.

One agent of a test platform takes the parcours again and again, each time from another LMS
activity (a fresh attempt, as when a course has several Socle activities), answering right,
wrong and skipping in turn, until at least ``--answers`` answers were given. Each request is
timed around the test client's call only (WSGI app, templates, SQLite on a file, commit),
not the page parsing that decides what to do next:

* challenge page: the first ``GET /play`` after an answer (the engine picks the challenge);
* answer: ``POST /play/answer`` up to its ``303`` (grading, answer row, outbox statements);
* feedback: ``GET /play/feedback`` (after a wrong or skipped answer; a right one goes
  straight to the next challenge page, timed as a challenge page);
* checkpoint: ``GET /play/checkpoint`` (every fifth answer);
* results: ``GET /play/results``, loaded ``--results-loads`` times per finished attempt.

``--profile`` prints the functions where the time of each page type goes (cProfile); the
profiler itself roughly doubles the times, so judge the target on a run without it.
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

from werkzeug.test import TestResponse

from lti_tool.app import create_app
from lti_tool.config import PROJECT_DIR, Settings
from lti_tool.migrate import upgrade_database
from tests.player.agent import Agent, Page
from tests.player.conftest import register
from tests.player.platform import GradebookPlatform
from tests.player_helpers import right_answer, wrong_answer

TARGET_MS = 50.0
PAGES = ("challenge page", "answer (POST + 303)", "feedback", "checkpoint", "results")


class Timings:
    """Milliseconds per page type, and optionally one profiler per page type."""

    def __init__(self, profile: bool) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.profiles: dict[str, cProfile.Profile] = {}
        self.profile = profile

    def time(
        self, page: str, call: Callable[..., TestResponse], *args: Any, **kwargs: Any
    ) -> TestResponse:
        """``call(*args, **kwargs)``, timed (and profiled) as one request of ``page``."""
        profiler = None
        if self.profile:
            profiler = self.profiles.setdefault(page, cProfile.Profile())
            profiler.enable()
        start = time.perf_counter()
        response = call(*args, **kwargs)
        elapsed = (time.perf_counter() - start) * 1000
        if profiler is not None:
            profiler.disable()
        self.samples[page].append(elapsed)
        return response


def take_parcours(agent: Agent, timings: Timings, results_loads: int) -> int:
    """One attempt from launch to results; returns the number of answers given."""
    agent.launch()
    page = agent.start()
    given = 0
    while page.challenge_id or page.is_timer_warning:
        if page.is_timer_warning:
            page = agent.start_timer(page)
            continue
        challenge = agent.content.challenges[page.challenge_id or ""]
        how = ("right", "wrong", "right", "skip")[given % 4]
        if how == "skip":
            fields: dict[str, Any] = {}
            action = "skip"
        else:
            fields = right_answer(challenge) if how == "right" else wrong_answer(challenge)
            action = "validate"
        posted = timings.time("answer (POST + 303)", agent.submit, page, fields, action=action)
        assert posted.status_code == 303, posted.get_data(as_text=True)
        location = posted.headers["Location"]
        given += 1
        # A wrong or skipped answer leads to its feedback page; a right one straight to the
        # next challenge (or the checkpoint, or the results) with a one-line confirmation.
        kind = (
            "checkpoint"
            if "/play/checkpoint" in location
            else "results"
            if "/play/results" in location
            else "feedback"
            if "/play/feedback" in location
            else "challenge page"
        )
        after = Page.of(timings.time(kind, agent.client.get, location), location)
        assert after.answer_status, after.html
        if kind == "results":
            page = after
            break
        if kind == "challenge page":
            page = after
            continue
        onward = next(link for link in after.links if "/play" in link)
        if "/play/checkpoint" in onward:
            checkpoint = timings.time("checkpoint", agent.client.get, onward)
            assert checkpoint.status_code == 200
        response = timings.time("challenge page", agent.get, "/play")
        page = agent.follow(response, "/play")
    assert page.levels, page.html
    # The finishing GET /play redirected to the results; load them as an agent would.
    for _ in range(results_loads):
        results = timings.time("results", agent.get, "/play/results")
        assert results.status_code == 200
    return given


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def report(timings: Timings) -> bool:
    print(f"{'page':<22}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'mean ms':>9}  target")
    ok = True
    for page in PAGES:
        values = timings.samples.get(page, [])
        if not values:
            continue
        p95 = percentile(values, 0.95)
        verdict = "ok" if p95 < TARGET_MS else "ABOVE"
        ok = ok and p95 < TARGET_MS
        print(
            f"{page:<22}{len(values):>6}{percentile(values, 0.5):>9.1f}{p95:>9.1f}"
            f"{max(values):>9.1f}{statistics.fmean(values):>9.1f}  {verdict}"
        )
    return ok


def print_profiles(timings: Timings, top: int) -> None:
    """The project's functions (``lti_tool``, ``xapi``) by cumulative time, per page type."""
    for page, profiler in timings.profiles.items():
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(r"/(lti_tool|xapi)/", top)
        lines = [line.replace(str(PROJECT_DIR) + "/", "") for line in out.getvalue().splitlines()]
        print(f"\n=== {page} ===")
        print("\n".join(line for line in lines if line.strip()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--answers", type=int, default=200, help="answers to give at least")
    parser.add_argument("--parcours", default="socle-commun")
    parser.add_argument(
        "--results-loads",
        type=int,
        default=30,
        help="loads of the results page per finished attempt",
    )
    parser.add_argument("--profile", action="store_true", help="print cProfile per page type")
    parser.add_argument("--top", type=int, default=25, help="functions shown by --profile")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="socle-bench-") as workdir:
        database_url = f"sqlite:///{Path(workdir) / 'bench.sqlite3'}"
        upgrade_database(database_url)
        settings = Settings(
            instance_dir=Path(workdir) / "instance",
            database_url=database_url,
            secret_key="benchmark-secret-key",
            base_url="http://localhost",
            content_dir=PROJECT_DIR / "content",
        )
        app = create_app(settings)
        app.extensions["socle"].grades.stop()
        platform = GradebookPlatform()
        platform.start()
        try:
            register(app, platform)
            timings = Timings(options.profile)
            given = attempts = 0
            warm = Agent(app, platform, parcours=options.parcours, resource_link="warm-up")
            take_parcours(warm, Timings(False), 1)  # first use builds the engine's tables
            while given < options.answers:
                attempts += 1
                agent = Agent(
                    app, platform, parcours=options.parcours, resource_link=f"activity-{attempts}"
                )
                given += take_parcours(agent, timings, options.results_loads)
        finally:
            platform.stop()
            app.extensions["socle"].database.dispose()
    print(
        f"parcours {options.parcours}: {attempts} attempts, {given} answers, one agent, "
        f"SQLite file, Flask test client, Python {sys.version.split()[0]}"
    )
    ok = report(timings)
    if options.profile:
        print_profiles(timings, options.top)
        return 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
