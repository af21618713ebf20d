"""``socle calibrate`` on answers recorded by the real player: dry run, store, export, review.

Simulated agents take attempts of the real ``socle-commun`` through ``Player.start/serve/
submit`` (``lti_tool.simulated_agents``); the command reads what the player stored. The
statistical proof (thousands of attempts) is ``benchmarks/calibration.py``.
"""

from __future__ import annotations

import functools
import random
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from lti_tool.calibration_store import calibrated_content, recorded_responses
from lti_tool.cli import main
from lti_tool.content import load_content
from lti_tool.db import Database
from lti_tool.domain.adaptive import item_parameters
from lti_tool.domain.framework import Content
from lti_tool.domain.simulation import WORLD_PRESETS, draw_learner, draw_world
from lti_tool.domain.target import parcours_view
from lti_tool.models import Attempt, ChallengeCalibration
from lti_tool.player.service import Player
from lti_tool.simulated_agents import SilentEvents, new_launch, open_classroom, take_attempt

CONTENT_DIR = Path(__file__).resolve().parents[1] / "content"
ATTEMPTS = 14


@functools.cache
def _content() -> Content:
    return load_content(CONTENT_DIR)


@pytest.fixture
def recorded(clean_database: str) -> str:
    """``ATTEMPTS`` simulated agents' attempts of socle-commun, plus one teacher preview."""
    content = _content()
    view = parcours_view(content, "socle-commun")
    config = WORLD_PRESETS["standard"]
    world = draw_world(view, random.Random("world"), config)
    population = random.Random("agents")
    database = Database(clean_database)
    player = Player(content, SilentEvents())
    with database.session() as session:
        classroom = open_classroom(session, "socle-commun", "https://lms.example.org")
        for index in range(ATTEMPTS):
            launch = new_launch(session, classroom)
            take_attempt(
                session,
                player,
                launch,
                draw_learner(view, population, config),
                world=world,
                rng=random.Random(index),
            )
        session.commit()
    database.dispose()
    return clean_database


@pytest.fixture
def cli(recorded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SOCLE_DATABASE_URL", recorded)
    monkeypatch.setenv("SOCLE_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("SOCLE_SECRET_KEY", "cli-test-secret")
    monkeypatch.setenv("SOCLE_CONTENT_DIR", str(CONTENT_DIR))
    return CliRunner()


def _stored(url: str) -> dict[str, ChallengeCalibration]:
    database = Database(url)
    with database.session() as session:
        rows = {row.challenge_id: row for row in session.query(ChallengeCalibration)}
    database.dispose()
    return rows


def test_dry_run_stores_nothing_then_calibrate_stores_and_the_tool_applies_it(
    cli: CliRunner, recorded: str
) -> None:
    database = Database(recorded)
    with database.session() as session:
        responses = list(recorded_responses(session))
        attempts = session.query(Attempt).all()
    database.dispose()
    assert len(attempts) == ATTEMPTS
    assert all(attempt.status == "completed" for attempt in attempts)
    assert len(responses) == sum(attempt.answer_count for attempt in attempts)
    assert {r.attempt for r in responses} == {attempt.id for attempt in attempts}

    dry = cli.invoke(main, ["calibrate", "--min-answers", "10", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"of {ATTEMPTS} attempts (all platforms)" in dry.output
    assert "difficulty before" in dry.output
    assert "dry run: nothing stored" in dry.output
    assert _stored(recorded) == {}

    done = cli.invoke(main, ["calibrate", "--min-answers", "10"])
    assert done.exit_code == 0, done.output
    stored = _stored(recorded)
    assert stored
    assert f"{len(stored)} calibrations stored" in done.output
    for row in stored.values():
        assert row.answers >= 10
        assert row.source == "all platforms"
        assert row.difficulty_se > 0

    database = Database(recorded)
    with database.session() as session:
        calibrated = calibrated_content(_content(), session)
    database.dispose()
    assert calibrated is not _content()
    challenge_id, row = next(iter(stored.items()))
    challenge = calibrated.challenges[challenge_id]
    level = calibrated.skills[challenge.skill_id].level
    a, b, _, _ = item_parameters(challenge, level)
    assert (a, b) == (row.discrimination, row.difficulty)

    exported = cli.invoke(main, ["calibrate", "--export", "-"])
    assert exported.exit_code == 0, exported.output
    document = yaml.safe_load(exported.output)
    assert set(document["calibration"]) == set(stored)
    assert document["calibration"][challenge_id]["difficulty"] == row.difficulty


def test_platform_filter_review_and_unknown_platform(cli: CliRunner, recorded: str) -> None:
    review = cli.invoke(
        main,
        ["calibrate", "--platform", "https://lms.example.org", "--min-answers", "10", "--review"],
    )
    assert review.exit_code == 0, review.output
    assert "(platform https://lms.example.org)" in review.output
    assert "challenge" in review.output or "nothing to review" in review.output
    assert _stored(recorded) == {}

    unknown = cli.invoke(main, ["calibrate", "--platform", "https://elsewhere.example.org"])
    assert unknown.exit_code == 1
    assert "no platform registered with issuer https://elsewhere.example.org" in unknown.output
