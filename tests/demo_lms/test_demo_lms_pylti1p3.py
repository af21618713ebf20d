"""The demo LMS against pylti1p3's service client (the library the tool uses), over real HTTP.

pylti1p3 only recognises a quoted `rel="next"`, writes timestamps as `+0000` and signs its
client assertions its own way: this checks the demo LMS accepts exactly what the tool sends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from demo_lms_peer import LMS_BASE_URL, TestTool, ToolKey, add_activity, launch
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector
from werkzeug.serving import make_server

from lti_tool.demo_lms import CLIENT_ID, create_demo_lms

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class CachingServiceConnector(ServiceConnector):
    """pylti1p3's connector with the in-memory token cache a tool provides."""

    def __init__(self, registration: Registration) -> None:
        super().__init__(registration)
        self._tokens: dict[str, str] = {}

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        return self._tokens.get(scope_key)

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        self._tokens[scope_key] = access_token


@pytest.fixture
def live_lms(tool: TestTool, data_dir: Path) -> Iterator[tuple[str, Any]]:
    """The demo LMS on a real port (pylti1p3 talks HTTP); yields its base URL and test client."""
    holder: dict[str, WsgiApp] = {}

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app = create_demo_lms(base_url, tool.endpoints, data_dir)
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url, app.test_client()
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _pylti_registration(issuer: str, key: ToolKey) -> Registration:
    private_pem = key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return (
        Registration()
        .set_issuer(issuer)
        .set_client_id(CLIENT_ID)
        .set_auth_token_url(f"{issuer}/token")
        .set_tool_private_key(private_pem)
        .set_tool_public_key(public_pem)
    )


def test_pylti1p3_puts_grades_pages_line_items_and_reads_members(
    live_lms: tuple[str, Any], tool: TestTool
) -> None:
    base_url, client = live_lms
    assert base_url != LMS_BASE_URL
    registration = _pylti_registration(base_url, tool.key)
    published = ToolKey(str(registration.get_kid()), tool.key.private_key)
    tool.published = [tool.key, published]
    activity_id = add_activity(client, tool, base_url)
    claims, _, _ = launch(
        client, f"/activities/{activity_id}/launch?utilisateur=agent", tool, base_url
    )
    connector = CachingServiceConnector(registration)
    ags = AssignmentsGradesService(connector, claims[AGS])

    grade = (
        Grade()
        .set_score_given(7)
        .set_score_maximum(10)
        .set_timestamp(datetime.now(UTC))
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_user_id(claims["sub"])
    )
    assert "+0000" in str(grade.get_timestamp())
    ags.put_grade(grade)

    (result,) = ags.get_grades()
    assert result["userId"] == claims["sub"]
    assert result["resultScore"] == pytest.approx(70.0)
    for label in ("Bonus A", "Bonus B"):
        ags.create_lineitem(LineItem().set_label(label).set_score_maximum(5).set_tag("bonus"))
    items, next_url = ags.get_lineitems_page(f"{claims[AGS]['lineitems']}?limit=2")
    assert len(items) == 2
    assert next_url is not None
    rest, last = ags.get_lineitems_page(next_url)
    assert (len(rest), last) == (1, None)
    assert len(list(ags.get_lineitems())) == 3

    members = NamesRolesProvisioningService(connector, claims[NRPS]).get_members()
    assert {member["name"] for member in members} == {"Claire Martin", "Karim Benali"}
