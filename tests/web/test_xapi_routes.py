"""The xAPI profile and every IRI the tool mints resolve to a description."""

from __future__ import annotations

from flask.testing import FlaskClient

from xapi import vocabulary as v

BASE = "http://localhost"


def test_profile_is_served_as_json_ld(client: FlaskClient) -> None:
    response = client.get("/xapi/profile.jsonld")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    document = response.get_json(force=True)
    assert document["id"] == v.profile_iri(BASE)
    assert document["concepts"]
    assert document["templates"]


def test_activity_iris_resolve_with_their_names_from_the_content(client: FlaskClient) -> None:
    cases = {
        v.parcours_iri(BASE, "socle-commun"): "Socle commun des compétences numériques",
        v.competence_iri(BASE, "4.1"): "Sécuriser l'environnement numérique",
        v.tube_iri(BASE, "hameconnage"): None,
        v.skill_iri(BASE, "hameconnage-2"): None,
    }
    for iri, name in cases.items():
        response = client.get(iri.removeprefix(BASE))
        assert response.status_code == 200, iri
        description = response.get_json()
        assert description["type"].startswith("http"), iri  # an xAPI Activity Definition
        assert description["name"]["fr"]
        if name is not None:
            assert description["name"]["fr"] == name


def test_extension_and_profile_iris_resolve(client: FlaskClient) -> None:
    for name in ("lti", "answer-status", "skill-level", "levels"):
        iri = v.extension_iri(BASE, name)  # type: ignore[arg-type]
        response = client.get(iri.removeprefix(BASE))
        assert response.status_code == 200, iri
        assert response.get_json()["id"] == iri


def test_unknown_iris_are_404(client: FlaskClient) -> None:
    assert client.get("/xapi/activities/parcours/no-such-parcours").status_code == 404
    assert client.get("/xapi/activities/unknown-kind/x").status_code == 404
    assert client.get("/xapi/extensions/not-ours").status_code == 404


def test_the_profile_iri_serves_the_profile_document(client: FlaskClient) -> None:
    for path, iri in (
        ("/xapi/profile", v.profile_iri(BASE)),
        ("/xapi/profile/v1.0", v.profile_version_iri(BASE)),
    ):
        document = client.get(path).get_json()
        assert document["id"] == iri
        assert document["type"] == "Profile"
        assert document["templates"]


def test_challenge_iris_serve_their_interaction_metadata(client: FlaskClient) -> None:
    from lti_tool.web import socle

    with client.application.app_context():
        content = socle().catalogue.content
    challenge = next(c for c in content.challenges.values() if c.proposals)
    definition = client.get(v.challenge_iri(BASE, challenge.id).removeprefix(BASE)).get_json()
    assert definition["type"] == v.INTERACTION.iri
    assert definition["interactionType"] == "choice"
    assert len(definition["choices"]) == len(challenge.proposals)
    assert "correctResponsesPattern" not in definition  # metadata never tells the solution
    assert len(definition["name"]["fr"]) <= 80
    assert "**" not in definition["description"]["fr"]
