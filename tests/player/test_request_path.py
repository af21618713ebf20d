"""The request path's work: what one answer costs the database and the engine.

Counts, not times: the number of SQL statements a page sends is the same on every machine,
and it is what grows a worker's CPU (each statement is a round trip plus ORM loading). The
speed itself is measured by ``benchmarks/load.py`` and ``benchmarks/answer_profile.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event

from tests.player.agent import Agent, Page


@contextmanager
def counted_statements(app: Flask) -> Iterator[list[str]]:
    engine = app.extensions["socle"].database.engine
    statements: list[str] = []

    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _record)


def _first_challenge(agent: Agent) -> Page:
    agent.launch()
    page = agent.start()
    while page.is_timer_warning:  # answer timed ones like the others, once started
        page = agent.start_timer(page)
    assert page.challenge_id
    return page


def test_the_next_challenge_is_chosen_with_the_answer_and_shown_as_chosen(
    app: Flask, agent: Agent
) -> None:
    page = _first_challenge(agent)
    # A wrong answer stops on its feedback page: the next challenge is chosen, not shown yet
    # (a right one goes straight on to it).
    feedback = agent.answer(page, "wrong")
    assert feedback.answer_status == "ko"
    attempt = agent.attempt()
    chosen = attempt.current_challenge_id
    assert chosen is not None
    assert chosen != page.challenge_id
    assert attempt.current_served_at is None  # not shown yet: time on task starts at the page

    with counted_statements(app) as statements:
        shown = agent.play()
    shown_id = shown.challenge_id or shown.hidden("/play/timer").get("challenge_id")
    assert shown_id == chosen
    assert agent.attempt().current_served_at is not None
    # the engine was not asked again: no query of earlier attempts' challenges either way,
    # and the page read the launch with its attempts in one query, then the answers (as plain
    # rows)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 2
    assert not [s for s in statements if "answer.response" in s], statements


def test_pages_send_a_bounded_number_of_statements(app: Flask, agent: Agent) -> None:
    """Launch context and attempts in one query, answers in another: never a query per
    relationship on first access (lazy loads), never the same rows read twice."""
    page = _first_challenge(agent)
    with counted_statements(app) as answer_statements:
        response = agent.submit(page, action="skip")
    assert response.status_code == 303
    with counted_statements(app) as feedback_statements:
        feedback = agent.follow(response)
    assert feedback.answer_status == "skipped"
    # feedback: launch (joined) with its attempts, and the one answer it shows
    assert len(feedback_statements) <= 2, feedback_statements
    first = feedback_statements[0]
    assert "FROM launch" in first, first
    assert "JOIN attempt" in first, first
    shown = [s for s in feedback_statements if "FROM answer" in s]
    assert len(shown) == 1, shown
    assert "answer.seq = " in shown[0], shown
    # answer: the same two reads and the answers as plain rows (never their stored
    # responses), the answer, the attempt, its statement
    assert len(answer_statements) <= 5, answer_statements
    assert not [s for s in answer_statements if "answer.response" in s], answer_statements


def test_the_launch_query_finds_the_attempts_attempts_of_finds(
    app: Flask, make_agent: Any
) -> None:
    """``Player.load_launch`` reads the launch and its attempts in one statement; the attempts
    are the ones ``Player.attempts_of`` finds with its own queries, for a learner (not the
    other learner's, not the previews), a teacher's preview and an anonymous launch."""
    from lti_tool.models import Launch

    socle = app.extensions["socle"]
    agents = [
        make_agent(sub="learner-1"),
        make_agent(sub="learner-2"),
        make_agent(sub="teacher-1", teacher=True),
        make_agent(sub=None),
    ]
    for agent in agents:
        agent.launch()
        agent.start()
    assert len(agents[0].attempts()) == 4  # one each, all on the same resource link
    for agent in agents:
        launch_id = socle.tokens.read(agent.token).launch_id
        with socle.database.session() as session:
            launch = socle.player.load_launch(session, launch_id)
            assert launch is not None
            with counted_statements(app) as statements:
                joined = [a.id for a in socle.player.attempts_of(session, launch)]
            assert statements == []  # kept by the launch query
        with socle.database.session() as session:
            launch = session.get(Launch, launch_id)
            assert launch is not None
            alone = [a.id for a in socle.player.attempts_of(session, launch)]
        assert joined == alone
        assert len(alone) == 1
