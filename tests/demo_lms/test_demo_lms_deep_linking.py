"""Deep Linking return: a valid response adds the activity; anything doubtful adds nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from demo_lms_peer import (
    CLAIM,
    DL_CLAIM,
    LMS_BASE_URL,
    TestTool,
    ToolKey,
    launch,
    query_of,
    resource_link_item,
)
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.demo_lms.lms import current_lms
from lti_tool.demo_lms.store import DemoLmsStore


def _data(client: FlaskClient, tool: TestTool) -> str:
    """Open a Deep Linking request as the teacher; return its `data`."""
    claims, _, _ = launch(client, "/deep-link/launch?utilisateur=enseignant", tool, LMS_BASE_URL)
    data = claims[DL_CLAIM + "deep_linking_settings"]["data"]
    assert isinstance(data, str)
    return data


def _store(app: Flask) -> DemoLmsStore:
    with app.app_context():
        return current_lms().store


def test_valid_response_creates_the_activity_and_its_line_item(
    app: Flask, client: FlaskClient, tool: TestTool
) -> None:
    item = resource_link_item(url=f"{tool.base_url}/lti/launch?x=1")
    claims = tool.deep_link_response(
        LMS_BASE_URL, _data(client, tool), [item], **{DL_CLAIM + "msg": "Parcours ajouté"}
    )

    response = client.post("/deep-link-return", data={"JWT": tool.key.sign(claims)})

    assert response.status_code == 303
    query = query_of(response.headers["Location"])
    assert query["lti_msg"] == "Parcours ajouté"
    (activity,) = _store(app).activities()
    assert query["ajout"] == activity.id
    assert activity.title == "Parcours socle commun"
    assert activity.url == f"{tool.base_url}/lti/launch?x=1"
    assert activity.custom == {"parcours": "socle-commun"}
    assert activity.document_target == "iframe"
    line_item = _store(app).line_item(str(activity.line_item_id))
    assert (line_item.label, line_item.score_maximum, line_item.tag) == (
        "Socle commun",
        100,
        "socle",
    )
    assert line_item.resource_link_id == activity.resource_link_id
    page = client.get("/" + response.headers["Location"].split("/", 3)[-1]).get_data(as_text=True)
    assert "L'activité « Parcours socle commun » a été ajoutée au cours." in page
    assert "Parcours ajouté" in page


def test_a_launch_of_the_new_activity_goes_to_its_own_url(
    client: FlaskClient, tool: TestTool
) -> None:
    url = f"{tool.base_url}/lti/launch?x=1"
    claims = tool.deep_link_response(
        LMS_BASE_URL, _data(client, tool), [resource_link_item(url=url, lineItem=None)]
    )
    location = client.post("/deep-link-return", data={"JWT": tool.key.sign(claims)}).headers[
        "Location"
    ]
    activity_id = query_of(location)["ajout"]

    launched, _, _ = launch(
        client, f"/activities/{activity_id}/launch?utilisateur=agent", tool, LMS_BASE_URL
    )

    assert launched[CLAIM + "target_link_uri"] == url
    ags = launched["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
    assert "lineitem" not in ags
    assert "lineitems" in ags


def test_response_inside_the_iframe_leaves_the_frame(client: FlaskClient, tool: TestTool) -> None:
    claims = tool.deep_link_response(LMS_BASE_URL, _data(client, tool), [resource_link_item()])

    response = client.post(
        "/deep-link-return",
        data={"JWT": tool.key.sign(claims)},
        headers={"Sec-Fetch-Dest": "iframe"},
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'target="_top"' in page
    assert "/?ajout=" in page


def test_empty_response_adds_nothing(app: Flask, client: FlaskClient, tool: TestTool) -> None:
    claims = tool.deep_link_response(LMS_BASE_URL, _data(client, tool), [])

    response = client.post("/deep-link-return", data={"JWT": tool.key.sign(claims)})

    assert response.status_code == 303
    assert query_of(response.headers["Location"]) == {"info": "aucune-activite"}
    assert _store(app).activities() == []


Mutation = Callable[[dict[str, Any]], dict[str, Any]]


def _set(**changes: Any) -> Mutation:
    return lambda claims: {**claims, **changes}


def _issued(**offsets: int) -> Mutation:
    """Times relative to the response's own `iat`, computed when the test signs it.

    Never `time.time()` in the parameter list: that runs at collection, minutes before a test
    that comes after the browser suites.
    """
    return lambda claims: {**claims, **{k: claims["iat"] + v for k, v in offsets.items()}}


def _without(name: str) -> Mutation:
    return lambda claims: {k: v for k, v in claims.items() if k != name}


def _items(*items: dict[str, Any]) -> Mutation:
    return _set(**{DL_CLAIM + "content_items": list(items)})


REFUSED: list[tuple[str, Mutation]] = [
    ("wrong aud", _set(aud="http://127.0.0.1:5999")),
    ("aud is the token url only", _set(aud=f"{LMS_BASE_URL}/token")),
    ("wrong iss", _set(iss="another-client")),
    ("wrong deployment", _set(**{CLAIM + "deployment_id": "other-deployment"})),
    ("wrong message type", _set(**{CLAIM + "message_type": "LtiResourceLinkRequest"})),
    ("expired", _issued(exp=-60)),
    ("issued in the future", _issued(iat=120)),
    ("no nonce", _without("nonce")),
    ("no data", _without(DL_CLAIM + "data")),
    ("tampered data", lambda c: {**c, DL_CLAIM + "data": c[DL_CLAIM + "data"] + "x"}),
    ("two items", _items(resource_link_item(), resource_link_item(title="Autre"))),
    ("link item", _items({"type": "link", "url": "http://127.0.0.1:5001/"})),
    ("item without type", _items({"title": "Sans type"})),
    ("url elsewhere", _items(resource_link_item(url="http://127.0.0.1:9/lti/launch"))),
    ("custom not text", _items(resource_link_item(custom={"parcours": 3}))),
    ("bad scoreMaximum", _items(resource_link_item(lineItem={"scoreMaximum": 0}))),
]


@pytest.mark.parametrize("mutation", [m for _, m in REFUSED], ids=[n for n, _ in REFUSED])
def test_doubtful_responses_are_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, tool: TestTool, mutation: Mutation
) -> None:
    claims = mutation(
        tool.deep_link_response(LMS_BASE_URL, _data(client, tool), [resource_link_item()])
    )

    response = client.post("/deep-link-return", data={"JWT": tool.key.sign(claims)})

    assert response.status_code == 400
    assert "Réponse refusée" in response.get_data(as_text=True)
    assert _store(app).activities() == []
    assert _store(app).line_items() == []


def test_bad_signature_is_refused(
    app: Flask, client: FlaskClient, tool: TestTool, other_key: ToolKey
) -> None:
    claims = tool.deep_link_response(LMS_BASE_URL, _data(client, tool), [resource_link_item()])
    forged = other_key.sign(claims, kid=tool.key.kid)  # right kid, wrong key

    response = client.post("/deep-link-return", data={"JWT": forged})

    assert response.status_code == 400
    assert "signature" in response.get_data(as_text=True)
    assert _store(app).activities() == []


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c"])
def test_garbage_is_refused(app: Flask, client: FlaskClient, token: str) -> None:
    response = client.post("/deep-link-return", data={"JWT": token})
    assert response.status_code == 400
    assert _store(app).activities() == []


def test_replayed_response_adds_the_activity_once(
    app: Flask, client: FlaskClient, tool: TestTool
) -> None:
    token = tool.key.sign(
        tool.deep_link_response(LMS_BASE_URL, _data(client, tool), [resource_link_item()])
    )
    assert client.post("/deep-link-return", data={"JWT": token}).status_code == 303

    replay = client.post("/deep-link-return", data={"JWT": token})

    assert replay.status_code == 400
    assert "déjà été reçue" in replay.get_data(as_text=True)
    assert len(_store(app).activities()) == 1


def test_a_learner_cannot_obtain_deep_linking_data(client: FlaskClient, tool: TestTool) -> None:
    assert client.get("/deep-link/launch?utilisateur=agent").status_code == 403
    assert client.get("/deep-link?utilisateur=agent").status_code == 403


def test_tool_jwks_is_cached_and_refetched_for_a_new_key(
    app: Flask, client: FlaskClient, tool: TestTool, other_key: ToolKey
) -> None:
    for _ in range(2):
        claims = tool.deep_link_response(LMS_BASE_URL, _data(client, tool), [resource_link_item()])
        assert (
            client.post("/deep-link-return", data={"JWT": tool.key.sign(claims)}).status_code == 303
        )
    assert tool.jwks_fetches == 1

    tool.published = [tool.key, other_key]  # the tool rotates its key
    claims = tool.deep_link_response(LMS_BASE_URL, _data(client, tool), [resource_link_item()])
    response = client.post("/deep-link-return", data={"JWT": other_key.sign(claims)})

    assert response.status_code == 303
    assert tool.jwks_fetches == 2
    assert len(_store(app).activities()) == 3

    for _ in range(2):  # forged kids right after a forced refetch: refused from the cache
        claims = tool.deep_link_response(LMS_BASE_URL, _data(client, tool), [resource_link_item()])
        forged = client.post("/deep-link-return", data={"JWT": tool.key.sign(claims, "nope")})
        assert forged.status_code == 400
    assert tool.jwks_fetches == 2
