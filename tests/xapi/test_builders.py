"""Statements of the profile: golden files, Ralph's strict model, and the rules of the contract.

Golden files are the reviewed, expected JSON of each statement kind (openedx
event-routing-backends' ``fixtures/expected``). After an intended change, regenerate them with
``SOCLE_UPDATE_GOLDEN=1 pytest tests/xapi/test_builders.py`` and review the diff.
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from tests.xapi import samples
from xapi import vocabulary as v
from xapi.builders import (
    StatementBuilder,
    format_duration,
    format_response,
    format_timestamp,
    statement_id,
)

GOLDEN = Path(__file__).parent / "golden"


def kinds(attempt_id: uuid.UUID = samples.ATTEMPT_ID) -> dict[str, dict[str, Any]]:
    """One statement per golden file name (for another attempt when ``attempt_id`` is given)."""
    plain = samples.make_builder()
    open_ = samples.make_builder(share_identity=True, include_solutions=True)
    attempt = samples.attempt(attempt_id)
    answers = samples.answers()
    outcome = samples.outcome()
    failing = replace(outcome, mastery=0.31)
    return {
        "attempted": plain.attempt_started(attempt, samples.STARTED),
        "answered-qcu-ok": plain.challenge_answered(attempt, answers[0]),
        "answered-qcm-ko": plain.challenge_answered(attempt, answers[1]),
        "answered-skipped": plain.challenge_answered(attempt, answers[2]),
        "answered-timedout": plain.challenge_answered(attempt, answers[3]),
        "answered-qroc": plain.challenge_answered(attempt, answers[4]),
        "answered-qrocm": plain.challenge_answered(attempt, answers[5]),
        "answered-identity-and-solutions": open_.challenge_answered(attempt, answers[1]),
        "progressed": plain.progressed(
            attempt, answers_count=5, progress=50, timestamp=answers[4].timestamp
        ),
        "completed": plain.completed(attempt, outcome),
        "passed": plain.passed_or_failed(attempt, outcome),
        "failed": plain.passed_or_failed(attempt, failing),
        "scored": plain.competence_scored(attempt, outcome.levels[0], outcome.timestamp),
        "suspended": plain.suspended(attempt, answers[2].timestamp),
        "resumed": plain.resumed(
            attempt, answers[2].timestamp, samples.STARTED + timedelta(hours=1)
        ),
        "terminated": plain.terminated(attempt, outcome.timestamp, timedelta(minutes=17)),
        "abandoned": plain.abandoned(attempt, answers[2].timestamp, timedelta(minutes=2)),
    }


KINDS = kinds()


@pytest.mark.parametrize("name", sorted(KINDS))
def test_statement_matches_its_golden_file(name: str) -> None:
    path = GOLDEN / f"{name}.json"
    statement = KINDS[name]
    if os.environ.get("SOCLE_UPDATE_GOLDEN") == "1":
        path.write_text(
            json.dumps(statement, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert statement == expected


def test_every_golden_file_is_still_produced() -> None:
    assert {path.stem for path in GOLDEN.glob("*.json")} == set(KINDS)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_statement_validates_with_ralph_strict_model(name: str) -> None:
    BaseXapiStatement.model_validate(KINDS[name])


def test_a_whole_attempt_validates_and_has_unique_ids() -> None:
    statements = samples.full_attempt(sessions=True)
    for statement in statements:
        BaseXapiStatement.model_validate(statement)
    ids = [statement["id"] for statement in statements]
    assert len(ids) == len(set(ids)) == 15


def test_timestamps_strictly_increase_within_an_attempt() -> None:
    """Ending statements used to share one timestamp (completed, verdict, every scored)."""
    statements = samples.full_attempt(sessions=True)
    stamps = [statement["timestamp"] for statement in statements]
    assert all(a < b for a, b in itertools.pairwise(stamps)), stamps
    ended = samples.make_builder().attempt_ended(samples.attempt(), samples.outcome())
    assert [s["verb"]["id"] for s in ended] == [
        v.COMPLETED.iri,
        v.PASSED.iri,
        v.SCORED.iri,
        v.SCORED.iri,
        v.TERMINATED.iri,
    ]
    assert len({s["timestamp"] for s in ended}) == len(ended)


def test_ralph_would_reject_what_tincan_emits_unfixed() -> None:
    """The check is not vacuous: Ralph refuses an empty value such as a blank response."""
    broken = json.loads(json.dumps(KINDS["answered-qcu-ok"]))
    broken["result"]["response"] = ""
    with pytest.raises(ValueError, match="empty"):
        BaseXapiStatement.model_validate(broken)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_contract_common_to_every_statement(name: str) -> None:
    statement = KINDS[name]
    assert "version" not in statement
    assert statement["context"]["revision"] == samples.CONTENT_VERSION
    assert statement["actor"]["account"] == {
        "homePage": samples.ISSUER,
        "name": "sub-7f3a",
    }
    context = statement["context"]
    assert context["registration"] == str(samples.ATTEMPT_ID)
    assert context["platform"] == "Socle 1.4.0"
    assert context["language"] == "fr"
    category = context["contextActivities"]["category"]
    assert [activity["id"] for activity in category] == [f"{samples.BASE_URL}/xapi/profile/v1.0"]
    course = context["contextActivities"]["grouping"][-1]
    assert course == {
        "id": v.course_iri(samples.BASE_URL, samples.ISSUER, "cours-42"),
        "objectType": "Activity",
        "definition": {
            "type": "http://adlnet.gov/expapi/activities/course",
            "name": {"und": "Compétences numériques — agents d'accueil"},
        },
    }
    lti = context["extensions"][f"{samples.BASE_URL}/xapi/extensions/lti"]
    assert lti == {
        "iss": samples.ISSUER,
        "deployment_id": "deploiement-1",
        "context_id": "cours-42",
        "context_title": "Compétences numériques — agents d'accueil",
        "resource_link_id": "lien-7",
    }
    assert statement["timestamp"].endswith("Z")
    uuid.UUID(statement["id"])


def test_identity_and_solutions_only_when_the_registration_allows() -> None:
    plain = KINDS["answered-qcm-ko"]
    shared = KINDS["answered-identity-and-solutions"]
    assert "name" not in plain["actor"]
    assert "correctResponsesPattern" not in plain["object"]["definition"]
    email_iri = f"{samples.BASE_URL}/xapi/extensions/email"
    assert email_iri not in plain["context"]["extensions"]
    assert shared["actor"]["name"] == "Camille Agent"
    assert shared["actor"]["account"]["name"] == "sub-7f3a"
    assert "mbox" not in shared["actor"]  # one IFI per agent: the account
    assert shared["context"]["extensions"][email_iri] == "camille.agent@example.fr"
    assert shared["object"]["definition"]["correctResponsesPattern"] == ["2[,]4"]


def test_ids_are_deterministic_and_distinguish_what_they_must() -> None:
    again = kinds()
    assert {name: item["id"] for name, item in again.items()} == {
        name: item["id"] for name, item in KINDS.items()
    }
    # the same challenge answered twice in an attempt: two statements
    answers = samples.answers()
    assert KINDS["answered-qcm-ko"]["id"] != KINDS["answered-timedout"]["id"]
    assert answers[1].challenge == answers[3].challenge
    other = samples.attempt(uuid.UUID("11111111-2222-4333-8444-555555555555"))
    builder = StatementBuilder(samples.BASE_URL)
    assert builder.attempt_started(other, samples.STARTED)["id"] != KINDS["attempted"]["id"]
    assert statement_id(samples.ATTEMPT_ID, "parcours:socle-commun", v.ATTEMPTED.iri) == (
        uuid.UUID(KINDS["attempted"]["id"])
    )


def test_tincan_output_is_corrected_for_xapi_1_0_3() -> None:
    answered = KINDS["answered-qcm-ko"]
    assert answered["result"]["duration"] == "PT42.34S"  # tincan: PT42.345S (µs precision)
    assert answered["timestamp"] == "2026-03-02T09:31:03.845Z"  # tincan: +00:00, µs
    scored = KINDS["scored"]["result"]["score"]
    assert scored == {"raw": 3, "min": 0, "max": 8, "scaled": 0.375}
    assert all(isinstance(scored[key], int) for key in ("raw", "min", "max"))


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(seconds=5), "PT5S"),
        (timedelta(seconds=5.129), "PT5.12S"),
        (timedelta(seconds=0.5), "PT0.5S"),
        (timedelta(minutes=1), "PT1M"),
        (timedelta(minutes=23, seconds=5.5), "PT23M5.5S"),
        (timedelta(hours=26, seconds=0.01), "PT26H0.01S"),
    ],
)
def test_durations_are_iso8601_to_the_hundredth(delta: timedelta, expected: str) -> None:
    assert format_duration(delta) == expected


def test_timestamps_are_utc_and_must_be_aware() -> None:
    paris = timezone(timedelta(hours=1))
    assert format_timestamp(datetime(2026, 3, 2, 10, 0, 0, 999_999, tzinfo=paris)) == (
        "2026-03-02T09:00:00.999Z"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2026, 3, 2, 10, 0))
    naive = replace(samples.answers()[0], timestamp=datetime(2026, 3, 2, 10, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        StatementBuilder(samples.BASE_URL).challenge_answered(samples.attempt(), naive)


@pytest.mark.parametrize(
    ("challenge_type", "value", "expected"),
    [
        ("qcu", "2", "2"),
        ("qcm", ("10", "2", "1"), "1[,]2[,]10"),
        ("qroc", "Mairie de Lille", "Mairie de Lille"),
        ("qrocm-ind", (("b", "2"), ("a", "1")), "a[:]1[,]b[:]2"),
        ("qrocm-dep", (("x", "oui"),), "x[:]oui"),
    ],
)
def test_responses_use_the_xapi_interaction_format(
    challenge_type: v.ChallengeType, value: Any, expected: str
) -> None:
    assert format_response(challenge_type, value) == expected


def test_interaction_types_follow_the_challenge_type() -> None:
    types = {
        name: KINDS[name]["object"]["definition"]["interactionType"]
        for name in KINDS
        if name.startswith("answered")
    }
    assert types["answered-qcu-ok"] == types["answered-qcm-ko"] == "choice"
    assert types["answered-qroc"] == "fill-in"
    assert types["answered-qrocm"] == "performance"
    assert KINDS["answered-qrocm"]["object"]["definition"]["steps"] == [
        {"id": "longueur", "description": {"fr": "Longueur minimale"}},
        {"id": "familles", "description": {"fr": "Familles de caractères"}},
    ]
    assert KINDS["answered-qrocm"]["result"]["response"] == "familles[:]4[,]longueur[:]12"
    assert "choices" in KINDS["answered-qcu-ok"]["object"]["definition"]
    qcu = KINDS["answered-qcu-ok"]["object"]["definition"]
    assert qcu["name"] == {
        "fr": "Envoyer le compte rendu à un collègue",
        "en": "Sending the report to a colleague",
    }
    assert qcu["description"]["fr"].startswith("Vous devez envoyer")
    assert KINDS["answered-qroc"]["object"]["definition"]["name"] == {
        "fr": "Épreuve pj-poids-1",
        "en": "Challenge pj-poids-1",
    }
    assert "response" not in KINDS["answered-skipped"]["result"]
    assert KINDS["answered-timedout"]["result"]["extensions"] == {
        f"{samples.BASE_URL}/xapi/extensions/answer-status": "timedout"
    }


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda b, a, o: b.completed(a, replace(o, mastery=1.2)), "fractions"),
        (
            lambda b, a, o: b.competence_scored(a, replace(o.levels[0], level=9), o.timestamp),
            "levels run",
        ),
        (
            lambda b, a, o: b.progressed(a, answers_count=5, progress=101, timestamp=o.timestamp),
            "percentage",
        ),
        (
            lambda b, a, o: b.passed_or_failed(samples.attempt(threshold=None), o),
            "no mastery threshold",
        ),
    ],
)
def test_out_of_range_values_are_refused(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(StatementBuilder(samples.BASE_URL), samples.attempt(), samples.outcome())


def test_attempt_ended_without_threshold_has_no_verdict() -> None:
    builder = StatementBuilder(samples.BASE_URL)
    verbs = [
        statement["verb"]["id"]
        for statement in builder.attempt_ended(samples.attempt(threshold=None), samples.outcome())
    ]
    assert verbs == [v.COMPLETED.iri, v.SCORED.iri, v.SCORED.iri, v.TERMINATED.iri]


def test_completed_carries_the_knowledge_elements() -> None:
    """A consumer rebuilds the per-skill table (validated/failed, direct/inferred) from it."""
    result = KINDS["completed"]["result"]
    elements = result["extensions"][f"{samples.BASE_URL}/xapi/extensions/knowledge-elements"]
    assert elements == [
        {
            "skill": "mots-de-passe-3",
            "competence": "4.1",
            "tube": "mots-de-passe",
            "level": 3,
            "status": "failed",
            "source": "direct",
        },
        {
            "skill": "mots-de-passe-4",
            "competence": "4.1",
            "tube": "mots-de-passe",
            "level": 4,
            "status": "failed",
            "source": "inferred",
        },
        {
            "skill": "pieces-jointes-1",
            "competence": "2.1",
            "tube": "pieces-jointes",
            "level": 1,
            "status": "validated",
            "source": "inferred",
        },
        {
            "skill": "pieces-jointes-2",
            "competence": "2.1",
            "tube": "pieces-jointes",
            "level": 2,
            "status": "validated",
            "source": "direct",
        },
    ]


def test_content_activities_use_the_stable_iri_base() -> None:
    """Two deployments of one content emit the same activity ids with a shared IRI base."""
    stable = "https://referentiel.socle.example.org"
    built = [
        StatementBuilder(base, iri_base=stable).challenge_answered(
            samples.attempt(), samples.answers()[0]
        )
        for base in ("https://socle.lille.example.fr", "https://socle.namur.example.be")
    ]
    assert (
        built[0]["object"]["id"]
        == built[1]["object"]["id"]
        == (f"{stable}/xapi/activities/challenge/pj-joindre-1")
    )
    grouping = [a["id"] for a in built[0]["context"]["contextActivities"]["grouping"]]
    assert all(iri.startswith(stable + "/xapi/activities/") for iri in grouping)
    assert built[0]["context"]["contextActivities"]["parent"][0]["id"] == (
        f"{stable}/xapi/activities/parcours/socle-commun"
    )
    # what resolves on the deployment stays under its own URL
    assert "https://socle.lille.example.fr/xapi/extensions/lti" in built[0]["context"]["extensions"]
    default = StatementBuilder(samples.BASE_URL).attempt_started(samples.attempt(), samples.STARTED)
    assert default["object"]["id"] == f"{samples.BASE_URL}/xapi/activities/parcours/socle-commun"


def test_course_ids_depend_on_platform_and_context() -> None:
    a = v.course_iri(samples.BASE_URL, samples.ISSUER, "cours-42")
    assert a == v.course_iri(samples.BASE_URL + "/", samples.ISSUER, "cours-42")
    assert a != v.course_iri(samples.BASE_URL, "https://autre-lms.example.fr", "cours-42")
    assert a != v.course_iri(samples.BASE_URL, samples.ISSUER, "cours-43")
    no_context = replace(samples.attempt(), lti=replace(samples.attempt().lti, context_id=None))
    statement = StatementBuilder(samples.BASE_URL).attempt_started(no_context, samples.STARTED)
    assert "grouping" not in statement["context"]["contextActivities"]


def test_minted_iris_are_percent_encoded_single_segments() -> None:
    assert v.activity_iri("https://x.fr/app/", "skill", "a b/c") == (
        "https://x.fr/app/xapi/activities/skill/a%20b%2Fc"
    )
    assert v.parse_activity_path("/xapi/activities/skill/a%20b%2Fc") == ("skill", "a b/c")
    with pytest.raises(ValueError, match="absolute"):
        v.normalize_base_url("socle.example.fr")


def test_answered_from_kept_parts_is_the_whole_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """``answered`` statements assembled from the serialised parts kept per attempt, challenge
    and skill are the statements tincan builds whole, to the byte and the key order — for
    every answer kind, both registration policies, a course-less launch, and a value that
    changed under the same id (a new key, never a stale part)."""
    from xapi import builders

    builders._ANSWERED_PARTS.clear()
    whole = builders._StatementKind.build
    built_whole: list[str] = []

    def counting(kind: Any) -> dict[str, Any]:
        built_whole.append(kind.answer.challenge.id)
        return whole(kind)

    monkeypatch.setattr(builders._StatementKind, "build", counting)
    attempt = samples.attempt()
    no_course = replace(
        samples.attempt(uuid.UUID(int=7)),
        lti=replace(attempt.lti, context_id=None, context_title=None),
    )
    answers = samples.answers()
    relevelled = replace(answers[0], skill=replace(answers[0].skill, level=5))
    cases = [
        (builder, values, answer)
        for builder in (
            samples.make_builder(),
            samples.make_builder(share_identity=True, include_solutions=True),
        )
        for values in (attempt, no_course)
        for answer in [*answers, relevelled]
    ]
    for round_ in (1, 2):
        built_whole.clear()
        for builder, values, answer in cases:
            kept = builder.challenge_answered(values, answer)
            reference = whole(builders._ChallengeAnswered(builder, values, answer))
            assert json.dumps(kept) == json.dumps(reference)
        if round_ == 2:
            assert built_whole == []  # every statement of the second round came from parts
    assert len(builders._ANSWERED_PARTS.parts) > 0
