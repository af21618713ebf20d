"""The player counts how many agents met each challenge, for the engine's exposure control."""

from __future__ import annotations

import random
from pathlib import Path

from lti_tool.content import load_content
from lti_tool.db import Database
from lti_tool.domain.simulation import WORLD_PRESETS, draw_learner, draw_world
from lti_tool.domain.target import parcours_view
from lti_tool.player.exposure import ExposureCounter
from lti_tool.player.service import Player
from lti_tool.simulated_agents import SilentEvents, new_launch, open_classroom, take_attempt

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_shares_are_counted_per_agent_cached_and_withheld_until_enough_agents(
    clean_database: str,
) -> None:
    content = load_content(CONTENT_DIR)
    view = parcours_view(content, "socle-commun")
    config = WORLD_PRESETS["standard"]
    world = draw_world(view, random.Random("world"), config)
    population = random.Random("agents")
    clock = Clock()
    counter = ExposureCounter(ttl=60.0, min_agents=2, clock=clock)
    database = Database(clean_database)
    player = Player(content, SilentEvents())
    with database.session() as session:
        classroom = open_classroom(session, "socle-commun", "https://lms.example.org")
        first = take_attempt(
            session,
            player,
            new_launch(session, classroom),
            draw_learner(view, population, config),
            world=world,
            rng=random.Random(1),
        )
        assert counter.shares(session, "socle-commun") is None  # one agent: says nothing
        second = take_attempt(
            session,
            player,
            new_launch(session, classroom),
            draw_learner(view, population, config),
            world=world,
            rng=random.Random(2),
        )
        assert counter.shares(session, "socle-commun") is None  # cached for ttl seconds
        clock.now += 61.0
        shares = counter.shares(session, "socle-commun")
        assert shares is not None
        met_first = {record.challenge_id for record in first.answers}
        met_second = {record.challenge_id for record in second.answers}
        assert set(shares) == met_first | met_second
        for challenge_id, share in shares.items():
            expected = ((challenge_id in met_first) + (challenge_id in met_second)) / 2
            assert share == expected
    database.dispose()
