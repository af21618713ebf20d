"""The course report of a teacher's launch: roster from NRPS, categories declared by agents,
training needs, agent detail, exports.

Agents play for real through HTTP (``tests.player.agent``); the platform serves NRPS
memberships over real HTTP with OAuth2 client credentials, as an LMS does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import openpyxl
import pytest
from sqlalchemy import select

from lti_tool.models import LtiUser
from tests.player.agent import Agent
from tests.player.platform import NRPS_CLAIM, GradebookPlatform

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def _csv(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def _teacher(make_agent: Callable[..., Agent], platform: GradebookPlatform) -> Agent:
    teacher = make_agent(teacher=True, sub="teacher-1")
    teacher.launch(**{NRPS_CLAIM: platform.nrps_claim()})
    return teacher


def test_roster_shows_who_never_started_with_live_names(
    make_agent: Callable[..., Agent], platform: GradebookPlatform
) -> None:
    finisher = make_agent(sub="agent-finisher")
    finisher.launch(name=None, email=None)
    finisher.start(job_profile="agents-terrain", category="C")
    finisher.run("wrong")
    platform.members = [
        {"user_id": "agent-finisher", "roles": [LEARNER], "name": "Awa Diallo"},
        {"user_id": "agent-absent", "roles": [LEARNER], "name": "Paul Martin"},
        {"user_id": "teacher-1", "roles": [INSTRUCTOR], "name": "Formateur"},
    ]
    platform.nrps_page_size = 2  # two pages: the tool follows the Link header
    teacher = _teacher(make_agent, platform)

    report = teacher.page("/activity/report")
    assert report.status == 200, report.html
    statuses = {h["data-agent"]: h["data-report-status"] for h in report.hooks_named("data-agent")}
    assert statuses == {"agent-finisher": "finished", "agent-absent": "not_started"}
    assert "Awa Diallo" in report.html
    assert "Paul Martin" in report.html
    assert "Formateur" not in report.text()
    assert len(platform.nrps_requests) == 2
    assert "rlid=activity-1" in platform.nrps_requests[0]
    assert platform.problems == []
    # The registration does not allow personal data: the live names are not stored.
    with teacher.app.extensions["socle"].database.session() as session:
        stored = session.scalars(select(LtiUser.name).where(LtiUser.sub == "agent-finisher"))
        assert list(stored) == [None]


def test_names_are_stored_when_the_registration_allows_it(
    make_agent: Callable[..., Agent], platform: GradebookPlatform
) -> None:
    from lti_tool.models import Platform

    with platform_session(make_agent) as session:
        session.query(Platform).update({"store_personal_data": True})
    agent = make_agent(sub="agent-named")
    agent.launch(name=None, email=None)
    agent.start()
    platform.members = [{"user_id": "agent-named", "roles": [LEARNER], "name": "Inès Roy"}]
    teacher = _teacher(make_agent, platform)
    assert teacher.page("/activity/report").status == 200
    with platform_session(make_agent) as session:
        assert session.scalar(select(LtiUser.name).where(LtiUser.sub == "agent-named")) == (
            "Inès Roy"
        )


class platform_session:
    def __init__(self, make_agent: Callable[..., Agent]) -> None:
        self.database = make_agent().app.extensions["socle"].database

    def __enter__(self):  # type: ignore[no-untyped-def]
        self._context = self.database.session()
        self.session = self._context.__enter__()
        return self.session

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.session.commit()
        self._context.__exit__(*exc)


def test_a_failing_roster_costs_the_roster_not_the_page(
    make_agent: Callable[..., Agent], platform: GradebookPlatform
) -> None:
    agent = make_agent(sub="agent-1")
    agent.launch()
    agent.start()
    platform.nrps_mode = "500"
    teacher = _teacher(make_agent, platform)
    report = teacher.page("/activity/report")
    assert report.status == 200
    assert "n'a pas pu être lue" in report.text()
    assert [h["data-agent"] for h in report.hooks_named("data-agent")] == ["agent-1"]


def test_needs_heatmap_filters_and_declared_category(
    make_agent: Callable[..., Agent], platform: GradebookPlatform
) -> None:
    for index in range(3):
        agent = make_agent(sub=f"terrain-{index}")
        agent.launch()
        agent.start(job_profile="referents-numeriques", category="B")
        agent.run("wrong")
    other = make_agent(sub="sans-famille")
    other.launch()
    other.start(category="pas-une-categorie")
    other.run("right")
    teacher = _teacher(make_agent, platform)

    report = teacher.page("/activity/report")
    needs = {h["data-need"]: int(h["data-below"]) for h in report.hooks_named("data-need")}
    # Every wrong answer: the three referents are below their expected level in every
    # competence the parcours measures (the profile expects 3 to 5).
    assert needs
    assert set(needs.values()) == {3}
    assert "3 agents sous le niveau attendu en 4.1" in report.text()
    assert "<svg" in report.html
    assert 'class="heatmap"' in report.html
    cells = [h for h in report.hooks_named("data-competence") if "data-level" in h]
    assert cells, "the table equivalent carries each cell's level"

    groups = {h["data-group"] for h in report.hooks_named("data-group")}
    assert {"referents-numeriques", "B"} <= groups
    assert "Référents numériques" in report.text()
    assert "Catégorie Catégorie" not in report.text()

    filtered = teacher.page("/activity/report", category="B")
    assert {h["data-agent"] for h in filtered.hooks_named("data-agent")} == {
        "terrain-0",
        "terrain-1",
        "terrain-2",
    }
    unknown = teacher.page("/activity/report", family="nope")
    assert unknown.hooks_named("data-agent") == []
    with platform_session(make_agent) as session:
        from lti_tool.models import Attempt

        categories = dict(
            session.execute(
                select(LtiUser.sub, Attempt.agent_category).join(
                    Attempt, Attempt.user_pk == LtiUser.id
                )
            ).all()
        )
    assert categories["terrain-0"] == "B"
    assert categories["sans-famille"] is None  # a forged value is not stored


def test_agent_detail_shows_results_and_answers(
    make_agent: Callable[..., Agent], platform: GradebookPlatform
) -> None:
    agent = make_agent(sub="agent-detail")
    agent.launch()
    agent.start()
    results, given = agent.run("right")
    teacher = _teacher(make_agent, platform)
    detail = teacher.page("/activity/report/agent", agent="agent-detail")
    assert detail.status == 200
    assert detail.levels == results.levels
    statuses = [h["data-answer-status"] for h in detail.hooks_named("data-answer-status")]
    assert len(statuses) == len(given)


def test_exports_csv_xlsx_and_training_plan(
    make_agent: Callable[..., Agent], platform: GradebookPlatform
) -> None:
    agent = make_agent(sub="=agent-formula")
    agent.launch()
    agent.start(job_profile="referents-numeriques", category="A")
    agent.run("wrong")
    teacher = _teacher(make_agent, platform)

    download = teacher.get("/activity/report/export", format="csv")
    assert download.mimetype == "text/csv"
    (line,) = _csv(download.get_data(as_text=True))
    assert line["Agent (identifiant)"] == "'=agent-formula"
    assert line["Catégorie"] == "A"
    assert line["Statut"] == "terminé"
    assert line["Famille de métiers"].startswith("Référents numériques")
    assert int(line["Écart 4.1"]) < 0

    workbook = teacher.get("/activity/report/export", format="xlsx")
    assert workbook.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.get_data())).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header, values = rows[0], rows[1]
    assert values[header.index("Agent (identifiant)")] == "=agent-formula"
    assert sheet.cell(row=2, column=1).data_type == "s"  # text, never a formula

    plan = _csv(teacher.get("/activity/report/export", content="plan").get_data(as_text=True))
    assert {row["Besoin"] for row in plan} >= {"4.1"}
    assert all(row["Agent (identifiant)"] == "'=agent-formula" for row in plan)
    themes = _csv(
        teacher.get("/activity/report/export", content="plan", by="theme").get_data(as_text=True)
    )
    assert "cybersecurite" in {row["Besoin"] for row in themes}


@pytest.mark.parametrize(
    "path", ["/activity/report", "/activity/report/export", "/activity/report/agent"]
)
def test_learners_get_403_everywhere(make_agent: Callable[..., Agent], path: str) -> None:
    learner = make_agent(sub="curious")
    learner.launch()
    learner.start()
    response = learner.get(path, agent="curious", format="csv")
    assert response.status_code == 403
    assert "curious" not in response.get_data(as_text=True)
