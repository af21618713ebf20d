"""The xAPI Profile document describes exactly what the builders emit, and minted IRIs resolve."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.xapi import samples
from xapi import vocabulary as v
from xapi.profile import REFERENCED_CONCEPTS, describe_iri, profile_document

BASE = samples.BASE_URL
DOCUMENT = profile_document(BASE + "/")
CONCEPTS = {concept["id"]: concept for concept in DOCUMENT["concepts"]}
TEMPLATES = {template["id"]: template for template in DOCUMENT["templates"]}
REFERENCED = {concept.iri for concept in REFERENCED_CONCEPTS}
EXTERNAL = {v.CMI5_PROGRESS, v.CMI5_MASTERY_SCORE} | REFERENCED  # ADL's and cmi5's
CONTEXT_ENV = "SOCLE_XAPI_PROFILES_CONTEXT"
SHARED_CONTEXT = Path(__file__).resolve().parents[3] / "shared" / "xapi" / "profiles-context.jsonld"


def _statements() -> list[dict[str, Any]]:
    open_builder = samples.make_builder(share_identity=True, include_solutions=True)
    statements = samples.full_attempt(sessions=True) + samples.full_attempt(
        open_builder, sessions=True
    )
    failing = replace(samples.outcome(), mastery=0.2)
    statements.append(samples.make_builder().passed_or_failed(samples.attempt(), failing))
    builder = samples.make_builder()
    statements.append(builder.abandoned(samples.attempt(), samples.STARTED, timedelta(0)))
    # read back from an LRS: every LRS sets ``version``
    return [{**statement, "version": "1.0.0"} for statement in statements]


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
        assert set(template.get(key, [])) <= found, (key, found)  # determining properties
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
    assert not REFERENCED & set(CONCEPTS)  # ADL's concepts are referenced, never redefined
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
        if "/xapi/activities/" in iri:  # activity metadata: an Activity Definition
            assert description["type"].startswith("http"), iri
        else:
            assert description["id"] == iri


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/xapi/activities/competence/2.1", {"type": v.OBJECTIVE.iri}),
        ("xapi/activities/skill/pieces-jointes-2", {"type": v.OBJECTIVE.iri}),
        (f"{BASE}/xapi/activities/parcours/socle-commun?x=1", {"type": v.ASSESSMENT.iri}),
        ("/xapi/activities/tube/mots-de-passe/", {"type": f"{BASE}/xapi/activity-types/tube"}),
        ("/xapi/activities/course/24a40c09-e804-5906-8cff-8f998933cbed", {"type": v.COURSE.iri}),
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


# --- the rules of xAPI Profiles 1.0 (xapi-profiles-structure.md §6–9) ------------------------

CONCEPT_TYPES = {
    "Verb": "verb",
    "ActivityType": "verb",
    "AttachmentUsageType": "verb",
    "ContextExtension": "extension",
    "ResultExtension": "extension",
    "ActivityExtension": "extension",
    "StateResource": "document",
    "AgentProfileResource": "document",
    "ActivityProfileResource": "document",
}
PATTERN_KINDS = ("alternates", "optional", "oneOrMore", "sequence", "zeroOrMore")


def _language_map(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(k, str) and isinstance(t, str) and t for k, t in value.items())
    )


def test_profile_follows_the_specification_rules() -> None:
    version = f"{BASE}/xapi/profile/v1.0"
    for key in ("id", "@context", "type", "conformsTo", "prefLabel", "definition", "author"):
        assert key in DOCUMENT, key
    assert [item["id"] for item in DOCUMENT["versions"]] == [version]
    assert DOCUMENT["author"]["type"] in ("Organization", "Person")
    assert DOCUMENT["author"]["name"]
    for concept in DOCUMENT["concepts"]:
        kind = CONCEPT_TYPES[concept["type"]]
        assert concept["inScheme"] == version
        assert _language_map(concept["prefLabel"])
        assert _language_map(concept["definition"])
        if kind == "extension":
            assert not ("schema" in concept and "inlineSchema" in concept)
            if concept["type"] == "ActivityExtension":
                assert "recommendedVerbs" not in concept
            else:
                assert "recommendedActivityTypes" not in concept
            json.loads(concept.get("inlineSchema", "{}"))  # a JSON Schema as a string
    for template in DOCUMENT["templates"]:
        assert template["type"] == "StatementTemplate"
        assert template["inScheme"] == version
        assert _language_map(template["prefLabel"])
        assert _language_map(template["definition"])
        assert not ("objectStatementRefTemplate" in template and "objectActivityType" in template)
        for rule in template["rules"]:
            assert rule["location"].startswith("$")
            assert {"presence", "any", "all", "none"} & set(rule), rule
            assert rule.get("presence", "included") in ("included", "excluded", "recommended")
            assert rule["location"] != "$.version"  # every LRS sets it
    patterns = {pattern["id"]: pattern for pattern in DOCUMENT["patterns"]}
    templates = set(TEMPLATES)

    def members(pattern: dict[str, Any]) -> list[str]:
        value = pattern[next(k for k in PATTERN_KINDS if k in pattern)]
        return value if isinstance(value, list) else [value]

    for pattern in patterns.values():
        assert pattern["type"] == "Pattern"
        assert sum(kind in pattern for kind in PATTERN_KINDS) == 1, pattern["id"]
        if pattern.get("primary"):
            assert _language_map(pattern["prefLabel"])
            assert _language_map(pattern["definition"])
        if "alternates" in pattern:
            assert len(pattern["alternates"]) >= 2
            for member in pattern["alternates"]:
                inner = patterns.get(member, {})
                assert "optional" not in inner
                assert "zeroOrMore" not in inner
        if "sequence" in pattern:
            assert len(pattern["sequence"]) >= 2
        assert set(members(pattern)) <= templates | set(patterns)

    def reaches(start: str, target: str, seen: frozenset[str] = frozenset()) -> bool:
        for member in members(patterns[start]):
            if member == target:
                return True
            if (
                member in patterns
                and member not in seen
                and reaches(member, target, seen | {member})
            ):
                return True
        return False

    assert not any(reaches(pid, pid) for pid in patterns)  # no pattern within itself


def _match(pattern_id: str, names: list[str], at: int, patterns: dict[str, Any]) -> set[int]:
    """Every position after matching ``pattern_id`` from ``at`` (template ids are names)."""
    if pattern_id not in patterns:
        return {at + 1} if at < len(names) and names[at] == pattern_id else set()
    pattern = patterns[pattern_id]
    if "sequence" in pattern:
        ends = {at}
        for member in pattern["sequence"]:
            ends = {e for start in ends for e in _match(member, names, start, patterns)}
        return ends
    if "alternates" in pattern:
        return {e for m in pattern["alternates"] for e in _match(m, names, at, patterns)}
    if "optional" in pattern:
        return {at} | _match(pattern["optional"], names, at, patterns)
    inner = pattern.get("zeroOrMore") or pattern["oneOrMore"]
    ends, frontier = set(), _match(inner, names, at, patterns)
    if "zeroOrMore" in pattern:
        ends.add(at)
    while frontier - ends:
        ends |= frontier
        frontier = {e for start in frontier for e in _match(inner, names, start, patterns)}
    return ends


def test_a_whole_attempt_follows_the_primary_pattern_in_timestamp_order() -> None:
    patterns = {pattern["id"]: pattern for pattern in DOCUMENT["patterns"]}
    primary = next(pid for pid, pattern in patterns.items() if pattern.get("primary"))
    statements = sorted(samples.full_attempt(sessions=True), key=lambda s: s["timestamp"])
    names = []
    for statement in statements:
        verb = statement["verb"]["id"]
        names.append(next(t["id"] for t in TEMPLATES.values() if t["verb"] == verb))
    assert len(names) in _match(primary, names, 0, patterns)
    assert len(names) - 1 not in _match(primary, names[:-1], 0, patterns)  # terminated needed


def _profiles_context() -> dict[str, Any]:
    """The JSON-LD context of xAPI Profiles, vendored (never fetched at test time).

    It is ADL's ``context/profile-context.jsonld`` (https://w3id.org/xapi/profiles/context),
    kept beside the repository in ``shared/xapi/profiles-context.jsonld`` (or at
    ``$SOCLE_XAPI_PROFILES_CONTEXT``).
    """
    path = Path(os.environ.get(CONTEXT_ENV) or SHARED_CONTEXT)
    if not path.is_file():
        # Not a peer that CI can install: the file is the specification's own data, which
        # the project keeps in its shared folder, not in this repository.
        pytest.skip(f"the xAPI Profiles JSON-LD context is not at {path} (set {CONTEXT_ENV})")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_profile_expands_with_the_profiles_json_ld_context() -> None:
    from pyld import jsonld

    context = _profiles_context()

    def loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        assert url == "https://w3id.org/xapi/profiles/context", url  # nothing else is loaded
        return {"contextUrl": None, "documentUrl": url, "document": context}

    expanded = jsonld.expand(DOCUMENT, {"documentLoader": loader})
    assert len(expanded) == 1
    node = expanded[0]
    profile = "https://w3id.org/xapi/profiles/ontology#"
    skos = "http://www.w3.org/2004/02/skos/core#"
    assert node["@id"] == f"{BASE}/xapi/profile"
    assert node["@type"] == [f"{profile}Profile"]
    concepts = node[f"{profile}concepts"]
    assert len(concepts) == len(DOCUMENT["concepts"])
    for concept in concepts:
        assert concept[f"{skos}inScheme"] == [{"@id": f"{BASE}/xapi/profile/v1.0"}]
        assert {item["@language"] for item in concept[f"{skos}prefLabel"]} == {"fr", "en"}
    templates = node[f"{profile}templates"]
    assert all(t[f"{profile}verb"][0]["@id"].startswith("http") for t in templates)
    primary = [
        p
        for p in node[f"{profile}patterns"]
        if p.get(f"{profile}primary")
        == [{"@value": True, "@type": "http://www.w3.org/2001/XMLSchema#boolean"}]
    ]
    assert len(primary) == 1
    # every key of the document is a term of the context: nothing silently dropped
    compacted = jsonld.compact(
        expanded, "https://w3id.org/xapi/profiles/context", {"documentLoader": loader}
    )
    assert set(compacted) == set(DOCUMENT)
    assert len(compacted["concepts"]) == len(DOCUMENT["concepts"])
    assert len(compacted["templates"]) == len(DOCUMENT["templates"])
