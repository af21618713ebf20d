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
    # and the page read launch, attempts and answers once each (the answers as plain rows)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 3
    assert not [s for s in statements if "answer.response" in s], statements


def test_pages_send_a_bounded_number_of_statements(app: Flask, agent: Agent) -> None:
    """Launch context in one query, attempts and answers in two: never a query per
    relationship on first access (lazy loads), never the same rows read twice."""
    page = _first_challenge(agent)
    with counted_statements(app) as answer_statements:
        response = agent.submit(page, action="skip")
    assert response.status_code == 303
    with counted_statements(app) as feedback_statements:
        feedback = agent.follow(response)
    assert feedback.answer_status == "skipped"
    # feedback: launch (joined), attempts, and the one answer it shows
    assert len(feedback_statements) <= 3, feedback_statements
    shown = [s for s in feedback_statements if "FROM answer" in s]
    assert len(shown) == 1, shown
    assert "answer.seq = " in shown[0], shown
    # answer: the same three reads (the answers as plain rows: never their stored responses),
    # the answer, the attempt, its statement
    assert len(answer_statements) <= 6, answer_statements
    assert not [s for s in answer_statements if "answer.response" in s], answer_statements
