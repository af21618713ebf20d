"""What a launch leaves in the database: the claims the tool reads, never the person's data.

With a registration that does not allow personal data (the default), the names, email and
picture of the id_token — and identifiers hidden in vendor claims or custom parameters —
must appear in no row of any table, even after the agent started a parcours. With one that
allows it, names and emails are kept in the user row only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, select

from lti_tool.lti.stored_claims import STORED_CLAIMS
from lti_tool.models import Launch, LtiUser
from tests.lti.forge import (
    CLAIM,
    DL,
    INSTRUCTOR,
    TestPlatform,
    login,
    register,
    running_platform,
)

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"

# What an LMS may send about the person, and where; none of it may be stored.
PERSONAL: dict[str, Any] = {
    "name": "Karim Benali",
    "given_name": "Karim",
    "family_name": "Benali",
    "middle_name": "Yacine",
    "email": "karim.benali@example.org",
    "picture": "https://lms.example.org/avatars/kbenali-2718.png",
    "locale": "fr-FR",
    CLAIM + "lis": {"person_sourcedid": "SIS-KB-4242", "course_section_sourcedid": "S-1"},
    CLAIM + "ext": {"user_username": "kbenali.mairie", "lms": "moodle-2"},
    CLAIM + "role_scope_mentor": ["mentored-user-3141"],
    "https://example.org/claim/badge-holder": "unknown-claim-value-9265",
    CLAIM + "tool_platform": {
        "guid": "lms-guid-1",
        "name": "Plateforme de formation",
        "product_family_code": "moodle",
        "contact_email": "admin.lms@example.org",
    },
    # A custom parameter the LMS filled with a substitution variable ($Person.email.primary).
    CLAIM + "custom": {"parcours": "socle-commun", "courriel": "karim.benali@example.org"},
}
TRACES = (
    "Karim",
    "Benali",
    "Yacine",
    "karim.benali@example.org",
    "kbenali",
    "SIS-KB-4242",
    "mentored-user-3141",
    "unknown-claim-value-9265",
    "admin.lms@example.org",
)


@pytest.fixture
def platform(app: Flask) -> Iterator[TestPlatform]:
    with running_platform() as test_platform:
        register(app, test_platform)
        yield test_platform


def launch(client: FlaskClient, platform: TestPlatform, **claims: Any) -> str:
    """Launch with ``claims`` changed; returns the page token of the launch."""
    state, nonce = login(client, platform)
    id_token = platform.sign(platform.claims(nonce, **claims))
    response = client.post("/lti/launch", data={"id_token": id_token, "state": state})
    assert response.status_code == 303, response.get_data(as_text=True)
    return parse_qs(urlsplit(response.headers["Location"]).query)["lt"][0]


def every_stored_value(app: Flask) -> dict[str, list[str]]:
    """Every row of every table of the database, as text, by table."""
    engine = app.extensions["socle"].database.engine
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            table.name: [repr(tuple(row)) for row in connection.execute(select(table))]
            for table in metadata.sorted_tables
        }


def test_a_pseudonymous_registration_stores_no_personal_data(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    token = launch(client, platform, **PERSONAL)
    assert client.post("/play/start", data={"lt": token}).status_code == 303
    stored = every_stored_value(app)
    for table in ("launch", "lti_user", "attempt", "xapi_outbox"):
        assert stored[table], f"nothing in {table}: the scan would prove nothing"
    found = {
        (table, trace)
        for table, rows in stored.items()
        for row in rows
        for trace in TRACES
        if trace.lower() in row.lower()
    }
    assert found == set()


def test_names_and_emails_go_to_the_user_row_only_when_allowed(
    app: Flask, client: FlaskClient
) -> None:
    with running_platform() as named:
        register(app, named, store_personal_data=True)
        launch(client, named, **PERSONAL)
    with app.extensions["socle"].database.session() as session:
        user = session.scalars(select(LtiUser)).one()
        stored = session.scalars(select(Launch)).one().claims
    assert (user.name, user.email) == ("Karim Benali", "karim.benali@example.org")
    assert not any(trace.lower() in repr(stored).lower() for trace in TRACES)


def test_the_claims_the_tool_reads_are_kept_as_sent(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    ags = {
        "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
        "lineitem": f"{platform.issuer}/lineitems/1",
        "lineitems": f"{platform.issuer}/lineitems",
    }
    launch(client, platform, **{AGS_CLAIM: ags}, **PERSONAL)
    settings = {
        "deep_link_return_url": f"{platform.issuer}/deep-link/return",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_multiple": False,
        "data": "opaque-platform-data",
    }
    launch(
        client,
        platform,
        lti_message_type="LtiDeepLinkingRequest",
        lti_resource_link=None,
        lti_roles=[INSTRUCTOR],
        **{DL + "deep_linking_settings": settings},
    )
    with app.extensions["socle"].database.session() as session:
        learner, teacher = session.scalars(select(Launch).order_by(Launch.created_at)).all()
        learner_claims, teacher_claims = learner.claims, teacher.claims
    assert set(learner_claims) <= set(STORED_CLAIMS)
    assert learner_claims[AGS_CLAIM] == ags
    assert learner_claims[CLAIM + "custom"] == {"parcours": "socle-commun"}
    assert learner_claims[CLAIM + "context"] == {
        "id": "course-1",
        "label": "NUM",
        "title": "Numérique",
    }
    assert learner_claims[CLAIM + "launch_presentation"]["locale"] == "fr-FR"
    assert learner_claims[CLAIM + "tool_platform"] == {
        "guid": "lms-guid-1",
        "name": "Plateforme de formation",
        "product_family_code": "moodle",
    }
    assert teacher_claims[DL + "deep_linking_settings"] == settings
    assert (learner.role, teacher.role) == ("learner", "teacher")
