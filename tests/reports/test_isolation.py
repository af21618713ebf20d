"""Tenant isolation of the training reports: a teacher or an administrator sees their own
activity or platform, and another course, deployment or platform gives 403 and no data —
pages and exports alike. Nothing in a report's URL names a course, deployment or platform:
the launch behind the page token does, so the only thing left to try is an agent's id."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from lti_tool.models import Deployment, Platform
from tests.lti.forge import SigningKey, register
from tests.player.agent import Agent
from tests.player.platform import GradebookPlatform

ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
OTHER_COURSE = {"id": "course-2", "label": "RH", "title": "Ressources humaines"}


@functools.cache
def _key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def other_platform(app: Flask) -> Iterator[GradebookPlatform]:
    other = GradebookPlatform(keys=[_key()])
    other.start()
    try:
        register(app, other)
        yield other
    finally:
        other.stop()


def _second_deployment(app: Flask, platform: GradebookPlatform) -> str:
    with app.extensions["socle"].database.session() as session:
        row = session.query(Platform).filter_by(issuer=platform.issuer).one()
        session.add(Deployment(platform_id=row.id, deployment_id="deployment-2"))
        session.commit()
    return "deployment-2"


@pytest.fixture
def secret_agent(make_agent: Callable[..., Agent]) -> Agent:
    agent = make_agent(sub="secret-agent")
    agent.launch()
    agent.start(job_profile="agents-terrain", category="A")
    agent.run("wrong")
    return agent


def _sees_nothing(teacher: Agent) -> None:
    report = teacher.page("/activity/report")
    assert report.status == 200
    assert "secret-agent" not in report.html
    for path, query in [
        ("/activity/report/export", {"format": "csv"}),
        ("/activity/report/export", {"format": "xlsx"}),
        ("/activity/report/export", {"content": "plan"}),
    ]:
        response = teacher.get(path, **query)
        assert response.status_code == 200
        assert b"secret-agent" not in response.get_data()
    detail = teacher.get("/activity/report/agent", agent="secret-agent")
    assert detail.status_code == 403
    assert "secret-agent" not in detail.get_data(as_text=True)


def test_own_course_sees_the_agent(secret_agent: Agent, make_agent: Callable[..., Agent]) -> None:
    teacher = make_agent(teacher=True, sub="teacher-1")
    teacher.launch()
    assert "secret-agent" in teacher.page("/activity/report").html
    assert teacher.get("/activity/report/agent", agent="secret-agent").status_code == 200


def test_another_course_gets_nothing(secret_agent: Agent, make_agent: Callable[..., Agent]) -> None:
    teacher = make_agent(teacher=True, sub="teacher-2", resource_link="activity-rh")
    teacher.launch(lti_context=OTHER_COURSE)
    _sees_nothing(teacher)


def test_another_deployment_gets_nothing(
    secret_agent: Agent, make_agent: Callable[..., Agent], app: Flask, platform: GradebookPlatform
) -> None:
    deployment = _second_deployment(app, platform)
    teacher = make_agent(teacher=True, sub="teacher-1")  # same person, same link id
    teacher.launch(lti_deployment_id=deployment)
    _sees_nothing(teacher)


def test_another_platform_gets_nothing(
    secret_agent: Agent, app: Flask, other_platform: GradebookPlatform
) -> None:
    teacher = Agent(app, other_platform, teacher=True, sub="teacher-1")
    teacher.launch()
    _sees_nothing(teacher)
    admin = Agent(app, other_platform, sub="admin-other")
    admin.launch(lti_roles=[INSTRUCTOR, ADMIN])
    page = admin.page("/organisation/report")
    assert page.status == 200
    assert page.hook("data-agents") == "0"
    export = admin.get("/organisation/report/export", format="csv")
    assert export.status_code == 200
    assert b"secret-agent" not in export.get_data()


@pytest.mark.parametrize("path", ["/organisation/report", "/organisation/report/export"])
def test_organisation_report_is_for_platform_administrators(
    secret_agent: Agent, make_agent: Callable[..., Agent], path: str
) -> None:
    teacher = make_agent(teacher=True, sub="teacher-1")
    teacher.launch()
    assert teacher.get(path).status_code == 403
    learner = make_agent(sub="learner-x")
    learner.launch()
    assert learner.get(path).status_code == 403
