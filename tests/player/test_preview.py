"""Teacher preview and anonymous launches: the parcours can be taken in full, but the attempt
is a preview bound to its launch — no xAPI statement in the outbox, no score for the
gradebook, even when the launch offers one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.player.agent import Agent
from tests.player.platform import GradebookPlatform
from xapi.outbox import outbox_table

WHO: dict[str, dict[str, Any]] = {
    "teacher": {"teacher": True},
    "anonymous agent (no sub)": {"sub": None},
}


def outbox_rows(app: Flask) -> int:
    with app.extensions["socle"].database.session() as session:
        return session.scalar(select(func.count()).select_from(outbox_table)) or 0


@pytest.mark.parametrize("who", list(WHO))
def test_previews_leave_no_statement_and_no_grade(
    who: str, app: Flask, make_agent: Callable[..., Agent], platform: GradebookPlatform
) -> None:
    agent = make_agent(gradebook=True, **WHO[who])
    home = agent.launch()
    if who == "teacher":
        assert "Espace formateur" in home.text()
        assert home.hidden("/play/start")["new"] == "1"
        page = agent.start(new="1")
    else:
        assert "vos résultats ne seront pas enregistrés" in home.text()
        page = agent.start()
    results, given = agent.run(lambda i, _c: ("right", "wrong", "skip")[i % 3], page=page)
    assert given
    assert results.levels
    assert "Mode aperçu" in results.text()
    attempt = agent.attempt()
    assert attempt.preview is True
    assert attempt.status == "completed"
    if who == "teacher":
        assert attempt.user_pk is not None
    else:
        assert attempt.user_pk is None
    assert attempt.grade_status == "none"
    assert outbox_rows(app) == 0
    assert app.extensions["socle"].grades.run_once()["sent"] == 0
    assert platform.token_requests == platform.score_requests == 0


def test_a_teacher_preview_never_mixes_with_the_agents_attempt(
    app: Flask, make_agent: Callable[..., Agent]
) -> None:
    """The same LMS person as teacher then as learner: the preview is not resumed as their
    real attempt, and the real attempt is recorded normally."""
    teacher = make_agent(teacher=True, sub="same-person")
    teacher.launch()
    teacher.run("right", stop_after=2, page=teacher.start(new="1"))
    learner = make_agent(sub="same-person")
    home = learner.launch()
    assert "Commencer le parcours" in home.text()
    page = learner.start()
    assert page.seq == 1
    learner.answer(page, "right")
    attempts = learner.attempts()
    assert [a.preview for a in attempts] == [True, False]
    assert learner.verbs() == ["attempted", "answered"]


def test_each_anonymous_launch_starts_afresh(make_agent: Callable[..., Agent]) -> None:
    """Nothing identifies an anonymous person: another launch cannot resume their preview."""
    agent = make_agent(sub=None)
    agent.launch()
    agent.run("right", stop_after=2, page=agent.start())
    agent.launch()
    page = agent.start()
    assert page.seq == 1
    assert len(agent.attempts()) == 2
