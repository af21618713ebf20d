"""Results and retries: the results page has one ``data-competence``/``data-level`` per
measured competence; a relaunch after the end leads to « Voir mes résultats »; a new attempt
is refused (409) until ``Settings.retry_delay`` has passed since the end, allowed after; and
in the gradebook a retry's score replaces the posted one only when it is better.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lti_tool.app import create_app
from lti_tool.config import Settings
from lti_tool.domain.target import parcours_view
from tests.player.agent import Agent, Page
from tests.player.conftest import PlayerClock
from tests.player.platform import GradebookPlatform


def mixed(index: int, _challenge: object) -> str:
    return ("right", "wrong", "skip", "right")[index % 4]


def finish(agent: Agent, policy: Any = mixed) -> Page:
    agent.launch()
    results, _given = agent.run(policy, page=agent.start())
    assert results.status == 200, results.html
    assert results.levels, results.html
    return results


@pytest.mark.parametrize("parcours", ["sensibilisation-donnees", "socle-commun"])
def test_results_mark_each_measured_competence_with_its_level(
    parcours: str, make_agent: Callable[..., Agent]
) -> None:
    agent = make_agent(parcours=parcours)
    results = finish(agent)
    view = parcours_view(agent.content, parcours)
    marked = [h["data-competence"] for h in results.hooks_named("data-competence")]
    assert sorted(marked) == sorted(c.code for c in view.competences)  # each exactly once
    attempt = agent.attempt()
    assert attempt.status == "completed"
    assert attempt.result is not None
    assert results.levels == attempt.result["levels"]
    ceilings = {c.code: c.max_level for c in view.competences}
    assert all(0 <= level <= ceilings[code] for code, level in results.levels.items())

    # The tutorials, all folded per competence, are those of failed skills and no others.
    content = agent.content
    failed = {r.skill_id for r in agent.records() if r.status != "ok"}
    succeeded = {r.skill_id for r in agent.records()} - failed
    wanted = {t for s in failed for t in content.skills[s].tutorials + content.skills[s].learn_more}
    others = {
        t for s in succeeded for t in content.skills[s].tutorials + content.skills[s].learn_more
    } - wanted
    section = results.html.split("Tous les tutoriels, par compétence", 1)[1]
    listed = set(re.findall(r'data-tutorial="([^"]+)"', section))
    assert listed == wanted
    assert not listed & others


def test_a_relaunch_after_the_end_offers_the_results(agent: Agent) -> None:
    results = finish(agent)
    home = agent.launch()
    assert "Voir mes résultats" in home.text()
    assert "Commencer le parcours" not in home.text()
    assert "Reprendre le parcours" not in home.text()
    link = next(h for h in home.links if "/play/results" in h)
    again = agent.follow(agent.client.get(link))
    assert again.status == 200
    assert again.levels == results.levels
    # The player itself sends a finished attempt to its results, never to a new challenge.
    assert agent.play().levels == results.levels
    assert len(agent.attempts()) == 1


HOUR = 3600
# (retry delay, seconds since the end, allowed?)
RETRY: dict[str, tuple[int, int, bool]] = {
    "no delay configured": (0, 0, True),
    "right after the end": (HOUR, 0, False),
    "ten seconds too early": (HOUR, HOUR - 10, False),
    "ten seconds after the delay": (HOUR, HOUR + 10, True),
    "a month-long delay, one day early": (30 * 86_400, 29 * 86_400, False),
}


@pytest.mark.parametrize(
    ("case", "settings_overrides"),
    [(case, {"retry_delay": delay}) for case, (delay, _ago, _ok) in RETRY.items()],
    ids=list(RETRY),
)
def test_a_retry_waits_for_the_configured_delay(
    case: str, settings_overrides: dict[str, Any], agent: Agent, player_clock: PlayerClock
) -> None:
    _delay, ago, allowed = RETRY[case]
    finish(agent)
    finished = player_clock() - timedelta(seconds=ago)
    agent.change_attempt(finished_at=finished)
    results = agent.page("/play/results")
    # « Recommencer » asks first: a link to a confirmation page that holds the form.
    confirm = agent.page("/play/restart")
    retry_form = confirm.form_to("/play/start")
    if not allowed:
        assert not [link for link in results.links if "/play/restart" in link]
        assert retry_form is None
        assert "Vous pourrez recommencer le parcours à partir du" in results.text()
        agent.launch()  # a token issued after the end: only the retry delay can refuse it
        response = agent.post("/play/start", {"new": "1"})
        assert response.status_code == 409
        refused = agent.follow(response)
        assert refused.hook("data-rejection") == "retry_too_soon"
        assert "Vous ne pouvez pas encore recommencer ce parcours." in refused.text()
        assert len(agent.attempts()) == 1
        assert agent.verbs().count("attempted") == 1
        return
    assert retry_form is not None
    assert [link for link in results.links if "/play/restart" in link]
    assert "Recommencer le parcours ?" in confirm.text()
    assert confirm.hidden("/play/start")["new"] == "1"
    page = agent.start(new="1")
    assert page.challenge_id
    assert page.seq == 1
    attempts = agent.attempts()
    assert [a.number for a in attempts] == [1, 2]
    assert [a.status for a in attempts] == ["completed", "started"]
    assert agent.verbs().count("attempted") == 2
    # The old results page's retry form, posted again, does not start a third attempt.
    agent.post("/play/start", {"new": "1"})
    assert len(agent.attempts()) == 2


@pytest.mark.parametrize(("raw", "expected"), [("5400", 5400), ("", 0), ("0", 0)])
def test_the_retry_delay_comes_from_socle_retry_delay(
    raw: str, expected: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clean_database: str
) -> None:
    monkeypatch.setenv("SOCLE_RETRY_DELAY", raw)
    monkeypatch.setenv("SOCLE_SECRET_KEY", "retry-delay-test")
    settings = Settings.from_env(instance_dir=tmp_path, database_url=clean_database, testing=True)
    assert settings.retry_delay == expected
    app = create_app(settings)
    try:
        assert app.extensions["socle"].player.retry_delay == timedelta(seconds=expected)
    finally:
        app.extensions["socle"].database.dispose()


def test_a_retry_delay_that_is_not_a_number_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SOCLE_RETRY_DELAY", "une heure")
    monkeypatch.setenv("SOCLE_SECRET_KEY", "retry-delay-test")
    with pytest.raises(ValueError, match="SOCLE_RETRY_DELAY must be a whole number"):
        Settings.from_env(instance_dir=tmp_path)


def test_a_better_retry_is_posted_again_and_a_worse_one_is_not(
    app: Any, make_agent: Callable[..., Agent], platform: GradebookPlatform
) -> None:
    agent = make_agent(gradebook=True)
    grades = app.extensions["socle"].grades

    def sent_scores() -> list[float]:
        return [s.body["scoreGiven"] for s in platform.scores]

    finish(agent, "wrong")
    assert grades.run_once() == {"sent": 1, "retry": 0, "failed": 0, "not_improved": 0}
    first = agent.attempt()
    assert first.grade_status == "sent"
    assert sent_scores() == [pytest.approx(round((first.mastery or 0) * 100, 2))]

    agent.page("/play/results")
    agent.start(new="1")
    agent.run("right")
    better = agent.attempt()
    assert better.number == 2
    assert (better.mastery or 0) > (first.mastery or 0)
    assert grades.run_once()["sent"] == 1
    assert sent_scores()[-1] == pytest.approx(round((better.mastery or 0) * 100, 2))
    assert len(platform.scores) == 2
    stamps = [s.body["timestamp"] for s in platform.scores]
    assert stamps[0] < stamps[1]  # strictly later: platforms refuse an older score

    agent.start(new="1")
    agent.run("wrong")
    worse = agent.attempt()
    assert worse.number == 3
    assert (worse.mastery or 0) < (better.mastery or 0)
    assert grades.run_once()["not_improved"] == 1
    assert agent.attempt().grade_status == "not_improved"
    assert len(platform.scores) == 2
    assert {s.body["userId"] for s in platform.scores} == {agent.sub}
    assert platform.problems == []
