"""Token endpoint, AGS and NRPS of the demo LMS, used as a tool uses them."""

from __future__ import annotations

import time
from typing import Any

import pytest
from demo_lms_peer import LMS_BASE_URL, TestTool, ToolKey, launch
from flask.testing import FlaskClient

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
LINEITEM, RESULT, SCORE = SCOPE + "lineitem", SCOPE + "result.readonly", SCOPE + "score"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ALL_SCOPES = (LINEITEM, RESULT, SCORE, NRPS_SCOPE)
TOKEN_URL = f"{LMS_BASE_URL}/token"
CONTEXT = "/api/contexts/formation-continue-competences-numeriques"
LEARNER_SUB = "3a9f5e21-8c47-4b6d-a1e2-f3c4d5e6a7b8"
TEACHER_SUB = "7d0c8a4e-2f1b-4c3d-9e5a-6b7c8d9e0f11"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"


def _token_form(assertion: str, scopes: tuple[str, ...] = ALL_SCOPES) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
        "scope": " ".join(scopes),
    }


def _token(client: FlaskClient, tool: TestTool, scopes: tuple[str, ...] = ALL_SCOPES) -> str:
    response = client.post("/token", data=_token_form(tool.client_assertion(TOKEN_URL), scopes))
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.get_json()["access_token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _line_item_url(client: FlaskClient, tool: TestTool, activity_id: str) -> str:
    claims, _, _ = launch(
        client, f"/activities/{activity_id}/launch?utilisateur=agent", tool, LMS_BASE_URL
    )
    return str(claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]["lineitem"])


def _path(url: str) -> str:
    assert url.startswith(LMS_BASE_URL)
    return url[len(LMS_BASE_URL) :]


def _score(**changes: Any) -> dict[str, Any]:
    score: dict[str, Any] = {
        "userId": LEARNER_SUB,
        "scoreGiven": 42,
        "scoreMaximum": 50,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": "2026-03-01T10:00:00+00:00",
        "comment": "Niveau 3 en 1.1",
    }
    score.update(changes)
    return {key: value for key, value in score.items() if value is not None}


# --- token endpoint --------------------------------------------------------------------------


def test_token_endpoint_issues_a_token_for_a_valid_client_assertion(
    client: FlaskClient, tool: TestTool
) -> None:
    form = _token_form(tool.client_assertion(TOKEN_URL), (SCORE, RESULT, SCOPE + "unknown"))

    response = client.post("/token", data=form)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token_type"].lower() == "bearer"
    assert body["expires_in"] == 3600
    assert sorted(body["scope"].split()) == sorted([SCORE, RESULT])
    assert body["access_token"].count(".") == 2


def test_client_assertion_within_the_clock_leeway_is_accepted(
    client: FlaskClient, tool: TestTool
) -> None:
    assertion = tool.client_assertion(TOKEN_URL, iat=int(time.time()) + 3)
    assert client.post("/token", data=_token_form(assertion)).status_code == 200


def _assertion_without(tool: TestTool, claim: str) -> str:
    return tool.client_assertion(TOKEN_URL, **{claim: None})


