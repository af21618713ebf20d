"""The page token ``lt``: sliding idle lifetime, bound to the launch's user, read-only once
the attempt it was issued for has finished. Time moves through the tokens' injected clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from lti_tool.models import Launch, LtiUser
from tests.player.agent import Agent


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app: Flask) -> Clock:
    tokens = app.extensions["socle"].tokens
    clock = Clock()
    tokens.clock = clock
    return clock


def test_an_idle_token_expires_and_each_page_slides_the_window(
    make_agent: Callable[..., Agent], clock: Clock
) -> None:
    agent = make_agent()
    agent.launch()
    first = agent.token
    clock.advance(minutes=20)
    page = agent.follow(agent.get("/activity"))
    assert page.status == 200
    fresh = agent.token
    assert fresh != first
    clock.advance(minutes=20)  # 40 minutes after the launch, 20 after the last page
    agent.token = first
    assert agent.get("/activity").status_code == 401  # idle for more than 30 minutes
    agent.token = fresh
    assert agent.get("/activity").status_code == 200


def test_the_launch_expiry_caps_a_busy_session(
    make_agent: Callable[..., Agent], app: Flask
) -> None:
    agent = make_agent()
    agent.launch()
    with app.extensions["socle"].database.session() as session, session.begin():
        session.execute(update(Launch).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert agent.get("/activity").status_code == 401


def test_a_token_is_refused_when_the_launch_names_another_user(
    make_agent: Callable[..., Agent], app: Flask
) -> None:
    alice = make_agent(sub="alice")
    alice.launch()
    bob = make_agent(sub="bob")
    bob.launch()
    # Alice's launch row comes to name Bob (a relinked row): her token acts as nobody.
    database = app.extensions["socle"].database
    with database.session() as session, session.begin():
        bob_pk = session.query(LtiUser.id).filter(LtiUser.sub == "bob").scalar()
        alice_launch = session.query(Launch).join(LtiUser).filter(LtiUser.sub == "alice").one()
        alice_launch_id = alice_launch.id
        alice_launch.user_pk = bob_pk
    assert alice.get("/activity").status_code == 401
    # A token naming Alice's launch but signed for Bob's binding is refused too.
    tokens = app.extensions["socle"].tokens
    with database.session() as session:
        launch = session.get(Launch, alice_launch_id)
        assert launch is not None
        other = tokens.issue_raw(launch.id, tokens.user_binding(launch.id, "x", "mallory"))
    bob.token = other
    assert bob.get("/activity").status_code == 401


def test_tokens_issued_before_the_end_can_read_results_but_not_post(
    make_agent: Callable[..., Agent],
) -> None:
    agent = make_agent()
    agent.launch()
    agent.start()
    page = agent.play()
    old_token = agent.token  # the challenge page's token, issued before the end
    old_form = page.hidden("/play/answer")
    results, _given = agent.run("right", page=page)
    assert results.levels  # the results page
    finished = agent.attempts()

    fresh = agent.token
    agent.token = old_token
    assert agent.get("/play/results").status_code == 200  # reading stays possible
    for path, data in [
        ("/play/start", {"new": "1"}),
        ("/play/start", {}),
        ("/play/answer", {k: v for k, v in old_form.items() if k != "lt"}),
        ("/play/self-assessment", {"action": "skip"}),
        ("/play/timer", {"challenge_id": "x"}),
    ]:
        response = agent.post(path, data)
        assert response.status_code == 409, (path, response.status_code)
        assert "terminé depuis l&#39;ouverture de cette page" in response.get_data(as_text=True)
    assert agent.attempts() == finished or len(agent.attempts()) == len(finished)

    # Opening pages with the old token hands out fresh tokens of the same, read-only chain:
    # a token copied before the end cannot be refreshed into one that acts.
    for path in ("/play/results", "/play", "/activity"):
        agent.token = old_token
        agent.follow(agent.get(path))  # adopts the page's fresh token, as a browser would
        assert agent.token != old_token
        response = agent.post("/play/start", {"new": "1"})
        assert response.status_code == 409, path
    assert len(agent.attempts()) == len(finished)

    agent.token = fresh  # the results page's token may start the next attempt
    page = agent.start(new="1")
    assert page.challenge_id
    assert [a.number for a in agent.attempts()] == [1, 2]


def test_a_copied_token_cannot_become_writable_by_being_first_to_open_a_page(
    make_agent: Callable[..., Agent],
) -> None:
    """The answer that ends the attempt finishes it, and only its author gets a new token
    chain: whoever holds a copy of an earlier token and opens the next page first (the
    request that used to finish the attempt) gets a read-only token."""
    agent = make_agent()
    agent.launch()
    page = agent.start()
    copied = agent.token
    while True:
        assert page.challenge_id, page.html
        feedback = agent.answer(page, "right")
        if agent.attempt().status == "completed":  # finished by the answer's POST itself
            break
        page = agent.play()
    victim = agent.token  # the feedback page of the last answer

    agent.token = copied
    results = agent.follow(agent.get("/play"))  # the copy opens the next page first
    assert results.levels
    assert agent.token != copied
    refused = agent.post("/play/start", {"new": "1"})
    assert refused.status_code == 409
    assert len(agent.attempts()) == 1

    agent.token = victim
    assert feedback.answer_status
    agent.play()
    assert agent.start(new="1").challenge_id
    assert [a.number for a in agent.attempts()] == [1, 2]


def test_a_token_signed_by_us_in_another_format_is_refused_as_invalid(
    app: Flask, make_agent: Callable[..., Agent]
) -> None:
    """A token whose signature is ours but whose payload is not a page token (an earlier
    format, another serializer) is refused like a forged one, never a 500."""
    from itsdangerous import URLSafeTimedSerializer

    from lti_tool.lti.tokens import _SALT

    agent = make_agent()
    agent.launch()
    secret = app.extensions["socle"].settings.secret_key
    agent.token = URLSafeTimedSerializer(secret, salt=_SALT).dumps({"l": "launch"})
    response = agent.get("/play")
    assert response.status_code == 401
