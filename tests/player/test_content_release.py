"""A new content release while agents are in the middle of a parcours.

Releases retire challenges (``status: archived``) and add others under new ids
(``docs/item-writing.md``, rule 12). An agent who answered a challenge that is now archived,
or who has one on screen, carries on with the new release: the challenge on screen is
replaced by one the engine chooses among the served ones, the answers already given keep
their feedback page (the archived challenge is still in the content), and the parcours ends
with results.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from lti_tool.config import PROJECT_DIR
from tests.player.agent import Agent
from tests.player.platform import GradebookPlatform


def _archive(content_dir: Path, challenge_ids: set[str]) -> None:
    """Retire ``challenge_ids`` in a copy of the content, as a release does."""
    for path in (content_dir / "tubes").rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        changed = text
        for challenge_id in challenge_ids:
            changed = re.sub(
                rf"^(\s*)- id: {re.escape(challenge_id)}\n",
                lambda m, cid=challenge_id: (
                    f"{m.group(1)}- id: {cid}\n{m.group(1)}  status: archived\n"
                ),
                changed,
                flags=re.M,
            )
        if changed != text:
            path.write_text(changed, encoding="utf-8")


def test_an_attempt_goes_on_across_a_release_that_archives_its_challenges(
    app: Flask,
    platform: GradebookPlatform,
    make_settings: Callable[..., Any],
    make_app: Callable[..., Flask],
    tmp_path: Path,
) -> None:
    agent = Agent(app, platform)
    agent.launch()
    page = agent.start()
    feedback = agent.answer(page, "wrong")
    assert feedback.answer_status is not None
    answered = agent.records()[0].challenge_id
    on_screen = agent.play()
    current = on_screen.challenge_id
    assert current is not None
    assert current != answered

    released_dir = tmp_path / "released-content"
    shutil.copytree(PROJECT_DIR / "content", released_dir)
    _archive(released_dir, {answered, current})
    released = make_app(make_settings(content_dir=released_dir))
    served = released.extensions["socle"].catalogue.content.challenges
    assert not served[answered].is_served
    assert not served[current].is_served

    # The same agent, same page token, now served by a node running the new release.
    agent.app = released
    agent.client = released.test_client()
    page = agent.play()
    assert page.status == 200, page.html
    assert page.challenge_id is not None
    assert page.challenge_id not in {answered, current}
    assert served[page.challenge_id].is_served
    assert page.seq == 2

    # The feedback of the answer given to the now archived challenge still shows it.
    old_feedback = agent.page("/play/feedback", seq=1)
    assert old_feedback.status == 200, old_feedback.html
    instruction = " ".join(re.sub(r"[*`_]", "", served[answered].instruction.get("fr")).split())
    assert instruction[:40] in old_feedback.text()

    last, given = agent.run("right", page=page)
    assert given, "the parcours went on"
    assert all(served[challenge_id].is_served for challenge_id, _status in given)
    assert agent.attempt().status == "completed"
    results = agent.play() if last.status != 200 else last
    assert results.status == 200, results.html
    assert agent.attempt().result is not None