BAD_TOKEN_REQUESTS: list[tuple[str, Any, int, str]] = [
    (
        "no assertion",
        lambda t, k: {**_token_form("x"), "client_assertion": ""},
        400,
        "invalid_request",
    ),
    (
        "wrong grant",
        lambda t, k: {**_token_form(t.client_assertion(TOKEN_URL)), "grant_type": "password"},
        400,
        "unsupported_grant_type",
    ),
    (
        "wrong assertion type",
        lambda t, k: {
            **_token_form(t.client_assertion(TOKEN_URL)),
            "client_assertion_type": "basic",
        },
        400,
        "invalid_request",
    ),
    (
        "no known scope",
        lambda t, k: _token_form(t.client_assertion(TOKEN_URL), ("openid",)),
        400,
        "invalid_scope",
    ),
    ("garbage assertion", lambda t, k: _token_form("abc"), 401, "invalid_client"),
    ("three garbage parts", lambda t, k: _token_form("a.b.c"), 401, "invalid_client"),
    (
        "bad signature",
        lambda t, k: _token_form(
            k.sign(
                {
                    "iss": "socle-demo-client",
                    "sub": "socle-demo-client",
                    "aud": TOKEN_URL,
                    "iat": int(time.time()),
                    "exp": int(time.time()) + 60,
                    "jti": "j1",
                },
                kid=t.key.kid,
            )
        ),
        401,
        "invalid_client",
    ),
    (
        "wrong aud",
        lambda t, k: _token_form(t.client_assertion("http://127.0.0.1:5000/other")),
        401,
        "invalid_client",
    ),
    (
        "wrong iss",
        lambda t, k: _token_form(t.client_assertion(TOKEN_URL, iss="intruder")),
        401,
        "invalid_client",
    ),
    (
        "wrong sub",
        lambda t, k: _token_form(t.client_assertion(TOKEN_URL, sub="intruder")),
        401,
        "invalid_client",
    ),
    (
        "expired",
        lambda t, k: _token_form(
            t.client_assertion(TOKEN_URL, iat=int(time.time()) - 120, exp=int(time.time()) - 60)
        ),
        401,
        "invalid_client",
    ),
    ("no jti", lambda t, k: _token_form(_assertion_without(t, "jti")), 401, "invalid_client"),
    ("no exp", lambda t, k: _token_form(_assertion_without(t, "exp")), 401, "invalid_client"),
    (
        "unknown client_id",
        lambda t, k: {**_token_form(t.client_assertion(TOKEN_URL)), "client_id": "intruder"},
        401,
        "invalid_client",
    ),
]


@pytest.mark.parametrize(
    ("make_form", "status", "error"),
    [(f, s, e) for _, f, s, e in BAD_TOKEN_REQUESTS],
    ids=[name for name, *_ in BAD_TOKEN_REQUESTS],
)
def test_token_endpoint_refuses_bad_requests_with_json_errors(
    client: FlaskClient,
    tool: TestTool,
    other_key: ToolKey,
    make_form: Any,
    status: int,
    error: str,
) -> None:
    response = client.post("/token", data=make_form(tool, other_key))

    assert response.status_code == status
    assert response.get_json()["error"] == error
    assert "access_token" not in response.get_json()


def test_a_client_assertion_cannot_be_replayed(client: FlaskClient, tool: TestTool) -> None:
    form = _token_form(tool.client_assertion(TOKEN_URL))
    assert client.post("/token", data=form).status_code == 200

    replay = client.post("/token", data=form)

    assert replay.status_code == 401
    assert "jti" in replay.get_json()["error_description"]


# --- AGS -------------------------------------------------------------------------------------


def test_score_post_is_stored_and_shown_to_the_teacher(
    client: FlaskClient, tool: TestTool, activity_id: str
) -> None:
    line_item = _path(_line_item_url(client, tool, activity_id))
    token = _token(client, tool, (SCORE, RESULT))

    posted = client.post(
        f"{line_item}/scores", json=_score(), headers={**_bearer(token), "Content-Type": SCORE_TYPE}
    )

    assert posted.status_code in {200, 201, 204}
    results = client.get(f"{line_item}/results", headers=_bearer(token))
    assert results.status_code == 200
    assert results.headers["Content-Type"] == "application/vnd.ims.lis.v2.resultcontainer+json"
    (result,) = results.get_json()
    assert result["userId"] == LEARNER_SUB
    assert result["resultScore"] == pytest.approx(84.0)  # 42/50 on a line item out of 100
    assert result["resultMaximum"] == 100
    assert result["scoreOf"] == LMS_BASE_URL + line_item
    page = client.get(f"/activities/{activity_id}/scores?utilisateur=enseignant")
    html = page.get_data(as_text=True)
    assert "Karim Benali" in html
    assert "84.00 / 100" in html
    assert "Niveau 3 en 1.1" in html
    assert client.get(f"/activities/{activity_id}/scores?utilisateur=agent").status_code == 403


