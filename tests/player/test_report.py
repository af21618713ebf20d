"""The teacher's course report: who started, who finished, with which mastery and levels."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from tests.player.agent import Agent


def test_report_lists_agents_attempts_but_not_previews(make_agent: Callable[..., Agent]) -> None:
    finisher = make_agent(sub="agent-finisher")
    finisher.launch()
    finisher.start()
    finisher.run("right")
    midway = make_agent(sub="agent-midway")
    midway.launch()
    midway.start()
    midway.run("wrong", stop_after=3)
    teacher = make_agent(teacher=True, sub="teacher-1")
    home = teacher.launch()
    assert "/activity/report" in home.html
    teacher.start(new="1")  # a preview attempt: not in the report
    teacher.run("right", stop_after=2)

    report = teacher.page("/activity/report")
    assert report.status == 200
    assert report.html.count('data-report-status="finished"') == 1
    assert report.html.count('data-report-status="in_progress"') == 1
    assert "agent-finisher" in report.html
    assert "agent-midway" in report.html
    assert "teacher-1" not in report.html

    download = teacher.get("/activity/report", format="csv")
    assert download.mimetype == "text/csv"
    rows = list(
        csv.DictReader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    by_agent = {row["Agent (identifiant)"]: row for row in rows}
    assert set(by_agent) == {"agent-finisher", "agent-midway"}
    assert by_agent["agent-finisher"]["Statut"] == "terminé"
    assert by_agent["agent-midway"]["Statut"] == "en cours"
    levels = {column.removeprefix("Niveau ") for column in rows[0] if column.startswith("Niveau ")}
    assert levels == {"1.2", "1.3", "4.1", "4.2"}
    assert all(by_agent["agent-finisher"][f"Niveau {code}"] != "" for code in levels)
    assert all(by_agent["agent-midway"][f"Niveau {code}"] == "" for code in levels)


def test_report_is_for_teachers_only(make_agent: Callable[..., Agent]) -> None:
    learner = make_agent(sub="curious-agent")
    learner.launch()
    assert learner.get("/activity/report").status_code == 403
