"""Launches from the demo LMS: login initiation, authorization endpoint, id_token claims."""

from __future__ import annotations

from typing import Any

import pytest
from demo_lms_peer import (
    CLAIM,
    DL_CLAIM,
    LMS_BASE_URL,
    TestTool,
    auth_params,
    launch,
    login_initiation,
    parse_form,
)
from flask.testing import FlaskClient

from lti_tool.demo_lms import CLIENT_ID, DEPLOYMENT_ID

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
LEARNER_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
CONTEXT = "/api/contexts/formation-continue-competences-numeriques"


def test_login_initiation_redirects_to_the_tool_with_the_oidc_parameters(
    client: FlaskClient, tool: TestTool, activity_id: str
) -> None:
    response = client.get(f"/activities/{activity_id}/launch?utilisateur=agent")

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(tool.endpoints.login_url + "?")
    login = login_initiation(client, f"/activities/{activity_id}/launch?utilisateur=agent")
    assert login["iss"] == LMS_BASE_URL
    assert login["login_hint"] == "3a9f5e21-8c47-4b6d-a1e2-f3c4d5e6a7b8"
    assert login["target_link_uri"] == tool.endpoints.launch_url
    assert login["client_id"] == CLIENT_ID
    assert login["lti_deployment_id"] == DEPLOYMENT_ID
    assert login["lti_message_hint"]


def test_deep_linking_initiation_targets_the_deep_link_url_and_is_for_teachers(
    client: FlaskClient, tool: TestTool
) -> None:
    login = login_initiation(client, "/deep-link/launch?utilisateur=enseignant")
    assert login["target_link_uri"] == tool.endpoints.deep_link_url
    assert login["login_hint"] == "7d0c8a4e-2f1b-4c3d-9e5a-6b7c8d9e0f11"

    assert client.get("/deep-link/launch?utilisateur=agent").status_code == 403


def test_launch_without_chosen_user_goes_back_to_the_course(
    client: FlaskClient, activity_id: str
) -> None:
    client.delete_cookie("demo_lms_utilisateur")
    response = client.get(f"/activities/{activity_id}/launch")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_learner_launch_id_token_has_the_resource_link_claims(
    client: FlaskClient, tool: TestTool, activity_id: str
) -> None:
    claims, params, action = launch(
        client, f"/activities/{activity_id}/launch?utilisateur=agent", tool, LMS_BASE_URL
    )

    assert action == tool.endpoints.launch_url
    assert claims["nonce"] == params["nonce"]
    assert claims["azp"] == CLIENT_ID
    assert claims["sub"] == "3a9f5e21-8c47-4b6d-a1e2-f3c4d5e6a7b8"
    assert (claims["name"], claims["email"]) == (
        "Karim Benali",
        "karim.benali@collectivite.example",
    )
    assert (claims["given_name"], claims["family_name"]) == ("Karim", "Benali")
    assert claims[CLAIM + "message_type"] == "LtiResourceLinkRequest"
    assert claims[CLAIM + "version"] == "1.3.0"
    assert claims[CLAIM + "deployment_id"] == DEPLOYMENT_ID
    assert claims[CLAIM + "target_link_uri"] == tool.endpoints.launch_url
    assert claims[CLAIM + "roles"] == [LEARNER_ROLE]
    assert claims[CLAIM + "custom"] == {"parcours": "socle-commun"}
    link = claims[CLAIM + "resource_link"]
    assert link["title"] == "Parcours socle commun"
    assert len(link["id"]) == 36
    assert claims[CLAIM + "context"] == {
        "id": "formation-continue-competences-numeriques",
        "label": "FC-NUM",
        "title": "Formation continue — Compétences numériques",
        "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
    }
    assert claims[CLAIM + "launch_presentation"] == {
        "document_target": "iframe",
        "locale": "fr-FR",
        "return_url": f"{LMS_BASE_URL}/return",
    }
    ags = claims[AGS]
    assert sorted(ags["scope"]) == [
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    ]
    assert ags["lineitems"] == f"{LMS_BASE_URL}{CONTEXT}/lineitems"
    assert ags["lineitem"].startswith(ags["lineitems"] + "/")
    assert claims[NRPS]["context_memberships_url"] == f"{LMS_BASE_URL}{CONTEXT}/memberships"
    assert claims[NRPS]["service_versions"] == ["2.0"]
    assert claims["exp"] - claims["iat"] <= 300


