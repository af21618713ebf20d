"""Gradebook failures never block the agent: when the platform refuses or cannot take the
score, the results page is served all the same, the score stays ``pending`` with a growing
backoff, the error is logged, and a later ``GradeSync.run_once`` sends it once the platform
works again. The platform is a real HTTP server (``tests/player/platform.py``) made to fail.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from lti_tool.models import Attempt, Platform
from lti_tool.player.grades import MAX_TRIES, GradeSync
from tests.player.agent import Agent
from tests.player.platform import GradebookPlatform

GRADES_LOGGER = "lti_tool.player.grades"


def closed_port_url() -> str:
    """An address where nothing listens (a registration with a wrong token URL)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/token"


def set_token_url(app: Flask, url: str) -> None:
    with app.extensions["socle"].database.session() as session, session.begin():
        session.execute(update(Platform).values(auth_token_url=url))


def finish(agent: Agent) -> None:
    """Take the whole parcours; the results page must be served whatever the gradebook does."""
    agent.launch()
    results, _given = agent.run(lambda i, _c: ("right", "wrong")[i % 2], page=agent.start())
    assert results.status == 200, results.html
    assert results.levels, results.html
    assert agent.attempt().grade_status == "pending"


def aware(value: datetime | None) -> datetime:
    assert value is not None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def stop_hanging(app: Flask, platform: GradebookPlatform) -> None:
    platform.token_mode = "ok"
    platform.release.set()  # let the held request end


# name -> (break the platform, repair it); the app is passed for registration changes.
Change = Callable[[Flask, GradebookPlatform], None]
FAILURES: dict[str, tuple[Change, Change, dict[str, Any]]] = {
    "token endpoint answers 500": (
        lambda a, p: setattr(p, "token_mode", "500"),
        lambda a, p: setattr(p, "token_mode", "ok"),
        {},
    ),
    "token endpoint answers a list instead of a token": (
        lambda a, p: setattr(p, "token_mode", "garbage"),
        lambda a, p: setattr(p, "token_mode", "ok"),
        {},
    ),
    "score endpoint answers 500": (
        lambda a, p: setattr(p, "score_mode", "500"),
        lambda a, p: setattr(p, "score_mode", "ok"),
        {},
    ),
    "registration with a token URL where nothing listens": (
        lambda a, p: set_token_url(a, closed_port_url()),
        lambda a, p: set_token_url(a, f"{p.issuer}/token"),
        {},
    ),
    "token endpoint slower than the HTTP timeout": (
        lambda a, p: setattr(p, "token_mode", "hang"),
        stop_hanging,
        {"http_timeout": 0.3},
    ),
}


@pytest.mark.parametrize(
    ("case", "settings_overrides"),
    [(name, overrides) for name, (_b, _r, overrides) in FAILURES.items()],
    ids=list(FAILURES),
)
def test_a_refused_score_stays_pending_with_backoff_and_is_sent_later(
    case: str,
    settings_overrides: dict[str, Any],
    app: Flask,
    agent: Agent,
    platform: GradebookPlatform,
    caplog: pytest.LogCaptureFixture,
) -> None:
    break_platform, repair_platform, _overrides = FAILURES[case]
    agent.gradebook = True
    break_platform(app, platform)
    finish(agent)
    grades = app.extensions["socle"].grades
    attempt_id = agent.attempt().id

    now = datetime.now(UTC)
    with caplog.at_level(logging.WARNING, logger=GRADES_LOGGER):
        counts = grades.run_once(now)
    assert counts == {"sent": 0, "retry": 1, "failed": 0, "not_improved": 0}
    attempt = agent.attempt()
    assert attempt.grade_status == "pending"
    assert attempt.grade_tries == 1
    assert attempt.grade_error
    next_try = aware(attempt.grade_next_try_at)
    assert now <= next_try <= now + timedelta(seconds=30)
    assert any(
        r.levelno == logging.WARNING and attempt_id in r.getMessage() for r in caplog.records
    ), caplog.text
    assert platform.scores == []
    # The agent is not concerned: their results are there.
    assert agent.page("/play/results").levels

    # Before the backoff has passed, nothing is tried.
    calls = (platform.token_requests, platform.score_requests)
    assert grades.run_once(next_try - timedelta(microseconds=1))["retry"] == 0
    assert (platform.token_requests, platform.score_requests) == calls

    repair_platform(app, platform)
    assert grades.run_once(next_try) == {"sent": 1, "retry": 0, "failed": 0, "not_improved": 0}
    attempt = agent.attempt()
    assert attempt.grade_status == "sent"
    assert attempt.grade_error is None
    (score,) = platform.scores
    assert score.body["scoreGiven"] == pytest.approx(round((attempt.mastery or 0) * 100, 2))
    assert score.body["userId"] == agent.sub
    assert score.body["gradingProgress"] == "FullyGraded"
    assert platform.problems == []


