"""The xAPI Profile document describes exactly what the builders emit, and minted IRIs resolve."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.xapi import samples
from xapi import vocabulary as v
from xapi.builders import StatementBuilder
from xapi.profile import describe_iri, profile_document

BASE = samples.BASE_URL
DOCUMENT = profile_document(BASE + "/")
CONCEPTS = {concept["id"]: concept for concept in DOCUMENT["concepts"]}
TEMPLATES = {template["id"]: template for template in DOCUMENT["templates"]}
EXTERNAL = {v.CMI5_PROGRESS, v.CMI5_MASTERY_SCORE}  # cmi5's own extensions, not redefined


def _statements() -> list[dict[str, Any]]:
    open_builder = StatementBuilder(BASE, share_identity=True, include_solutions=True)
    statements = samples.full_attempt() + samples.full_attempt(open_builder)
    failing = samples.outcome().__class__(**{**samples.outcome().__dict__, "mastery": 0.2})
    statements.append(StatementBuilder(BASE).passed_or_failed(samples.attempt(), failing))
    return statements


STATEMENTS = _statements()


def _resolve(statement: dict[str, Any], location: str) -> list[Any]:
    """Evaluate the simple JSONPath locations the templates use ($.a.b, ['iri'])."""
    tokens = re.findall(r"\.([A-Za-z]+)|\['([^']+)'\]", location.removeprefix("$"))
    current: Any = statement
    for name, key in tokens:
        step = name or key
        if not isinstance(current, dict) or step not in current:
            return []
        current = current[step]
    return [current]


def _validate(value: Any, schema: dict[str, Any]) -> None:
    """The JSON Schema keywords the profile's inline schemas use."""
    kind = schema.get("type")
    if kind == "integer":
        assert isinstance(value, int)
        assert not isinstance(value, bool)
        assert schema.get("minimum", value) <= value <= schema.get("maximum", value)
    if kind == "string":
        assert isinstance(value, str)
    if "enum" in schema:
        assert value in schema["enum"]
    if kind == "object":
        assert isinstance(value, dict)
        assert set(schema.get("required", [])) <= set(value)
        for key, item in value.items():
            if key in schema.get("properties", {}):
                _validate(item, schema["properties"][key])
                continue
            matched = [
                s for p, s in schema.get("patternProperties", {}).items() if re.search(p, key)
            ]
            assert matched or schema.get("additionalProperties", True), key
            for sub in matched:
                _validate(item, sub)


def test_profile_document_header() -> None:
    assert DOCUMENT["@context"] == "https://w3id.org/xapi/profiles/context"
    assert DOCUMENT["id"] == f"{BASE}/xapi/profile"
    assert DOCUMENT["type"] == "Profile"
    assert DOCUMENT["conformsTo"] == "https://w3id.org/xapi/profiles#1.0"
    version = DOCUMENT["versions"][0]["id"]
    assert version == f"{BASE}/xapi/profile/v1.0"
    for item in DOCUMENT["concepts"] + DOCUMENT["templates"] + DOCUMENT["patterns"]:
        assert item["inScheme"] == version
        assert set(item["prefLabel"]) == {"fr", "en"}
    json.dumps(DOCUMENT)  # serialisable as served


@pytest.mark.parametrize("index", range(len(STATEMENTS)))
def test_every_statement_matches_a_template_of_the_profile(index: int) -> None:
    statement = STATEMENTS[index]
    verb = statement["verb"]["id"]
    candidates = [t for t in TEMPLATES.values() if t["verb"] == verb]
    assert len(candidates) == 1, verb
    template = candidates[0]
    assert statement["object"]["definition"]["type"] == template["objectActivityType"]
    activities = statement["context"]["contextActivities"]
    for key, field in [
        ("contextParentActivityType", "parent"),
        ("contextGroupingActivityType", "grouping"),
        ("contextCategoryActivityType", "category"),
    ]:
        found = {a["definition"]["type"] for a in activities.get(field, [])}
        assert found == set(template.get(key, [])), (key, found)
    for rule in template["rules"]:
        values = _resolve(statement, rule["location"])
        if rule["presence"] == "included":
            assert values, rule["location"]
        if rule["presence"] == "excluded":
            assert not values, rule["location"]
        if values and "all" in rule:
            assert values[0] in rule["all"], rule
        if values and "any" in rule:
            assert values[0] in rule["any"], rule


