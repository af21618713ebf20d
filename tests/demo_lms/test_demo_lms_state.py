"""What the demo LMS keeps on disk: its key, its course state, and how it survives restarts."""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path

import jwt
import pytest
from demo_lms_peer import (
    LMS_BASE_URL,
    TestTool,
    ToolKey,
    add_activity,
    auth_params,
    launch,
    login_initiation,
    parse_form,
    resource_link_item,
)
from flask.testing import FlaskClient

from lti_tool.demo_lms import ToolEndpoints, create_demo_lms, demo_registration
from lti_tool.demo_lms.keys import KEY_FILENAME, DemoLmsKeyError
from lti_tool.demo_lms.store import (
    STATE_FILENAME,
    AlreadyUsedError,
    DemoLmsStateError,
    DemoLmsStore,
)
from lti_tool.demo_lms.tool_keys import ToolKeySet, ToolKeySetUnavailableError

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def test_key_is_generated_once_private_to_the_owner_and_published_with_its_kid(
    tmp_path: Path, tool: TestTool
) -> None:
    data_dir = tmp_path / "fresh"
    app = create_demo_lms(LMS_BASE_URL, tool.endpoints, data_dir)
    key_file = data_dir / KEY_FILENAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    (jwk,) = app.test_client().get("/jwks").get_json()["keys"]
    assert jwk["kty"] == "RSA"
    assert jwk["alg"] == "RS256"
    assert jwk["kid"]
    assert "d" not in jwk  # public part only
    assert int.from_bytes(jwt.utils.base64url_decode(jwk["n"]), "big").bit_length() == 2048

    again = create_demo_lms(LMS_BASE_URL, tool.endpoints, data_dir)

    assert again.test_client().get("/jwks").get_json()["keys"] == [jwk]


def test_id_token_kid_matches_the_published_key(
    client: FlaskClient, tool: TestTool, activity_id: str
) -> None:
    login = login_initiation(client, f"/activities/{activity_id}/launch?utilisateur=agent")
    response = client.post("/auth", data=auth_params(login, tool.endpoints.launch_url))
    id_token = parse_form(response.get_data(as_text=True))[1]["id_token"]

    (jwk,) = client.get("/jwks").get_json()["keys"]

    header = jwt.get_unverified_header(id_token)
    assert header["kid"] == jwk["kid"]
    assert header["alg"] == "RS256"


def test_unusable_key_file_gives_a_clear_error(tmp_path: Path, tool: TestTool) -> None:
    data_dir = tmp_path / "broken"
    data_dir.mkdir()
    (data_dir / KEY_FILENAME).write_text("not a key")
    with pytest.raises(DemoLmsKeyError, match="delete it"):
        create_demo_lms(LMS_BASE_URL, tool.endpoints, data_dir)


def test_registration_describes_the_platform_for_the_tool(tool: TestTool, data_dir: Path) -> None:
    app = create_demo_lms("http://127.0.0.1:5000/", tool.endpoints, data_dir)
    registration = demo_registration(app)
    assert registration.issuer == "http://127.0.0.1:5000"
    assert registration.client_id == "socle-demo-client"
    assert registration.deployment_id == "demo-deployment-1"
    assert registration.auth_login_url == "http://127.0.0.1:5000/auth"
    assert registration.auth_token_url == "http://127.0.0.1:5000/token"
    assert registration.key_set_url == "http://127.0.0.1:5000/jwks"


def test_state_survives_recreating_the_app(tool: TestTool, data_dir: Path) -> None:
    first = create_demo_lms(LMS_BASE_URL, tool.endpoints, data_dir).test_client()
    activity_id = add_activity(first, tool, LMS_BASE_URL)
    claims, _, _ = launch(
        first, f"/activities/{activity_id}/launch?utilisateur=agent", tool, LMS_BASE_URL
    )
    line_item_url = claims[AGS]["lineitem"]
    assertion = tool.client_assertion(f"{LMS_BASE_URL}/token")
    token = first.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": assertion,
            "scope": SCORE,
        },
    ).get_json()["access_token"]
    score = {
        "userId": claims["sub"],
        "scoreGiven": 3,
        "scoreMaximum": 4,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": "2026-03-02T08:00:00Z",
    }
    posted = first.post(
        line_item_url[len(LMS_BASE_URL) :] + "/scores",
        json=score,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert posted.status_code == 201

    second = create_demo_lms(LMS_BASE_URL, tool.endpoints, data_dir).test_client()

    course = second.get("/?utilisateur=enseignant").get_data(as_text=True)
    assert "Parcours socle commun" in course
    assert "Résultats reçus (1)" in course
    scores = second.get(f"/activities/{activity_id}/scores?utilisateur=enseignant")
    assert "75.00 / 100" in scores.get_data(as_text=True)
    again, _, _ = launch(
        second, f"/activities/{activity_id}/launch?utilisateur=agent", tool, LMS_BASE_URL
    )
    assert again[AGS]["lineitem"] == line_item_url
    assert (
        again["https://purl.imsglobal.org/spec/lti/claim/resource_link"]
        == claims["https://purl.imsglobal.org/spec/lti/claim/resource_link"]
    )
    # the access token signed before the restart is still valid
    reused = second.get(
        line_item_url[len(LMS_BASE_URL) :], headers={"Authorization": f"Bearer {token}"}
    )
    assert reused.status_code == 403  # valid token, but issued for the score scope only
    # a replayed client assertion is still refused after the restart
    replay = second.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": assertion,
            "scope": SCORE,
        },
    )
    assert replay.status_code == 401


