"""An attempt is finished once, however many requests see its last answer at the same moment.

The request that records the last answer finishes the attempt: it scores it, writes the end
statements (``completed``, ``passed``/``failed``, one ``scored`` per competence) and queues
the grade. When that did not happen (an attempt whose last answer was recorded by an earlier
version, or content that changed), the next ``GET /play`` finishes it. An agent who reloads,
or whose browser opens the page in several tabs, sends several such requests at once; each
must land on the results, and the outbox must hold exactly one set of end statements.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from flask import Flask
from sqlalchemy import delete, select

from tests.player.agent import Agent
from xapi.outbox import outbox_table

SIMULTANEOUS = 6


END_VERBS_EXCLUDED = ("/answered", "/progressed")


def _answer_rows(app: Flask, after: int) -> list[int]:
    """Outbox ids after ``after`` that are answers (or checkpoints), not end statements."""
    with app.extensions["socle"].database.session() as session:
        rows = session.execute(
            select(outbox_table.c.id, outbox_table.c.payload).where(outbox_table.c.id > after)
        ).all()
    return [
        row.id for row in rows if json.loads(row.payload)["verb"]["id"].endswith(END_VERBS_EXCLUDED)
    ]


def _outbox_ids(app: Flask) -> list[int]:
    with app.extensions["socle"].database.session() as session:
        return list(session.scalars(select(outbox_table.c.id).order_by(outbox_table.c.id)))


def _play_to_the_end(agent: Agent) -> int:
    """Answer every challenge; returns the last outbox id before the end statements."""
    page = agent.play()
    last_before_finish = 0
    while page.challenge_id or page.is_timer_warning:
        if page.is_timer_warning:
            page = agent.start_timer(page)
            continue
        before = max(_outbox_ids(agent.app), default=0)
        agent.answer(page, "right")
        last_before_finish = max(_answer_rows(agent.app, before), default=before)
        page = agent.play()
    assert page.levels, page.html
    return last_before_finish


def test_simultaneous_requests_after_the_last_answer_finish_the_attempt_once(
    app: Flask, make_agent: Any
) -> None:
    agent: Agent = make_agent(gradebook=True)
    agent.launch()
    agent.start()
    last_before_finish = _play_to_the_end(agent)
    end_rows = [i for i in _outbox_ids(app) if i > last_before_finish]
    verbs_of_one_end = agent.verbs()[-len(end_rows) :]
    assert "completed" in verbs_of_one_end

    # Back to the moment after the last answer: the attempt unfinished, no end statement.
    database = app.extensions["socle"].database
    with database.session() as session, session.begin():
        session.execute(delete(outbox_table).where(outbox_table.c.id > last_before_finish))
    agent.change_attempt(
        status="started",
        finished_at=None,
        mastery=None,
        result=None,
        grade_status="none",
        grade_next_try_at=None,
        current_challenge_id=None,
    )

    barrier = threading.Barrier(SIMULTANEOUS)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def reload() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.get("/play", query_string={"lt": agent.token})
        with lock:
            results.append((response.status_code, response.headers.get("Location", "")))

    threads = [threading.Thread(target=reload) for _ in range(SIMULTANEOUS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(results) == SIMULTANEOUS
    assert {status for status, _location in results} == {303}, results
    assert all("/play/results" in location for _status, location in results), results
    # Exactly one set of end statements, whatever the number of finishing requests.
    new_rows = [i for i in _outbox_ids(app) if i > last_before_finish]
    assert len(new_rows) == len(end_rows)
    assert agent.verbs()[-len(end_rows) :] == verbs_of_one_end
    attempt = agent.attempt()
    assert attempt.status == "completed"
    assert attempt.grade_status == "pending"
    assert agent.page("/play/results").levels
