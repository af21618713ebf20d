"""The requests the fuzzer found answered with a 5xx, kept as plain examples once fixed."""

from __future__ import annotations

import pytest

from tests.fuzz.conftest import World

PLAYER_PAGES = [
    ("GET", "/play"),
    ("GET", "/play/self-assessment"),
    ("POST", "/play/self-assessment"),
    ("POST", "/play/timer"),
    ("POST", "/play/answer"),
    ("GET", "/play/feedback"),
    ("GET", "/play/checkpoint"),
    ("GET", "/play/results"),
]


@pytest.mark.parametrize(("method", "path"), PLAYER_PAGES)
def test_a_deep_linking_token_opens_no_player_page(world: World, method: str, path: str) -> None:
    """A deep-linking launch has no resource link, hence no attempt: "no such page"."""
    assert world.client is not None
    deep_linking_token = world.tokens[3]
    before = world.snapshot()
    fields = {"lt": deep_linking_token, "seq": "1", "challenge_id": "x"}
    where = "query_string" if method == "GET" else "data"
    response = world.client.open(path, method=method, **{where: fields})
    assert response.status_code == 404
    assert world.snapshot() == before
