"""The organisation report: every course and deployment of a platform, aggregated, with no
group under five agents outside the administrator's own course."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.config import Settings
from lti_tool.models import LtiUser, ReportSnapshot
from lti_tool.privacy.agents import erase_agent
from lti_tool.reports import views
from tests.player.agent import Agent

ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
COURSES = {
    "activity-num": {"id": "course-num", "label": "NUM", "title": "Numérique"},
    "activity-rh": {"id": "course-rh", "label": "RH", "title": "Ressources humaines"},
    "activity-fin": {"id": "course-fin", "label": "FIN", "title": "Finances"},
}


def _play(make_agent: Callable[..., Agent], link: str, count: int, family: str) -> None:
    for index in range(count):
        agent = make_agent(sub=f"{link}-{index}", resource_link=link)
        agent.launch(lti_context=COURSES[link])
        agent.start(job_profile=family)
        agent.run("wrong", stop_after=None if index % 2 == 0 else 2)


def test_groups_under_five_are_merged_or_hidden_and_said_so(
    make_agent: Callable[..., Agent],
) -> None:
    _play(make_agent, "activity-num", 5, "agents-terrain")
    _play(make_agent, "activity-rh", 3, "accueil-usagers")
    _play(make_agent, "activity-fin", 2, "accueil-usagers")
    admin = make_agent(sub="admin", resource_link="activity-fin")
    admin.launch(lti_roles=[INSTRUCTOR, ADMIN], lti_context=COURSES["activity-fin"])
    page = admin.page("/organisation/report")
    assert page.status == 200, page.html
    assert page.hook("data-agents") == "10"
    courses = [h["data-group"] for h in page.hooks_named("data-group")]
    # Numérique (5) shown; Finances (2) is the administrator's own course: shown; RH (3)
    # alone is too small, and merged with nothing it stays too small: hidden.
    assert "Numérique" in courses
    assert "Finances" in courses
    assert "Ressources humaines" not in courses
    assert "groupe de moins de 5 agents" in page.text()
    assert "secret" not in page.html
    # Job families across the platform: terrain (5) shown, accueil (5 = 3 + 2) shown.
    assert "agents-terrain" in courses
    assert "accueil-usagers" in courses
    # No agent is named anywhere on the organisation page.
    assert "activity-num-0" not in page.html

    export = admin.get("/organisation/report/export", format="csv")
    rows = list(
        csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    groups = {(row["Regroupement"], row["Groupe"]) for row in rows}
    assert ("Cours", "Numérique") in groups
    assert ("Cours", "Ressources humaines") not in groups
    assert all(int(row["Agents"]) >= 5 or row["Groupe"] == "Finances" for row in rows)


def test_trends_count_attempts_per_month_and_follow_new_answers(
    make_agent: Callable[..., Agent],
) -> None:
    _play(make_agent, "activity-num", 2, "agents-terrain")
    admin = make_agent(sub="admin", resource_link="activity-num")
    admin.launch(lti_roles=[INSTRUCTOR, ADMIN], lti_context=COURSES["activity-num"])
    page = admin.page("/organisation/report")
    assert page.status == 200
    months = {h["data-month"]: int(h["data-count"]) for h in page.hooks_named("data-month")}
    assert sum(months.values()) == 2
    assert len(months) == 1
    assert page.hook("data-fresh") == "yes"
    # An agent starts and answers: the next view still shows the kept figures, says so, and
    # has their refresh queued; once it ran, the view is current again.
    newcomer = make_agent(sub="newcomer", resource_link="activity-num")
    newcomer.launch(lti_context=COURSES["activity-num"])
    newcomer.start()
    newcomer.run("wrong", stop_after=1)
    kept = admin.page("/organisation/report")
    assert kept.hook("data-agents") == "2"
    assert kept.hook("data-fresh") == "no"
    assert "Des résultats sont arrivés depuis" in kept.text()
    assert admin.app.extensions["socle"].reports.run_pending() == 1
    again = admin.page("/organisation/report")
    assert again.hook("data-agents") == "3"
    assert again.hook("data-fresh") == "yes"
    months = {h["data-month"]: int(h["data-count"]) for h in again.hooks_named("data-month")}
    assert sum(months.values()) == 3


def test_figures_older_than_the_staleness_limit_are_computed_again_in_the_request(
    make_agent: Callable[..., Agent],
) -> None:
    _play(make_agent, "activity-num", 2, "agents-terrain")
    admin = _admin(make_agent)
    keeper = admin.app.extensions["socle"].reports
    assert admin.page("/organisation/report").hook("data-agents") == "2"
    newcomer = make_agent(sub="newcomer", resource_link="activity-num")
    newcomer.launch(lti_context=COURSES["activity-num"])
    newcomer.start()
    later = datetime.now(UTC) + keeper.stale_for + timedelta(seconds=1)
    keeper.clock = lambda: later
    page = admin.page("/organisation/report")
    assert page.hook("data-agents") == "3"
    assert page.hook("data-fresh") == "yes"
    assert keeper.run_pending() == 0


def test_every_process_serves_the_kept_figures_without_computing_them(
    make_agent: Callable[..., Agent],
    make_app: Callable[[Settings], Flask],
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _play(make_agent, "activity-num", 5, "agents-terrain")
    admin = _admin(make_agent)
    first = admin.page("/organisation/report")
    with admin.app.extensions["socle"].database.session() as session:
        (payload,) = session.scalars(select(ReportSnapshot.payload)).all()
    # Aggregates only: no agent's pseudonymous id is kept with the figures.
    assert "activity-num-0" not in json.dumps(payload)

    # Another process of the tool (same database, nothing in memory) serves them as they are.
    other = make_app(make_settings())
    computed: list[int] = []
    original = views._organisation_report
    monkeypatch.setattr(
        views, "_organisation_report", lambda *a, **k: computed.append(1) or original(*a, **k)
    )
    other_admin = Agent(other, admin.platform, sub="admin", resource_link="activity-num")
    other_admin.launch(lti_roles=[INSTRUCTOR, ADMIN], lti_context=COURSES["activity-num"])
    page = other_admin.page("/organisation/report")
    assert page.status == 200, page.html
    assert computed == []
    assert page.hook("data-agents") == first.hook("data-agents") == "5"
    assert page.hook("data-computed-at") == first.hook("data-computed-at")


def test_erasing_an_agent_drops_the_kept_figures_that_counted_them(
    make_agent: Callable[..., Agent],
) -> None:
    _play(make_agent, "activity-num", 5, "agents-terrain")
    admin = _admin(make_agent)
    assert admin.page("/organisation/report").hook("data-agents") == "5"
    ext = admin.app.extensions["socle"]
    with ext.database.session() as session:
        user = session.scalars(select(LtiUser).where(LtiUser.sub == "activity-num-0")).one()
        erase_agent(session, user, tool_base_url="http://localhost", now=datetime.now(UTC))
        session.commit()
        assert session.scalars(select(ReportSnapshot)).all() == []
    page = admin.page("/organisation/report")
    assert page.hook("data-agents") == "4"
    assert page.hook("data-fresh") == "yes"


def _admin(make_agent: Callable[..., Agent]) -> Agent:
    admin = make_agent(sub="admin", resource_link="activity-num")
    admin.launch(lti_roles=[INSTRUCTOR, ADMIN], lti_context=COURSES["activity-num"])
    return admin