def test_scores_follow_timestamps_and_pending_grades_do_not_count(
    client: FlaskClient, tool: TestTool, activity_id: str
) -> None:
    line_item = _path(_line_item_url(client, tool, activity_id))
    headers = {**_bearer(_token(client, tool, (SCORE, RESULT))), "Content-Type": SCORE_TYPE}
    later = _score(timestamp="2026-03-01T10:05:00+0000", gradingProgress="Pending")  # pylti1p3
    assert client.post(f"{line_item}/scores", json=later, headers=headers).status_code == 201

    stale = client.post(f"{line_item}/scores", json=_score(), headers=headers)

    assert stale.status_code == 409
    (result,) = client.get(f"{line_item}/results", headers=headers).get_json()
    assert "resultScore" not in result
    final = _score(timestamp="2026-03-01T10:06:00Z", scoreGiven=50)
    assert client.post(f"{line_item}/scores", json=final, headers=headers).status_code == 200
    (result,) = client.get(f"{line_item}/results", headers=headers).get_json()
    assert result["resultScore"] == pytest.approx(100.0)


@pytest.mark.parametrize(
    "score",
    [
        _score(userId="someone-else"),
        _score(userId=None),
        _score(activityProgress="Done"),
        _score(gradingProgress=None),
        _score(timestamp="yesterday"),
        _score(timestamp="2026-03-01T10:00:00"),  # no offset
        _score(scoreGiven=-1),
        _score(scoreMaximum=0),
        _score(scoreGiven="42"),
        [_score()],
    ],
)
def test_invalid_scores_are_refused(
    client: FlaskClient, tool: TestTool, activity_id: str, score: Any
) -> None:
    line_item = _path(_line_item_url(client, tool, activity_id))
    headers = {**_bearer(_token(client, tool, (SCORE, RESULT))), "Content-Type": SCORE_TYPE}

    response = client.post(f"{line_item}/scores", json=score, headers=headers)

    assert response.status_code in {400, 415}
    assert client.get(f"{line_item}/results", headers=headers).get_json() == []


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Basic abc"}, 401),
        ({"Authorization": "Bearer"}, 401),
        ({"Authorization": "Bearer not.a.token"}, 401),
        ({"Authorization": "Bearer a b"}, 401),
    ],
)
def test_services_refuse_missing_or_malformed_tokens(
    client: FlaskClient, activity_id: str, headers: dict[str, str], status: int
) -> None:
    for method, path in [
        ("POST", f"{CONTEXT}/lineitems/x/scores"),
        ("GET", f"{CONTEXT}/lineitems"),
        ("GET", f"{CONTEXT}/memberships"),
    ]:
        response = client.open(path, method=method, headers=headers, json=_score())
        assert response.status_code == status
        assert "error" in response.get_json()


def test_a_token_without_the_score_scope_cannot_post_scores(
    client: FlaskClient, tool: TestTool, activity_id: str
) -> None:
    line_item = _path(_line_item_url(client, tool, activity_id))
    token = _token(client, tool, (RESULT, NRPS_SCOPE))

    response = client.post(f"{line_item}/scores", json=_score(), headers=_bearer(token))

    assert response.status_code == 403
    assert client.get(f"{line_item}/results", headers=_bearer(token)).get_json() == []


def test_a_read_only_token_reads_line_items_but_cannot_create_them(
    client: FlaskClient, tool: TestTool, activity_id: str
) -> None:
    token = _token(client, tool, (SCOPE + "lineitem.readonly",))
    headers = {**_bearer(token), "Content-Type": LINEITEM_TYPE}

    listed = client.get(f"{CONTEXT}/lineitems", headers=headers)
    created = client.post(
        f"{CONTEXT}/lineitems", json={"label": "x", "scoreMaximum": 1}, headers=headers
    )

    assert listed.status_code == 200
    assert len(listed.get_json()) == 1
    assert created.status_code == 403


def test_a_token_signed_by_someone_else_is_refused(
    client: FlaskClient, tool: TestTool, activity_id: str
) -> None:
    forged = tool.key.sign(
        {
            "iss": LMS_BASE_URL,
            "sub": "socle-demo-client",
            "scopes": SCORE,
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
        }
    )
    response = client.get(f"{CONTEXT}/lineitems", headers=_bearer(forged))
    assert response.status_code == 401


