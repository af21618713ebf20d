"""An agent takes a whole parcours inside the demo LMS: start, self-assessment, challenges
(right, wrong, skipped, timed), feedback, checkpoints, results; then the score reaches the
LMS gradebook and every event sits in the xAPI outbox, exactly once."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from ralph.models.xapi.base.statements import BaseXapiStatement
from sqlalchemy import select

from lti_tool.demo_lms.lms import EXTENSION_KEY
from lti_tool.models import AnswerRecord, Attempt
from tests.e2e import add_activity, launch_as_agent, play, running_peers
from xapi.outbox import outbox_table


@pytest.fixture
def peers(make_settings: Any, tmp_path: Path) -> Iterator[tuple[str, str, Flask, Flask]]:
    with running_peers(make_settings, tmp_path) as running:
        yield running


def test_agent_completes_a_parcours_and_the_lms_gets_the_score(
    peers: tuple[str, str, Flask, Flask],
) -> None:
    _tool_url, lms_url, tool_app, lms_app = peers
    content = tool_app.extensions["socle"].catalogue.content
    add_activity(lms_url, "sensibilisation-donnees")
    agent, start = launch_as_agent(lms_url)
    assert "Commencer le parcours" in start.text
    first = agent.submit(start, job_profile="gestion-administrative")
    assert "data-challenge-id" in first.text or "/play/timer" in first.text

    def policy(index: int, challenge: Any) -> str:
        return "skip" if index == 3 else ("wrong" if index % 4 == 1 else "right")

    results = play(agent, first, content, policy=policy)
    assert (
        "Vos priorités pour progresser" in results.text
        or "Vous avez réussi toutes les questions posées" in results.text
    )
    levels = dict(re.findall(r'data-competence="([\d.]+)" data-level="(\d)"', results.text))
    assert set(levels) == {"1.2", "1.3", "4.1", "4.2"}

    with tool_app.extensions["socle"].database.session() as session:
        attempt = session.scalars(select(Attempt)).one()
        records = session.scalars(select(AnswerRecord).order_by(AnswerRecord.seq)).all()
        statuses = [r.status for r in records]
        assert statuses[3] == "skipped"
        assert "ko" in statuses
        assert "ok" in statuses
        assert [r.seq for r in records] == list(range(1, len(records) + 1))
        assert attempt.status == "completed"
        assert attempt.job_profile_id == "gestion-administrative"
        rows = session.execute(select(outbox_table.c.payload)).scalars().all()
    verbs = [json.loads(p)["verb"]["id"].rsplit("/", 1)[1] for p in rows]
    assert verbs.count("attempted") == 1
    assert verbs.count("answered") == len(records)
    assert verbs.count("progressed") == len(records) // 5
    assert verbs.count("completed") == 1
    assert verbs.count("passed") + verbs.count("failed") == 1
    assert verbs.count("scored") == 4
    ids = [json.loads(p)["id"] for p in rows]
    assert len(ids) == len(set(ids))
    for payload in rows:  # what the player really emits passes Ralph's strict model
        BaseXapiStatement.model_validate(json.loads(payload))

    # The results page woke the background sync; a round here too: one of them sends it.
    tool_app.extensions["socle"].grades.run_once()
    deadline = time.monotonic() + 120  # a bound on a loaded machine, not a speed target
    status = "pending"
    while status != "sent" and time.monotonic() < deadline:
        with tool_app.extensions["socle"].database.session() as session:
            status = session.get(Attempt, attempt.id).grade_status
        time.sleep(0.05)
    assert status == "sent"
    store = lms_app.extensions[EXTENSION_KEY].store
    received = [
        score
        for activity in store.activities()
        if activity.line_item_id
        for score in store.scores(activity.line_item_id).values()
    ]
    assert len(received) == 1
    (score,) = received
    assert score.grading_progress == "FullyGraded"
    assert score.activity_progress == "Completed"
    assert score.score_given == pytest.approx(attempt.mastery * 100, abs=0.01)
