"""The xAPI outbox is written in the transaction of the state change it reports: after every
answer there is exactly one more ``answered`` statement, a ``progressed`` every five answers,
``completed`` + ``passed``/``failed`` + one ``scored`` per competence at the end — and when
the answer's transaction fails, neither the answer nor any of its statements is left."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from ralph.models.xapi.base.statements import BaseXapiStatement

from lti_tool.domain.target import parcours_view
from tests.player.agent import Agent, Page
from tests.player_helpers import right_answer

ANSWER_STATUS = "/xapi/extensions/answer-status"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"


def mixed(index: int, _challenge: object) -> str:
    return ("right", "wrong", "skip", "right", "wrong")[index % 5]


def verb(statement: dict[str, Any]) -> str:
    return str(statement["verb"]["id"].rsplit("/", 1)[1])


def answer_status(statement: dict[str, Any]) -> str:
    extensions = statement["result"]["extensions"]
    (status,) = [v for k, v in extensions.items() if k.endswith(ANSWER_STATUS)]
    return str(status)


def test_each_state_change_writes_its_statements_at_once(
    make_agent: Callable[..., Agent],
) -> None:
    agent = make_agent(parcours="socle-commun")
    agent.launch()
    page = agent.start()
    assert agent.verbs() == ["attempted"]
    count = 0
    while page.challenge_id or page.is_timer_warning:
        if page.is_timer_warning:
            page = agent.start_timer(page)
            continue
        challenge = agent.content.challenges[page.challenge_id or ""]
        feedback = agent.answer(page, mixed(count, challenge))
        count += 1
        # Right after the answer's request, its statements are there — not later.
        verbs = agent.verbs()
        assert verbs.count("answered") == count
        assert verbs.count("progressed") == count // 5
        if agent.attempt().status == "completed":
            # The last answer's request also ended the attempt: its end statements follow.
            assert "completed" in verbs
            ended = verbs.index("completed")
            assert verbs[ended - 1] in ("answered", "progressed")
            page = agent.play()
            break
        assert "completed" not in verbs
        last = agent.statements()[-1]
        if count % 5 == 0:
            assert verb(last) == "progressed"
            assert 0 <= last["result"]["extensions"][PROGRESS] <= 100
        else:
            assert verb(last) == "answered"
            assert last["object"]["id"].endswith(f"/challenge/{challenge.id}")
            assert answer_status(last) == feedback.answer_status
        page = agent.play()
    assert page.levels
    statements = agent.statements()
    verbs = [verb(s) for s in statements]
    records = agent.records()
    assert len(records) == count
    assert verbs.count("answered") == count
    assert verbs.count("progressed") == count // 5
    view = parcours_view(agent.content, agent.parcours)
    tail = verbs[-(3 + len(view.competences)) :]
    assert tail[:2] in (["completed", "passed"], ["completed", "failed"])
    assert tail[2:] == ["scored"] * len(view.competences) + ["terminated"]
    stamps = [s["timestamp"] for s in statements]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)  # strictly increasing: no tie for an LRS to order
    completed = next(s for s in statements if verb(s) == "completed")
    elements = next(
        value
        for key, value in completed["result"]["extensions"].items()
        if key.endswith("/knowledge-elements")
    )
    assert {e["status"] for e in elements} <= {"validated", "failed"}
    assert {e["source"] for e in elements} >= {"direct"}
    assert completed["context"]["revision"].startswith("sha256:")
    assert completed["context"]["platform"].startswith("Socle ")
    answered = [s for s in statements if verb(s) == "answered"]
    assert [(s["object"]["id"].rsplit("/", 1)[1], answer_status(s)) for s in answered] == [
        (r.challenge_id, r.status) for r in records
    ]
    attempt_id = agent.attempt().id
    assert {s["context"]["registration"] for s in statements} == {attempt_id}
    assert len({s["id"] for s in statements}) == len(statements)
    for statement in statements:
        BaseXapiStatement.model_validate(statement)


def _break(monkeypatch: pytest.MonkeyPatch, app: Flask, method: str) -> None:
    """Make an event fail after its statement was written to the outbox."""
    events = app.extensions["socle"].player.events
    real = getattr(events, method)

    def failing(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)  # the INSERT into the outbox has happened...
        raise RuntimeError(f"{method} failed")  # ...and the transaction goes wrong after it

    monkeypatch.setattr(events, method, failing)


def _answer(agent: Agent, page: Page) -> Any:
    challenge = agent.content.challenges[page.challenge_id or ""]
    return agent.submit(page, right_answer(challenge))


def test_a_failing_answer_transaction_leaves_neither_answer_nor_statement(
    app: Flask, agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent.launch()
    page = agent.start()
    before = agent.statements()
    with monkeypatch.context() as patch:
        _break(patch, app, "answered")
        response = _answer(agent, page)
        assert response.status_code == 500
    assert agent.records() == []
    assert agent.statements() == before
    assert agent.attempt().answer_count == 0
    # Once the fault is gone the same form records the answer, once, with its statement.
    assert agent.play().challenge_id == page.challenge_id
    assert _answer(agent, page).status_code == 303
    assert len(agent.records()) == 1
    assert agent.verbs().count("answered") == 1


def test_a_challenge_vanishing_from_the_content_mid_answer_rolls_everything_back(
    app: Flask, agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The content loses the challenge's tube while the answer is being recorded: building the
    statement fails after the answer row was flushed; both must disappear."""
    agent.launch()
    page = agent.start()
    content = agent.content
    tube_id = content.skills[content.challenges[page.challenge_id or ""].skill_id].tube_id
    with monkeypatch.context() as patch:
        patch.delitem(content.tubes, tube_id)
        assert _answer(agent, page).status_code == 500
    assert agent.records() == []
    assert agent.verbs() == ["attempted"]
    assert _answer(agent, page).status_code == 303
    assert agent.verbs() == ["attempted", "answered"]


def test_a_failing_checkpoint_takes_its_answer_with_it(
    app: Flask, agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fifth answer writes ``answered`` then ``progressed``; if the second fails, the
    first statement and the answer go too."""
    agent.launch()
    agent.run(mixed, stop_after=4, page=agent.start())
    page = agent.play()
    assert page.seq == 5
    with monkeypatch.context() as patch:
        _break(patch, app, "progressed")
        assert _answer(agent, page).status_code == 500
    assert len(agent.records()) == 4
    assert agent.verbs().count("answered") == 4
    assert "progressed" not in agent.verbs()
    assert _answer(agent, page).status_code == 303
    assert agent.verbs()[-2:] == ["answered", "progressed"]


def test_a_failing_end_leaves_the_attempt_open_and_ends_it_once_later(
    app: Flask, agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent.launch()
    page = agent.start()
    with monkeypatch.context() as patch:
        _break(patch, app, "completed")
        page, given = agent.run(mixed, page=page)
        assert page.status == 500
    assert agent.attempt().status == "started"
    assert "completed" not in agent.verbs()
    results = agent.play()
    assert results.levels
    verbs = agent.verbs()
    assert verbs.count("completed") == 1
    assert verbs.count("answered") == len(given)
    assert agent.attempt().status == "completed"
