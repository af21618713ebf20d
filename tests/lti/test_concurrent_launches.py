"""Launches that arrive at the same moment: a course's first session, a double-posted form.

When a trainer opens a new activity to a group, its agents launch into a course and an
activity the tool has never seen, all at once: every launch must succeed and the course, the
activity and each agent must be stored once. An id_token posted several times at once (a
double click on the LMS's auto-submitted form, a replay) is accepted once; every other copy
gets the same refusal as a replay sent later, and stores nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lti_tool.lti.launch import BROWSER_COOKIE
from lti_tool.models import Launch, LtiContext, LtiUser, ResourceLink, UsedNonce
from tests.lti.forge import TestPlatform, login, register, running_platform

AGENTS = 4
REPLAYS = 8


@pytest.fixture
def platform(app: Flask) -> Iterator[TestPlatform]:
    with running_platform() as test_platform:
        register(app, test_platform)
        yield test_platform


def count(app: Flask, model: Any) -> int:
    with app.extensions["socle"].database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def all_at_once(requests: list[Callable[[], Any]]) -> list[Any]:
    """Run the requests in threads released together by a barrier; their answers in order."""
    barrier = threading.Barrier(len(requests))
    answers: list[Any] = [None] * len(requests)

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = requests[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def prepared_launch(
    app: Flask, platform: TestPlatform, **claims: Any
) -> tuple[FlaskClient, dict[str, str]]:
    """A browser that went through the OIDC login, and the form it will post to the tool."""
    client = app.test_client()
    state, nonce = login(client, platform)
    return client, {"id_token": platform.sign(platform.claims(nonce, **claims)), "state": state}


def test_simultaneous_first_launches_into_a_new_course_all_succeed(
    app: Flask, platform: TestPlatform
) -> None:
    course = {"id": "course-new", "label": "NUM-2027", "title": "Numérique 2027"}
    link = {"id": "activity-new", "title": "Positionnement"}
    subs = [f"agent-{i}" for i in range(AGENTS)] + ["agent-0"]  # agent 0 in two tabs
    prepared = [
        prepared_launch(app, platform, sub=sub, lti_context=course, lti_resource_link=link)
        for sub in subs
    ]
    responses = all_at_once(
        [lambda c=client, f=form: c.post("/lti/launch", data=f) for client, form in prepared]
    )
    statuses = [r.status_code for r in responses]
    assert statuses == [303] * len(subs), [r.get_data(as_text=True)[:300] for r in responses]
    assert count(app, LtiContext) == 1
    assert count(app, ResourceLink) == 1
    assert count(app, LtiUser) == AGENTS
    assert count(app, Launch) == len(subs)
    with app.extensions["socle"].database.session() as session:
        stored_link = session.scalars(select(ResourceLink)).one()
        stored_course = session.scalars(select(LtiContext)).one()
        assert stored_link.context_pk == stored_course.id
        assert stored_link.parcours_id == "socle-commun"
        assert (stored_course.title, stored_course.label) == ("Numérique 2027", "NUM-2027")
    # Every agent reaches the activity with the token of their launch.
    for client, response in zip((c for c, _f in prepared), responses, strict=True):
        assert client.get(response.headers["Location"]).status_code == 200


def test_an_id_token_posted_many_times_at_once_is_accepted_once(
    app: Flask, platform: TestPlatform
) -> None:
    client, form = prepared_launch(app, platform)
    browsers = [client] + [app.test_client() for _ in range(REPLAYS - 1)]
    cookie = client.get_cookie(BROWSER_COOKIE, domain="localhost", path="/lti/")
    assert cookie is not None
    for browser in browsers[1:]:  # each copy carries the login cookie, as the first did
        browser.set_cookie(BROWSER_COOKIE, cookie.value, domain="localhost", path="/lti/")
    responses = all_at_once([lambda b=b: b.post("/lti/launch", data=form) for b in browsers])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [303] + [403] * (REPLAYS - 1), [
        r.get_data(as_text=True)[:300] for r in responses
    ]
    for response in responses:
        if response.status_code == 403:
            assert 'data-rejection="replayed"' in response.get_data(as_text=True)
    assert count(app, Launch) == 1
    assert count(app, UsedNonce) == 1
    assert count(app, LtiUser) == 1
    # A replay sent later is refused in the same words.
    later = client.post("/lti/launch", data=form)
    assert later.status_code == 403
    assert 'data-rejection="replayed"' in later.get_data(as_text=True)