def test_state_file_is_plain_json_without_leftover_temporary_files(
    client: FlaskClient, tool: TestTool, activity_id: str, data_dir: Path
) -> None:
    state = json.loads((data_dir / STATE_FILENAME).read_text(encoding="utf-8"))
    assert state["version"] == 1
    assert [activity["id"] for activity in state["activities"]] == [activity_id]
    assert state["activities"][0]["custom"] == {"parcours": "socle-commun"}
    assert sorted(path.name for path in data_dir.iterdir()) == [KEY_FILENAME, STATE_FILENAME]


def test_corrupt_state_file_gives_a_clear_error(data_dir: Path, tool: TestTool) -> None:
    (data_dir / STATE_FILENAME).write_text("{not json", encoding="utf-8")
    with pytest.raises(DemoLmsStateError, match="delete it"):
        create_demo_lms(LMS_BASE_URL, tool.endpoints, data_dir)


def test_one_time_values_are_all_or_nothing_and_expire(tmp_path: Path) -> None:
    now = [1000.0]
    store = DemoLmsStore(tmp_path, clock=lambda: now[0])
    store.use_once({"a": 1100.0})

    with pytest.raises(AlreadyUsedError):
        store.use_once({"b": 1100.0, "a": 1100.0})
    store.use_once({"b": 1100.0})  # "b" was not recorded by the failed call

    now[0] = 1200.0
    store.use_once({"a": 1300.0})  # expired values may come back


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_tool_jwks_is_a_refusal_not_a_crash(tmp_path: Path, tool: TestTool) -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    endpoints = ToolEndpoints(
        login_url=f"{base}/lti/login",
        launch_url=f"{base}/lti/launch",
        deep_link_url=f"{base}/lti/launch",
        jwks_url=f"{base}/lti/jwks",
    )
    client = create_demo_lms(LMS_BASE_URL, endpoints, tmp_path / "lms").test_client()

    token = client.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": tool.client_assertion(f"{LMS_BASE_URL}/token"),
            "scope": SCORE,
        },
    )
    deep_link = client.post(
        "/deep-link-return",
        data={"JWT": tool.key.sign(tool.deep_link_response(LMS_BASE_URL, "x", []))},
    )

    assert token.status_code == 401
    assert "key set unavailable" in token.get_json()["error_description"]
    assert deep_link.status_code == 400
    assert "injoignables" in deep_link.get_data(as_text=True)


def test_tool_key_set_cache_limits_refetches(tool: TestTool, other_key: ToolKey) -> None:
    now = [0.0]
    cache = ToolKeySet(tool.endpoints.jwks_url, ttl_seconds=300, clock=lambda: now[0])
    assert cache.get()["keys"][0]["kid"] == tool.key.kid
    cache.get()
    assert tool.jwks_fetches == 1

    tool.published = [tool.key, other_key]
    keys = cache.refresh_for_unknown_kid(other_key.kid)
    assert {key["kid"] for key in keys["keys"]} == {tool.key.kid, other_key.kid}
    cache.refresh_for_unknown_kid("forged-1")
    cache.refresh_for_unknown_kid("forged-2")
    assert tool.jwks_fetches == 2  # forged kids within 10 s: no fetch
    now[0] = 11.0
    cache.refresh_for_unknown_kid("forged-3")
    assert tool.jwks_fetches == 3
    now[0] = 400.0
    cache.get()
    assert tool.jwks_fetches == 4  # TTL expired


def test_tool_key_set_cache_reports_unreachable_or_invalid_key_sets(tool: TestTool) -> None:
    for url in (f"http://127.0.0.1:{_closed_port()}/jwks", f"{tool.base_url}/missing"):
        with pytest.raises(ToolKeySetUnavailableError):
            ToolKeySet(url, timeout=1).get()


def test_deep_link_items_with_window_presentation_open_in_a_window(
    client: FlaskClient, tool: TestTool
) -> None:
    item = resource_link_item(iframe=None, window={"targetName": "socle"})
    activity_id = add_activity(client, tool, LMS_BASE_URL, item)
    page = client.get(f"/activities/{activity_id}?utilisateur=agent").get_data(as_text=True)
    assert "<iframe" not in page
    assert "nouvelle fenêtre" in page