def test_every_iri_the_builders_use_is_a_concept() -> None:
    used: set[str] = set()
    for statement in STATEMENTS:
        used.add(statement["verb"]["id"])
        used.add(statement["object"]["definition"]["type"])
        for activities in statement["context"]["contextActivities"].values():
            used.update(activity["definition"]["type"] for activity in activities)
        used.update(statement["context"].get("extensions", {}))
        used.update(statement.get("result", {}).get("extensions", {}))
    assert used - EXTERNAL <= set(CONCEPTS)
    own_extensions = {iri for iri in CONCEPTS if "/xapi/extensions/" in iri}
    assert own_extensions <= used  # and nothing described is unused


def test_extension_values_follow_their_inline_schemas() -> None:
    schemas = {
        iri: json.loads(concept["inlineSchema"])
        for iri, concept in CONCEPTS.items()
        if "inlineSchema" in concept
    }
    checked = 0
    for statement in STATEMENTS:
        for part in (statement["context"], statement.get("result", {})):
            for iri, value in part.get("extensions", {}).items():
                if iri in schemas:
                    _validate(value, schemas[iri])
                    checked += 1
    assert checked > 40
    with pytest.raises(AssertionError):
        _validate({"9.9.9": 12}, schemas[f"{BASE}/xapi/extensions/levels"])


def test_patterns_reference_existing_templates_and_patterns() -> None:
    patterns = {pattern["id"]: pattern for pattern in DOCUMENT["patterns"]}
    known = set(TEMPLATES) | set(patterns)
    for pattern in patterns.values():
        for key in ("sequence", "alternates"):
            assert set(pattern.get(key, [])) <= known
        for key in ("zeroOrMore", "optional", "oneOrMore"):
            if key in pattern:
                assert pattern[key] in known
    assert [p["id"] for p in patterns.values() if p.get("primary")] == [
        f"{BASE}/xapi/profile/patterns/attempt"
    ]


def test_every_minted_iri_resolves_to_a_description() -> None:
    minted: set[str] = set()
    for statement in STATEMENTS:
        minted.add(statement["object"]["id"])
        for activities in statement["context"]["contextActivities"].values():
            minted.update(activity["id"] for activity in activities)
        for part in (statement["context"], statement.get("result", {})):
            minted.update(iri for iri in part.get("extensions", {}) if iri.startswith(BASE))
    minted.update(iri for iri in CONCEPTS if iri.startswith(BASE))
    minted.update(TEMPLATES)
    assert len(minted) > 20
    for iri in minted:
        description = describe_iri(BASE, iri.removeprefix(BASE))
        assert description is not None, iri
        assert description["id"] == iri


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/xapi/activities/competence/2.1", {"kind": "competence", "identifier": "2.1"}),
        ("xapi/activities/skill/pieces-jointes-2", {"kind": "skill"}),
        (f"{BASE}/xapi/activities/parcours/socle-commun?x=1", {"kind": "parcours"}),
        (
            "/xapi/activities/tube/mots-de-passe/",
            {"activityType": f"{BASE}/xapi/activity-types/tube"},
        ),
        ("/xapi/extensions/answer-status", {"type": "ResultExtension"}),
        ("/xapi/profile", {"type": "Profile"}),
        ("/xapi/profile/v1.0", {"type": "Profile"}),
    ],
)
def test_describe_iri(path: str, expected: dict[str, Any]) -> None:
    description = describe_iri(BASE, path)
    assert description is not None
    assert {key: description[key] for key in expected} == expected


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/xapi/activities/unknown/x",
        "/xapi/activities/skill",
        "/xapi/extensions/nope",
        "/xapi/activities/skill/a/b",
        "/lti/launch",
    ],
)
def test_describe_iri_is_none_for_what_socle_did_not_mint(path: str) -> None:
    assert describe_iri(BASE, path) is None


def test_extension_description_carries_its_schema_as_json() -> None:
    description = describe_iri(BASE, "/xapi/extensions/levels")
    assert description is not None
    assert description["inlineSchema"]["type"] == "object"
