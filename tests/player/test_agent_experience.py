"""The agent's pages as an agent meets them: timed-out answers said as such, extended time,
the expected answer after a wrong one, honest progress, problem reports, the way back to the
LMS, and French content marked as French in an English page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from lti_tool.cli import main
from lti_tool.domain.framework import Challenge, ChallengeType
from lti_tool.models import ChallengeReport
from lti_tool.player.service import TIMEOUT_CLAIM_TOLERANCE_SECONDS
from tests.player.agent import Agent, Page, challenges_where
from tests.player.conftest import PlayerClock
from tests.player.test_challenge_types import show
from tests.player.test_timer import show_warning, timed_challenge
from tests.player_helpers import right_answer


@pytest.fixture
def timed_agent(make_agent: Callable[..., Agent]) -> Agent:
    return make_agent(parcours="socle-commun")


def _blank(challenge: Challenge) -> dict[str, str]:
    if challenge.fields:
        return {f"answer.{f.key}": "" for f in challenge.fields}
    return {}


# --- timed challenges -------------------------------------------------------------------


def test_the_page_that_runs_out_of_time_gets_temps_ecoule(
    timed_agent: Agent, player_clock: PlayerClock
) -> None:
    """The countdown sends the form with ``action=timeout`` when it reaches zero: the answer
    is recorded as timed out at once (no grace to wait for) and said so, even blank."""
    challenge, warning = show_warning(timed_agent)
    page = timed_agent.start_timer(warning)
    limit = challenge.timer or 0
    timed_agent.change_attempt(timer_started_at=player_clock() - timedelta(seconds=limit))
    after = timed_agent.follow(timed_agent.submit(page, _blank(challenge), action="timeout"))
    assert after.answer_status == "timedout"
    assert "Temps écoulé" in after.text()
    assert "après la fin du temps imparti" in after.text()
    (record,) = timed_agent.records()
    assert record.status == "timedout"


def test_a_countdown_that_claims_the_end_too_early_is_not_believed(
    timed_agent: Agent, player_clock: PlayerClock
) -> None:
    challenge, warning = show_warning(timed_agent)
    page = timed_agent.start_timer(warning)
    early = (challenge.timer or 0) - TIMEOUT_CLAIM_TOLERANCE_SECONDS - 5
    timed_agent.change_attempt(timer_started_at=player_clock() - timedelta(seconds=early))
    # A blank form while time is left is a blank answer: refused, nothing recorded.
    again = timed_agent.follow(timed_agent.submit(page, _blank(challenge), action="timeout"))
    assert again.challenge_id == challenge.id
    assert timed_agent.records() == []
    # With an answer in it, the form is graded as an answer in time.
    after = timed_agent.follow(timed_agent.submit(again, right_answer(challenge), action="timeout"))
    assert after.answer_status == "ok"


def test_a_blank_answer_after_the_time_is_timed_out_not_refused(
    timed_agent: Agent, player_clock: PlayerClock
) -> None:
    """Without JavaScript nothing sends the form at zero: « Valider » pressed late and blank
    is a timed-out answer, not a blank one to ask again."""
    challenge, warning = show_warning(timed_agent)
    page = timed_agent.start_timer(warning)
    late = (challenge.timer or 0) + 1
    timed_agent.change_attempt(timer_started_at=player_clock() - timedelta(seconds=late))
    after = timed_agent.follow(timed_agent.submit(page, _blank(challenge)))
    assert after.answer_status == "timedout"


@pytest.mark.parametrize(("factor", "shown"), [("1.5", 1.5), ("2", 2.0), ("3", 1.0), ("x", 1.0)])
def test_extended_time_is_chosen_on_the_start_page_and_kept_with_the_attempt(
    factor: str, shown: float, timed_agent: Agent, player_clock: PlayerClock
) -> None:
    challenge = timed_challenge(timed_agent)
    home = timed_agent.launch()
    assert "Temps majoré : deux fois plus de temps" in home.text()
    timed_agent.start(time_factor=factor)
    attempt = timed_agent.attempt()
    assert attempt.time_factor == shown  # anything but 1, 1.5 or 2 is the normal time
    timed_agent.change_attempt(current_challenge_id=challenge.id, timer_started_at=None)
    warning = timed_agent.play()
    limit = round((challenge.timer or 0) * shown)
    assert f"{limit} secondes" in warning.text()
    page = timed_agent.start_timer(warning)
    # Past the normal time and its grace, still within the extended time when there is one.
    elapsed = (challenge.timer or 0) + 6
    timed_agent.change_attempt(timer_started_at=player_clock() - timedelta(seconds=elapsed))
    after = timed_agent.answer(page, "right")
    assert after.answer_status == ("ok" if shown > 1 else "timedout")


def test_the_countdown_counts_from_the_page_not_the_device_clock(
    timed_agent: Agent, player_clock: PlayerClock
) -> None:
    challenge, warning = show_warning(timed_agent)
    page = timed_agent.start_timer(warning)
    timed_agent.change_attempt(timer_started_at=player_clock() - timedelta(seconds=10))
    page = timed_agent.play()
    form = page.form_to("/play/answer")
    assert form is not None
    remaining = int(form["attrs"]["data-remaining"])  # type: ignore[index]
    expected = ((challenge.timer or 0) - 10) * 1000
    assert expected - 1000 <= remaining <= expected


# --- answers and feedback ----------------------------------------------------------------


def _untimed(agent: Agent, kind: ChallengeType) -> Challenge:
    found = challenges_where(
        agent.content, agent.parcours, lambda c: not c.timer and c.type is kind
    )
    assert found
    return found[0]


def test_a_wrong_answer_shows_the_expected_answer_and_the_tutorials(
    make_agent: Callable[..., Agent],
) -> None:
    agent = make_agent(parcours="socle-commun")
    challenge = _untimed(agent, ChallengeType.QCU)
    page = show(agent, challenge)
    feedback = agent.answer(page, "wrong")
    assert feedback.answer_status == "ko"
    expected_index = challenge.solution.index  # type: ignore[union-attr]
    expected = challenge.proposals[expected_index - 1].fr
    section = feedback.html.split('class="expected"', 1)[1].split("</div>", 1)[0]
    assert re.sub(r"<[^>]+>", "", expected.replace("`", "")) in re.sub(r"<[^>]+>", "", section)
    assert "Pour réussir la prochaine fois" in feedback.text()


def test_a_right_answer_goes_straight_on_with_a_confirmation(
    make_agent: Callable[..., Agent],
) -> None:
    agent = make_agent(parcours="socle-commun")
    challenge = _untimed(agent, ChallengeType.QCU)
    page = show(agent, challenge)
    after = agent.answer(page, "right")
    assert after.answer_status == "ok"
    assert "Bonne réponse à la question 1." in after.text()
    assert after.challenge_id or after.is_timer_warning
    # The confirmation belongs to that answer only: reloading later says nothing.
    assert "Bonne réponse" not in agent.play().text()


def test_progress_tells_the_step_and_what_is_left(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(parcours="socle-commun")
    agent.launch()
    page = agent.start()
    if page.is_timer_warning:
        page = agent.start_timer(page)
    text = page.text()
    assert "Question 1 / 5 avant le point d'étape" in text
    assert re.search(r"0 compétences? terminées? sur 16", text), text
    left = re.search(r"encore (\d+) questions environ", text)
    assert left is not None
    assert int(left.group(1)) >= 16  # every competence still needs at least one answer
    assert "%" not in page.html.split('class="progress"', 1)[1].split("</div>", 1)[0]


# --- problem reports ---------------------------------------------------------------------


def _reports(app: Flask) -> list[ChallengeReport]:
    with app.extensions["socle"].database.session() as session:
        return list(session.query(ChallengeReport).order_by(ChallengeReport.id))


def test_an_agent_reports_a_problem_on_the_challenge_shown(
    app: Flask, make_agent: Callable[..., Agent]
) -> None:
    agent = make_agent(parcours="socle-commun")
    challenge = _untimed(agent, ChallengeType.QCU)
    page = show(agent, challenge)
    form = page.hidden("/play/report")
    assert form["challenge_id"] == challenge.id
    response = agent.post(
        "/play/report",
        {**form, "category": "answer", "message": "  =J'ai répondu juste\n  pourtant  "},
    )
    again = agent.follow(response)
    assert "votre signalement a été transmis" in again.text()
    assert again.challenge_id == challenge.id  # the challenge is still to answer
    (report,) = _reports(app)
    assert (report.challenge_id, report.category) == (challenge.id, "answer")
    assert report.message == "=J'ai répondu juste pourtant"
    assert report.attempt_id == agent.attempt().id
    assert agent.records() == []


@pytest.mark.parametrize(
    "change",
    [
        {"category": "nonsense"},
        {"challenge_id": "mdp-1-a-never-shown"},
    ],
)
def test_a_report_on_something_else_is_not_stored(
    change: dict[str, str], app: Flask, make_agent: Callable[..., Agent]
) -> None:
    agent = make_agent(parcours="socle-commun")
    page = show(agent, _untimed(agent, ChallengeType.QCU))
    data = {**page.hidden("/play/report"), "category": "other", "message": "x", **change}
    agent.follow(agent.post("/play/report", data))
    assert _reports(app) == []


def test_reports_are_listed_for_the_content_team(
    app: Flask,
    make_agent: Callable[..., Agent],
    clean_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agent = make_agent(parcours="socle-commun")
    challenge = _untimed(agent, ChallengeType.QCU)
    page = show(agent, challenge)
    data = {**page.hidden("/play/report"), "category": "file", "message": "=1+1 le fichier"}
    agent.follow(agent.post("/play/report", data))
    monkeypatch.setenv("SOCLE_DATABASE_URL", clean_database)
    monkeypatch.setenv("SOCLE_INSTANCE_DIR", str(tmp_path / "cli-instance"))
    monkeypatch.setenv("SOCLE_SECRET_KEY", "reports-test")
    runner = CliRunner()
    listed = runner.invoke(main, ["content", "reports"])
    assert listed.exit_code == 0, listed.output
    assert challenge.id in listed.output
    assert "file or image does not open" in listed.output
    assert "1 report(s)" in listed.output
    as_csv = runner.invoke(main, ["content", "reports", "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    assert "'=1+1 le fichier" in as_csv.output  # never a formula in a spreadsheet
    other = runner.invoke(main, ["content", "reports", "--challenge", "another-id"])
    assert "no problem reported" in other.output


# --- results, frame, languages -----------------------------------------------------------


def _finish(agent: Agent, **launch: object) -> Page:
    agent.launch(**launch)
    results, _given = agent.run(
        lambda i, _c: ("right", "wrong")[i % 2], page=agent.start(job_profile="accueil-usagers")
    )
    assert results.levels, results.html
    return results


def test_results_lead_with_the_stage_and_three_priorities_and_lead_back_to_the_lms(
    make_agent: Callable[..., Agent],
) -> None:
    agent = make_agent(parcours="sensibilisation-donnees")
    back = "https://lms.example.org/course/view.php?id=7"
    results = _finish(
        agent, lti_launch_presentation={"document_target": "iframe", "return_url": back}
    )
    html = results.html
    assert html.index("Vous avez atteint le palier") < html.index("Niveau par compétence")
    priorities = results.hooks_named("data-priority")
    assert 1 <= len(priorities) <= 3
    assert f'href="{back}"' in html
    assert "Retour à la formation" in results.text()
    # The chart speaks the parcours' scale and draws the expected levels.
    assert "radar-expected" in html
    assert "Niveaux de 0 à" in results.text()
    assert "points sur" in results.text()


def test_a_return_url_that_is_not_http_is_not_a_link(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(parcours="sensibilisation-donnees")
    results = _finish(
        agent,
        lti_launch_presentation={"document_target": "iframe", "return_url": "javascript:alert(1)"},
    )
    assert "javascript:" not in results.html
    assert "Retour à la formation" not in results.text()


def test_french_content_is_marked_french_in_an_english_page(
    make_agent: Callable[..., Agent],
) -> None:
    agent = make_agent(parcours="socle-commun")
    agent.launch(lti_launch_presentation={"document_target": "iframe", "locale": "en-GB"})
    page = agent.start()
    if page.is_timer_warning:
        page = agent.start_timer(page)
    assert '<html lang="en"' in page.html
    assert '<div class="instruction" id="instruction" lang="fr">' in page.html
    labelled = re.search(r'<label for="answer[^"]*" lang="fr">', page.html)
    assert labelled or 'type="text"' in page.html


def test_every_page_asks_the_lms_to_fit_its_frame(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(parcours="socle-commun")
    home = agent.launch()
    assert "/static/js/frame.js" in home.html
    response = agent.client.get("/static/js/frame.js")
    try:
        assert "lti.frameResize" in response.get_data(as_text=True)
    finally:
        response.close()
