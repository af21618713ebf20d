"""Migration 0003: launches stored before the claim allow-list keep only the allowed claims."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from lti_tool.lti.launch import AGS_CLAIM, CLAIM
from lti_tool.lti.stored_claims import stored_claims
from lti_tool.migrate import upgrade_database
from tests.lti.test_key_encryption import SECRET, empty_database  # noqa: F401 - fixture

PERSONAL = {"name": "Camille Durand", "email": "camille.durand@ville.example.fr"}
OLD_CLAIMS = {
    **PERSONAL,
    "given_name": "Camille",
    "picture": "https://lms.example.fr/u/42.png",
    "sub": "agent-42",
    CLAIM + "message_type": "LtiResourceLinkRequest",
    CLAIM + "resource_link": {"id": "rl-1", "title": "Socle commun"},
    CLAIM + "custom": {"parcours": "socle-commun", "email": "$Person.email.primary"},
    CLAIM + "lis": {"person_sourcedid": "SIS-42"},
    AGS_CLAIM: {"lineitem": "https://lms.example.fr/ags/1", "scope": ["score"]},
}


def _insert_old_launch(url: str) -> None:
    engine = create_engine(url)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO platform (id, name, issuer, client_id, auth_login_url, "
                "auth_token_url, key_set_url, store_personal_data, created_at) VALUES "
                "(1, 'LMS', 'https://lms.example.fr', 'c', 'https://lms.example.fr/a', "
                "'https://lms.example.fr/t', 'https://lms.example.fr/k', false, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO deployment (id, platform_id, deployment_id, created_at) "
                "VALUES (1, 1, 'd', :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO launch (id, platform_id, deployment_pk, message_type, role, locale, "
                "claims, created_at, expires_at) VALUES ('launch-1', 1, 1, "
                "'LtiResourceLinkRequest', 'learner', 'fr', :claims, :now, :now)"
            ),
            {"claims": json.dumps(OLD_CLAIMS), "now": now},
        )
    engine.dispose()


def test_old_launches_lose_every_claim_outside_the_allow_list(empty_database: str) -> None:  # noqa: F811
    upgrade_database(empty_database, "0002", secret_key=SECRET)
    _insert_old_launch(empty_database)
    upgrade_database(empty_database, secret_key=SECRET)
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT claims FROM launch")).scalar_one()
    engine.dispose()
    claims = json.loads(stored) if isinstance(stored, str) else stored
    assert claims == stored_claims(OLD_CLAIMS)
    assert claims[AGS_CLAIM]["lineitem"] == "https://lms.example.fr/ags/1"
    assert claims[CLAIM + "custom"] == {"parcours": "socle-commun"}
    text_of_row = json.dumps(claims)
    for value in (*PERSONAL.values(), "agent-42", "SIS-42", "42.png"):
        assert value not in text_of_row