def test_teacher_launch_of_an_activity_carries_the_instructor_role(
    client: FlaskClient, tool: TestTool, activity_id: str
) -> None:
    claims, _, _ = launch(
        client, f"/activities/{activity_id}/launch?utilisateur=enseignant", tool, LMS_BASE_URL
    )
    assert claims[CLAIM + "roles"] == [INSTRUCTOR_ROLE]
    assert claims["sub"] == "7d0c8a4e-2f1b-4c3d-9e5a-6b7c8d9e0f11"
    assert claims[CLAIM + "message_type"] == "LtiResourceLinkRequest"


def test_language_switch_and_new_window_change_launch_presentation(
    client: FlaskClient, tool: TestTool, activity_id: str
) -> None:
    client.get("/?utilisateur=agent&langue=en")  # sets the demo cookies
    claims, _, _ = launch(
        client, f"/activities/{activity_id}/launch?target=window", tool, LMS_BASE_URL
    )
    presentation = claims[CLAIM + "launch_presentation"]
    assert presentation["locale"] == "en"
    assert presentation["document_target"] == "window"


def test_deep_linking_request_claims(client: FlaskClient, tool: TestTool) -> None:
    claims, _, action = launch(
        client, "/deep-link/launch?utilisateur=enseignant", tool, LMS_BASE_URL
    )

    assert action == tool.endpoints.deep_link_url
    assert claims[CLAIM + "message_type"] == "LtiDeepLinkingRequest"
    assert claims[CLAIM + "target_link_uri"] == tool.endpoints.deep_link_url
    assert claims[CLAIM + "roles"] == [INSTRUCTOR_ROLE]
    assert CLAIM + "resource_link" not in claims
    settings = claims[DL_CLAIM + "deep_linking_settings"]
    assert settings["deep_link_return_url"] == f"{LMS_BASE_URL}/deep-link-return"
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert sorted(settings["accept_presentation_document_targets"]) == ["iframe", "window"]
    assert settings["accept_multiple"] is False
    assert isinstance(settings["data"], str)
    assert len(settings["data"]) > 20
    assert "lineitem" not in claims[AGS]


def _auth_request(client: FlaskClient, activity_id: str, tool: TestTool) -> dict[str, str]:
    login = login_initiation(client, f"/activities/{activity_id}/launch?utilisateur=agent")
    return auth_params(login, tool.endpoints.launch_url)


def _tamper(value: str) -> str:
    return value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")


@pytest.mark.parametrize(
    ("change", "expected_text"),
    [
        ({"redirect_uri": "http://127.0.0.1:9/attacker"}, "redirect_uri"),
        ({"client_id": "someone-else"}, "client_id"),
        ({"response_type": "code"}, "response_type"),
        ({"scope": "profile"}, "scope"),
        ({"nonce": ""}, "nonce"),
        ({"login_hint": "3a9f5e21-0000-0000-0000-000000000000"}, "utilisateur"),
        ({"lti_message_hint": "tampered"}, "expiré"),
    ],
)
def test_authorization_endpoint_refuses_bad_requests(
    client: FlaskClient,
    tool: TestTool,
    activity_id: str,
    change: dict[str, str],
    expected_text: str,
) -> None:
    params: dict[str, Any] = {**_auth_request(client, activity_id, tool), **change}

    response = client.post("/auth", data=params)

    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert expected_text in body
    assert "id_token" not in parse_form(body)[1]


def test_message_hint_signed_for_a_learner_cannot_become_the_teacher(
    client: FlaskClient, tool: TestTool, activity_id: str
) -> None:
    learner = _auth_request(client, activity_id, tool)
    params = {**learner, "lti_message_hint": _tamper(learner["lti_message_hint"])}
    assert client.post("/auth", data=params).status_code == 400
    # the genuine request still works, over GET as well as POST
    response = client.get("/auth", query_string=learner)
    assert response.status_code == 200
    assert "id_token" in parse_form(response.get_data(as_text=True))[1]