def test_line_items_can_be_listed_paged_created_updated_and_deleted(
    client: FlaskClient, tool: TestTool, activity_id: str
) -> None:
    headers = {**_bearer(_token(client, tool)), "Content-Type": LINEITEM_TYPE}
    created = client.post(
        f"{CONTEXT}/lineitems",
        json={"label": "Seconde colonne", "scoreMaximum": 20, "tag": "bonus"},
        headers=headers,
    )
    assert created.status_code == 201
    new_url = created.get_json()["id"]
    assert new_url.startswith(f"{LMS_BASE_URL}{CONTEXT}/lineitems/")

    first = client.get(f"{CONTEXT}/lineitems?limit=1", headers=headers)
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "application/vnd.ims.lis.v2.lineitemcontainer+json"
    assert len(first.get_json()) == 1
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"')
    next_url = link[1 : link.index(">")]
    second = client.get(_path(next_url), headers=headers)
    assert len(second.get_json()) == 1
    assert "Link" not in second.headers
    ids = {first.get_json()[0]["id"], second.get_json()[0]["id"]}
    assert new_url in ids
    tagged = client.get(f"{CONTEXT}/lineitems?tag=bonus", headers=headers).get_json()
    assert [item["id"] for item in tagged] == [new_url]

    updated = client.put(
        _path(new_url), json={"label": "Bonus", "scoreMaximum": 10}, headers=headers
    )
    assert updated.status_code == 200
    assert client.get(_path(new_url), headers=headers).get_json()["label"] == "Bonus"
    assert client.delete(_path(new_url), headers=headers).status_code == 204
    assert client.get(_path(new_url), headers=headers).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"scoreMaximum": 10},
        {"label": "x", "scoreMaximum": -1},
        {"label": "x", "scoreMaximum": 10, "resourceLinkId": "not-in-course"},
        {"label": "x", "scoreMaximum": 10, "startDateTime": "demain"},
    ],
)
def test_invalid_line_items_are_refused(
    client: FlaskClient, tool: TestTool, activity_id: str, body: dict[str, Any]
) -> None:
    headers = {**_bearer(_token(client, tool)), "Content-Type": LINEITEM_TYPE}
    before = client.get(f"{CONTEXT}/lineitems", headers=headers).get_json()

    response = client.post(f"{CONTEXT}/lineitems", json=body, headers=headers)

    assert response.status_code == 400
    assert client.get(f"{CONTEXT}/lineitems", headers=headers).get_json() == before


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "page=-1"])
def test_bad_paging_parameters_are_a_400(client: FlaskClient, tool: TestTool, query: str) -> None:
    response = client.get(f"{CONTEXT}/lineitems?{query}", headers=_bearer(_token(client, tool)))
    assert response.status_code == 400


def test_unknown_context_is_a_404(client: FlaskClient, tool: TestTool) -> None:
    token = _token(client, tool)
    assert client.get("/api/contexts/other/lineitems", headers=_bearer(token)).status_code == 404


# --- NRPS ------------------------------------------------------------------------------------


def test_memberships_list_the_teacher_and_the_agent(client: FlaskClient, tool: TestTool) -> None:
    token = _token(client, tool, (NRPS_SCOPE,))

    response = client.get(f"{CONTEXT}/memberships", headers=_bearer(token))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == (
        "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
    )
    body = response.get_json()
    assert body["id"] == f"{LMS_BASE_URL}{CONTEXT}/memberships"
    assert body["context"]["title"] == "Formation continue — Compétences numériques"
    members = {member["user_id"]: member for member in body["members"]}
    assert members[TEACHER_SUB]["roles"] == [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
    ]
    assert members[LEARNER_SUB]["name"] == "Karim Benali"
    assert members[LEARNER_SUB]["status"] == "Active"
    learners = client.get(f"{CONTEXT}/memberships?role=Learner", headers=_bearer(token))
    assert [m["user_id"] for m in learners.get_json()["members"]] == [LEARNER_SUB]
