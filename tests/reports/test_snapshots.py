"""The kept organisation reports: stored with the stamp they were computed at, served while
current, served stale for a while with one refresh in the background, recomputed past it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import Platform, ReportSnapshot
from lti_tool.reports.snapshots import Kept, ReportKeeper
from tests.player.platform import GradebookPlatform


@dataclass(frozen=True)
class Figures:
    agents: int
    levels: tuple[tuple[str, int], ...]


class Computer:
    def __init__(self) -> None:
        self.calls = 0
        self.agents = 10
        self.started = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def __call__(self, _session: Session) -> Figures:
        self.calls += 1
        self.started.set()
        self.release.wait(timeout=60)
        return Figures(self.agents, (("1.1", 3),))


def _platform_id(app: Flask, _platform: GradebookPlatform) -> int:
    with app.extensions["socle"].database.session() as session:
        return int(session.scalars(select(Platform.id)).one())


def test_a_stale_report_is_served_while_one_refresh_runs_in_the_background(
    app: Flask, platform: GradebookPlatform
) -> None:
    database = app.extensions["socle"].database
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    keeper = ReportKeeper(database, stale_for=600, background=True, clock=lambda: now)
    compute = Computer()
    platform_id = _platform_id(app, platform)

    def get(stamp: str) -> tuple[Figures, bool]:
        with database.session() as session:
            kept = keeper.get(
                session,
                platform_id=platform_id,
                variant="v",
                stamp=stamp,
                kind=Figures,
                compute=compute,
                current_stamp=lambda _s: "stamp-2",
            )
        return kept.report, kept.fresh

    assert get("stamp-1") == (Figures(10, (("1.1", 3),)), True)
    assert compute.calls == 1
    assert get("stamp-1")[1] is True
    assert compute.calls == 1  # kept in memory: nothing computed again

    # New results: the kept figures are served at once, one refresh starts, not two.
    compute.agents = 11
    compute.release.clear()
    compute.started.clear()
    assert get("stamp-2") == (Figures(10, (("1.1", 3),)), False)
    assert compute.started.wait(timeout=60)
    assert get("stamp-2")[1] is False
    compute.release.set()
    for thread in threading.enumerate():
        if thread.name == "socle-report-refresh":
            thread.join(timeout=60)
    assert compute.calls == 2
    assert get("stamp-2") == (Figures(11, (("1.1", 3),)), True)
    with database.session() as session:
        row = session.scalars(select(ReportSnapshot)).one()
        assert (row.stamp, row.payload["agents"]) == ("stamp-2", 11)


def test_past_the_limit_the_reader_waits_for_current_figures(
    app: Flask, platform: GradebookPlatform
) -> None:
    database = app.extensions["socle"].database
    moments = iter([datetime(2026, 12, 7, 10, 0, tzinfo=UTC) + timedelta(minutes=m)
                    for m in (0, 11, 11)])
    keeper = ReportKeeper(database, stale_for=600, background=False, clock=lambda: next(moments))
    compute = Computer()
    platform_id = _platform_id(app, platform)
    with database.session() as session:
        def get(stamp: str) -> Kept[Figures]:
            return keeper.get(session, platform_id=platform_id, variant="v", stamp=stamp,
                              kind=Figures, compute=compute, current_stamp=lambda _s: "stamp-2")

        get("stamp-1")
        compute.agents = 12
        kept = get("stamp-2")
    assert (kept.report.agents, kept.fresh, compute.calls) == (12, True, 2)
    assert keeper.run_pending() == 0
