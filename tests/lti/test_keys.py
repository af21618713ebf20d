"""Key rotation: a new key is published before it signs; an old one stays published a while."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from lti_tool.lti.keys import KeyService
from lti_tool.models import utcnow


def test_rotation_publishes_before_signing_and_retires_after_retention(app: Flask) -> None:
    database = app.extensions["socle"].database
    with database.session() as session, session.begin():
        keys = KeyService(
            session, secret_key="test-secret", publish_delay=3600, retention=86400
        )
        first = keys.ensure_key()
        assert [k["kid"] for k in keys.jwks()["keys"]] == [first.kid]

        second = keys.rotate()
        published = {k["kid"] for k in keys.jwks()["keys"]}
        assert published == {first.kid, second.kid}  # published at once...
        assert keys.signing_key().kid == first.kid  # ...but not signing yet

        later = utcnow() + timedelta(hours=2)
        assert keys.signing_key(now=later).kid == second.kid
        assert {k["kid"] for k in keys.jwks(now=later)["keys"]} == {first.kid, second.kid}

        much_later = utcnow() + timedelta(days=3)
        assert {k["kid"] for k in keys.jwks(now=much_later)["keys"]} == {second.kid}
        statuses = {i.kid: i.status for i in keys.describe(now=much_later)}
        assert statuses == {first.kid: "retired", second.kid: "active"}


def test_jwks_endpoint_serves_public_keys_only(client: Flask) -> None:
    document = client.get("/lti/jwks").get_json()  # type: ignore[attr-defined]
    (key,) = document["keys"]
    assert key["kty"] == "RSA"
    assert key["alg"] == "RS256"
    assert key["use"] == "sig"
    assert key["kid"]
    assert "d" not in key
    assert "p" not in key
