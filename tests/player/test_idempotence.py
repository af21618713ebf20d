"""Answers are idempotent: a double click, the back button, a form of another challenge or a
garbage ``seq`` never records an answer twice, never skips a challenge, never answers 500.

The invariant checked after every scenario: the stored answers are numbered 1..n without a
gap or a repeat, the attempt's ``answer_count`` is n, and the challenge on screen is the one
the engine chose after the n-th answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.player.agent import Agent, Page, challenges_where
from tests.player_helpers import right_answer, wrong_answer


def assert_consistent(agent: Agent, answered: int) -> None:
    records = agent.records()
    assert [r.seq for r in records] == list(range(1, answered + 1))
    assert agent.attempt().answer_count == answered


@pytest.fixture
def first(agent: Agent) -> Page:
    agent.launch()
    page = agent.start()
    assert page.challenge_id
    assert page.seq == 1
    return page


def test_double_click_records_one_answer_and_shows_the_same_feedback(
    agent: Agent, first: Page
) -> None:
    challenge = agent.content.challenges[first.challenge_id or ""]
    one = agent.submit(first, right_answer(challenge))
    # The second click arrives with another value (the agent changed their mind too late).
    two = agent.submit(first, wrong_answer(challenge))
    assert one.status_code == two.status_code == 303
    # The same page (each redirect carries a fresh page token of its own).
    assert _without_token(one.headers["Location"]) == _without_token(two.headers["Location"])
    assert agent.follow(two).answer_status == "ok"
    assert_consistent(agent, 1)
    following = agent.play()
    assert following.seq == 2
    assert following.challenge_id != first.challenge_id


def test_back_button_resubmission_after_the_next_challenge_was_served(
    agent: Agent, first: Page
) -> None:
    agent.answer(first, "wrong")
    second = agent.play()
    assert second.seq == 2
    again = agent.submit(first, right_answer(agent.content.challenges[first.challenge_id or ""]))
    assert again.status_code == 303
    feedback = agent.follow(again)
    assert feedback.answer_status == "ko"  # the answer already given, not the new one
    assert_consistent(agent, 1)
    assert agent.play().challenge_id == second.challenge_id  # nothing skipped
    # Going back two pages after answering the second challenge: still nothing changes.
    agent.answer(second, "right")
    third = agent.play()
    for old in (first, second):
        assert agent.submit(old, {"answer": "1"}).status_code == 303
    assert_consistent(agent, 2)
    assert agent.play().challenge_id == third.challenge_id


def _other_challenge(agent: Agent, current: str) -> str:
    found = challenges_where(agent.content, agent.parcours, lambda c: c.id != current)
    return found[0].id


def _foreign_challenge(agent: Agent) -> str:
    """A challenge that exists in the content but not in this parcours."""
    ours = {c.id for c in challenges_where(agent.content, agent.parcours, lambda c: True)}
    return next(cid for cid in sorted(agent.content.challenges) if cid not in ours)


# Each case changes the hidden fields of the first challenge's form.
TAMPERED: dict[str, Callable[[Agent, Page], dict[str, str]]] = {
    "another challenge of the parcours": lambda a, p: {
        "challenge_id": _other_challenge(a, p.challenge_id or "")
    },
    "a challenge of another parcours": lambda a, p: {"challenge_id": _foreign_challenge(a)},
    "an unknown challenge id": lambda a, p: {"challenge_id": "n-existe-pas"},
    "an empty challenge id": lambda a, p: {"challenge_id": ""},
    "a huge challenge id": lambda a, p: {"challenge_id": "x" * 50_000},
    "seq not a number": lambda a, p: {"seq": "abc"},
    "seq empty": lambda a, p: {"seq": ""},
    "seq zero": lambda a, p: {"seq": "0"},
    "seq negative": lambda a, p: {"seq": "-1"},
    "seq decimal": lambda a, p: {"seq": "1.0"},
    "seq of a future answer": lambda a, p: {"seq": "2"},
    "seq far in the future": lambda a, p: {"seq": "9" * 40},
    "seq with 5000 digits": lambda a, p: {"seq": "9" * 5000},
    "seq with markup": lambda a, p: {"seq": "<b>1</b>"},
}


@pytest.mark.parametrize("case", list(TAMPERED))
def test_a_form_that_is_not_for_the_current_challenge_records_nothing(
    case: str, agent: Agent, first: Page
) -> None:
    challenge = agent.content.challenges[first.challenge_id or ""]
    response = agent.submit(first, right_answer(challenge), **TAMPERED[case](agent, first))
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    page = agent.follow(response)
    assert page.status == 200
    assert page.challenge_id == first.challenge_id
    assert page.seq == 1
    assert_consistent(agent, 0)
    assert agent.verbs().count("answered") == 0
    # The untouched form still works afterwards.
    assert agent.answer(first, "right").answer_status == "ok"
    assert_consistent(agent, 1)


def test_an_old_seq_with_the_current_challenge_is_refused(agent: Agent, first: Page) -> None:
    agent.answer(first, "right")
    second = agent.play()
    response = agent.submit(second, {"answer": "1"}, seq="1")
    assert response.status_code == 303
    assert agent.follow(response).challenge_id == second.challenge_id
    assert_consistent(agent, 1)


def test_missing_hidden_fields(agent: Agent, first: Page) -> None:
    for removed in ("seq", "challenge_id", "lt"):
        data = dict(first.hidden("/play/answer"))
        data.pop(removed)
        data["action"] = "validate"
        if removed == "lt":
            response = agent.client.post("/play/answer", data=data)
            assert response.status_code == 401
        else:
            response = agent.post("/play/answer", {k: v for k, v in data.items() if k != "lt"})
            assert response.status_code == 303
    assert_consistent(agent, 0)


def test_feedback_and_checkpoint_urls_with_garbage_never_fail(agent: Agent, first: Page) -> None:
    agent.answer(first, "right")
    for seq in ("", "abc", "0", "-3", "2", "9" * 40):
        assert agent.get("/play/feedback", seq=seq).status_code == 404
    for upto in ("", "abc", "0", "-3", "999", "9" * 40):
        page = agent.page("/play/checkpoint", upto=upto)
        assert page.status == 200
    assert_consistent(agent, 1)


def test_forms_resubmitted_after_the_end_change_nothing(agent: Agent) -> None:
    agent.launch()
    forms: list[Page] = []
    page = agent.start()
    while page.challenge_id or page.is_timer_warning:
        if page.is_timer_warning:
            page = agent.start_timer(page)
            continue
        forms.append(page)
        agent.answer(page, "skip")
        page = agent.play()
    assert page.levels, page.html  # the results page
    count = len(forms)
    for old in forms:
        response = agent.submit(old, {"answer": "1"})
        assert response.status_code == 303
        assert agent.follow(response).status == 200
    # A made-up next answer after the end.
    last = forms[-1]
    response = agent.submit(last, {"answer": "1"}, seq=str(count + 1))
    assert response.status_code == 303
    assert agent.follow(response).levels == page.levels
    assert_consistent(agent, count)
    assert agent.verbs().count("answered") == count


def test_simultaneous_double_click_records_one_answer(app: Flask, agent: Agent) -> None:
    """Two requests with the same form at the same moment (a real double click): one wins,
    the other shows the same feedback or the current challenge, never an error."""
    agent.launch()
    page = agent.start()
    challenge = agent.content.challenges[page.challenge_id or ""]
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def click() -> None:
        client = app.test_client()
        data: dict[str, Any] = {
            **page.hidden("/play/answer"),
            **right_answer(challenge),
            "action": "validate",
        }
        barrier.wait()
        response = client.post("/play/answer", data=data)
        results.append((response.status_code, response.headers.get("Location", "")))

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [status for status, _location in results] == [303, 303], results
    # Both clicks go where the one answer recorded leads: a right answer goes straight on
    # to the next challenge, confirming answer 1.
    assert {location.rsplit("&", 1)[-1] for _status, location in results} == {"ok=1"}, results
    assert_consistent(agent, 1)
    assert agent.verbs().count("answered") == 1
    assert agent.play().seq == 2


def test_twin_committed_between_reading_the_attempt_and_its_answers(
    app: Flask, agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The double click's worst interleaving, made deterministic: the twin request commits
    the answer after this request read the attempt (answer count 0) and before it read the
    answers (which hold the twin's). It shows the twin's result, never an error."""
    from lti_tool.player import service

    agent.launch()
    page = agent.start()
    challenge = agent.content.challenges[page.challenge_id or ""]
    data: dict[str, Any] = {
        **page.hidden("/play/answer"),
        **right_answer(challenge),
        "action": "validate",
    }
    real_rows = service.answer_rows
    twin: list[int] = []
    here = threading.get_ident()

    def rows_after_the_twin(attempt: Any) -> Any:
        if threading.get_ident() == here and not twin:
            twin.append(0)  # once, from this request only (the twin reads the real rows)

            def post() -> None:
                twin[0] = app.test_client().post("/play/answer", data=data).status_code

            thread = threading.Thread(target=post)
            thread.start()
            thread.join(30)
        return real_rows(attempt)

    monkeypatch.setattr(service, "answer_rows", rows_after_the_twin)
    response = app.test_client().post("/play/answer", data=data)
    monkeypatch.undo()
    assert twin == [303]
    assert response.status_code == 303
    assert response.headers["Location"].rsplit("&", 1)[-1] == "ok=1"
    assert_consistent(agent, 1)
    assert agent.verbs().count("answered") == 1


def _without_token(url: str) -> str:
    import re

    return re.sub(r"lt=[^&]*&?", "", url)
