"""Session statements through the real player: a gap in the recorded moments is a suspension."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from lti_tool.models import Attempt
from lti_tool.player.events import XapiEvents
from lti_tool.player.service import utcnow
from tests.player.agent import Agent


def _age(agent: Agent, delta: timedelta) -> None:
    """Move every recorded moment of the attempt ``delta`` into the past (the agent left)."""
    attempt_id = agent.attempt().id
    with agent.app.extensions["socle"].database.session() as session, session.begin():
        attempt = session.get_one(Attempt, attempt_id)
        for name in ("started_at", "current_served_at", "timer_started_at"):
            value = getattr(attempt, name)
            if value is not None:
                setattr(attempt, name, value - delta)
        for record in attempt.answers:
            record.served_at -= delta
            record.answered_at -= delta


def test_a_request_after_an_idle_gap_writes_suspended_then_resumed(
    make_agent: Callable[..., Agent],
) -> None:
    agent = make_agent()
    agent.launch()
    page = agent.start()
    page = agent.answer(page, "right")
    page = agent.play()
    _age(agent, timedelta(hours=1))
    page = agent.answer(page, "right")
    verbs = agent.verbs()
    assert verbs[-3:] == ["suspended", "resumed", "answered"], verbs
    suspended, resumed = agent.statements()[-3:-1]
    assert suspended["timestamp"] < resumed["timestamp"]
    agent.play()  # the gap is already reported: nothing new
    assert agent.verbs().count("suspended") == 1


def test_the_sweep_reports_idle_attempts_once(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent()
    agent.launch()
    page = agent.start()
    agent.answer(page, "right")
    agent.play()
    socle = agent.app.extensions["socle"]
    events = socle.player.events
    assert isinstance(events, XapiEvents)
    with socle.database.session() as session, session.begin():
        assert events.sweep(session, utcnow()) == 0  # active: nothing
    later = utcnow() + timedelta(seconds=events.options.idle_seconds + 60)
    with socle.database.session() as session, session.begin():
        assert events.sweep(session, later) == 1
    with socle.database.session() as session, session.begin():
        assert events.sweep(session, later + timedelta(minutes=5)) == 0  # already reported
    much_later = utcnow() + timedelta(seconds=events.options.abandon_seconds + 60)
    with socle.database.session() as session, session.begin():
        assert events.sweep(session, much_later) == 1
    assert agent.verbs()[-2:] == ["suspended", "abandoned"]
    abandoned = agent.statements()[-1]
    assert abandoned["result"]["duration"].startswith("PT")
