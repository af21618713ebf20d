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


# Found in code other work is rewriting (the OIDC login, the launch, the attachments route):
# kept here with the exact input, expected to pass once that work lands.


def _assert_survived(world: World, status: int, before: object) -> None:
    assert status < 500
    if status >= 400:
        assert world.snapshot() == before


def _login_params(world: World, **changes: str) -> dict[str, str]:
    params = {
        "iss": world.platform.issuer,
        "login_hint": "user-hint",
        "target_link_uri": "http://localhost/lti/launch",
        "client_id": world.platform.client_id,
        "lti_deployment_id": world.platform.deployment_id,
    }
    params.update(changes)
    return params


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_login_with_a_nul_in_the_issuer(world: World, method: str) -> None:
    assert world.client is not None
    params = _login_params(world, iss=world.platform.issuer + "\x00")
    where = "query_string" if method == "GET" else "data"
    before = world.snapshot()
    response = world.client.open("/lti/login", method=method, **{where: params})
    _assert_survived(world, response.status_code, before)


def test_login_with_an_overlong_target_link_uri(world: World) -> None:
    assert world.client is not None
    params = _login_params(world, target_link_uri="http://localhost/lti/launch/" + "a" * 1100)
    before = world.snapshot()
    response = world.client.get("/lti/login", query_string=params)
    _assert_survived(world, response.status_code, before)


def test_launch_with_a_nul_in_the_state(world: World) -> None:
    assert world.client is not None
    before = world.snapshot()
    response = world.client.post(
        "/lti/launch", data={"id_token": world.id_tokens[0], "state": world.state + "\x00"}
    )
    _assert_survived(world, response.status_code, before)


@pytest.mark.parametrize("name", ["%00", "a%00.csv", "a" * 300])
def test_attachment_names_the_file_system_refuses(world: World, name: str) -> None:
    assert world.client is not None
    response = world.client.get(f"/attachments/{name}")
    response.close()
    assert response.status_code < 500