def test_backoff_grows_and_the_score_is_given_up_after_max_tries(
    app: Flask, agent: Agent, platform: GradebookPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    agent.gradebook = True
    platform.token_mode = "500"
    finish(agent)
    grades = app.extensions["socle"].grades
    now = datetime.now(UTC)
    delays: list[float] = []
    with caplog.at_level(logging.WARNING, logger=GRADES_LOGGER):
        for tries in range(1, MAX_TRIES + 1):
            outcome = grades.run_once(now)
            attempt = agent.attempt()
            assert attempt.grade_tries == tries
            if tries < MAX_TRIES:
                assert outcome["retry"] == 1
                assert attempt.grade_status == "pending"
                delay = (aware(attempt.grade_next_try_at) - now).total_seconds()
                assert 0 <= delay <= min(3600.0, 30.0 * 2 ** (tries - 1))
                delays.append(delay)
                now = aware(attempt.grade_next_try_at)
            else:
                assert outcome["failed"] == 1
                assert attempt.grade_status == "failed"
    assert platform.token_requests == MAX_TRIES
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "giving up" in errors[0].getMessage()
    # Jittered, but the bound doubles: the last waits can exceed what the first could be.
    assert max(delays[-3:]) > 30
    # A failed score is not retried any more.
    assert grades.run_once(now + timedelta(days=1)) == {
        "sent": 0,
        "retry": 0,
        "failed": 0,
        "not_improved": 0,
    }


def test_the_platform_forgetting_its_tokens_does_not_stall_the_gradebook(
    app: Flask, make_agent: Callable[..., Agent], platform: GradebookPlatform
) -> None:
    """A platform restart invalidates the access token the tool keeps in its cache: the 401
    must make the next try ask for a new token rather than reuse the dead one for an hour."""
    grades = app.extensions["socle"].grades
    first = make_agent(gradebook=True, sub="agent-a")
    finish(first)
    assert grades.run_once()["sent"] == 1
    platform._issued.clear()  # the platform restarts
    second = make_agent(gradebook=True, sub="agent-b")
    finish(second)
    assert grades.run_once()["retry"] == 1
    next_try = aware(second.attempt().grade_next_try_at)
    assert grades.run_once(next_try)["sent"] == 1
    assert [s.body["userId"] for s in platform.scores] == ["agent-a", "agent-b"]


def test_the_results_page_is_served_while_the_platform_holds_the_score(
    app: Flask, agent: Agent, platform: GradebookPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    """With the real background sender: the platform holds the token request; the agent
    gets the results meanwhile; the failure is then recorded and logged by the sender."""
    extension = app.extensions["socle"]
    sender = GradeSync(extension.database, extension.settings, interval=3600)
    extension.grades = sender
    agent.gradebook = True
    platform.token_mode = "hang"
    try:
        with caplog.at_level(logging.WARNING, logger=GRADES_LOGGER):
            finish(agent)
            assert platform.wait_hanging(120), "the background sender never called the platform"
            # The score request is still held by the platform: the agent reads their results.
            assert agent.page("/play/results").levels
            platform.release.set()
            deadline = time.monotonic() + 120
            while agent.attempt().grade_tries == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
        attempt = agent.attempt()
        assert (attempt.grade_status, attempt.grade_tries) == ("pending", 1)
        assert any(attempt.id in r.getMessage() for r in caplog.records), caplog.text
    finally:
        sender.stop()
    with extension.database.session() as session, session.begin():
        session.execute(update(Attempt).values(grade_next_try_at=datetime.now(UTC)))
    platform.token_mode = "ok"
    assert sender.run_once()["sent"] == 1
    assert len(platform.scores) == 1
