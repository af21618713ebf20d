"""Builders of the statements of Socle's xAPI profile, from plain frozen values.

Why plain values: the web app calls these inside its own service-layer transaction (the player
that records answers is written later), so nothing here knows about Flask, the database or the
domain classes; the caller copies the few values a statement needs into the dataclasses below.

Why tincan, and why a post-processing step: ``tincan`` gives typed statement objects and their
serialisation (the architecture chose it), but its output is not what a strict LRS consumer
expects in four places, which :func:`finalize` corrects after ``to_json()``:

* it always writes ``"version": "1.0.3"``; the xAPI 1.0.3 spec has the LRS set ``version``, and
  our profile says statements carry none (an LRS then stores ``1.0.0``);
* timestamps are ``datetime.isoformat()`` (microseconds, ``+00:00``); we emit UTC with
  millisecond precision and ``Z``, the precision LRSs store, so a resend compares equal;
* durations get 6 decimals of seconds and zero-padded fields (``PT01H02M05.123456S``); xAPI says
  durations SHOULD be truncated to 0.01 s, so we write ``PT1H2M5.12S``;
* scores come out as floats (``3.0``) even for integer levels; we keep integers integral.

Each statement kind is a small class with one method per part (actor, verb, object, result,
context), as openedx event-routing-backends does, and a deterministic ``id``: uuid5 over the
attempt, the subject, the verb and the answer's sequence number, so a resend never duplicates.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from tincan import (
    Activity,
    ActivityDefinition,
    ActivityList,
    Agent,
    AgentAccount,
    Context,
    ContextActivities,
    Extensions,
    InteractionComponent,
    InteractionComponentList,
    LanguageMap,
    Result,
    Score,
    Statement,
    Verb,
)

from xapi import vocabulary as v

JsonObject = dict[str, Any]

STATEMENT_ID_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "urn:socle:xapi:statement")
"""Namespace of the uuid5 statement ids. Never change it: ids already in LRSs depend on it."""

ResponseValue = str | tuple[str, ...] | tuple[tuple[str, str], ...]
"""A learner's raw answer: one choice/text, several choices, or (key, value) pairs (qrocm)."""


# --- Plain values -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A text French first, optionally in English (content files give both when they can)."""

    fr: str
    en: str | None = None

    def language_map(self) -> dict[str, str]:
        """The xAPI language map; empty strings are dropped because Ralph refuses them."""
        values = {"fr": self.fr, "en": self.en}
        return {lang: text for lang, text in values.items() if text}


@dataclass(frozen=True)
class Learner:
    """The agent as the LMS knows them; pseudonymous unless the registration shares identity."""

    issuer: str
    """The platform's issuer (``iss``), used as ``account.homePage``."""
    sub: str
    """The LTI ``sub``: stable, opaque, per platform."""
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class LtiContext:
    """Where the launch came from, copied into the ``<base>/xapi/extensions/lti`` extension."""

    issuer: str
    deployment_id: str
    context_id: str | None = None
    context_title: str | None = None
    resource_link_id: str | None = None


@dataclass(frozen=True)
class Parcours:
    """A parcours as statements name it; ``mastery_threshold`` is a fraction 0–1 (50 % → 0.5)."""

    id: str
    title: Text
    description: Text | None = None
    mastery_threshold: float | None = None


@dataclass(frozen=True)
class Attempt:
    """One agent's run through one parcours: its UUID is the xAPI ``registration``."""

    id: uuid.UUID
    learner: Learner
    lti: LtiContext
    parcours: Parcours
    locale: str = "fr"
    content_version: str | None = None
    """The version of the content the attempt runs on, sent as ``context.revision``."""


@dataclass(frozen=True)
class Competence:
    """A competence of the framework, coded ``1.1`` … ``5.2``."""

    code: str
    title: Text


@dataclass(frozen=True)
class Tube:
    """A tube (sujet) of a competence."""

    id: str
    title: Text


@dataclass(frozen=True)
class Skill:
    """A skill (acquis): one (tube, level) pair, id ``<tube>-<level>``."""

    id: str
    level: int
    description: Text | None = None


@dataclass(frozen=True)
class Choice:
    """A proposal of a qcu/qcm, identified by its 1-based index as a string."""

    id: str
    text: Text


@dataclass(frozen=True)
class Challenge:
    """A challenge as an interaction activity.

    ``instruction`` is plain text (the caller strips the Markdown) and becomes the activity's
    ``description``; ``name`` is a short name (by default ``Épreuve <id>``). ``choices`` are
    the proposals of a qcu/qcm, ``steps`` the fields of a qrocm (xAPI ``performance``).
    ``correct_responses`` are xAPI response patterns (see :func:`format_response`); they are
    sent only when the registration asks for solutions (``include_solutions``), since solutions
    are secret by default.
    """

    id: str
    type: v.ChallengeType
    instruction: Text
    choices: tuple[Choice, ...] = ()
    correct_responses: tuple[str, ...] = ()
    name: Text | None = None
    steps: tuple[Choice, ...] = ()

    def short_name(self) -> Text:
        """The name shown by LRS dashboards: given, or ``Épreuve <id>`` / ``Challenge <id>``."""
        return self.name or Text(f"Épreuve {self.id}", f"Challenge {self.id}")


@dataclass(frozen=True)
class Answer:
    """One answered, skipped or timed-out challenge, ``sequence`` counting from 1 per attempt."""

    sequence: int
    challenge: Challenge
    competence: Competence
    tube: Tube
    skill: Skill
    status: v.AnswerStatus
    response: ResponseValue | None
    duration: timedelta
    timestamp: datetime


@dataclass(frozen=True)
class CompetenceLevel:
    """The level (0–8) reached in one competence at the end of an attempt."""

    competence: Competence
    level: int


@dataclass(frozen=True)
class KnowledgeElement:
    """Per attempt and skill: validated or failed, asked (direct) or deduced (inferred)."""

    skill_id: str
    competence_code: str
    tube_id: str
    level: int
    status: v.KnowledgeStatus
    source: v.KnowledgeSource

    def as_json(self) -> dict[str, Any]:
        """The item of the ``knowledge-elements`` result extension."""
        return {
            "skill": self.skill_id,
            "competence": self.competence_code,
            "tube": self.tube_id,
            "level": _check_level(self.level),
            "status": self.status,
            "source": self.source,
        }


@dataclass(frozen=True)
class Outcome:
    """What an ended attempt measured: mastery 0–1, time on task, levels, Pix-style score.

    ``duration`` is the time on task (active intervals only, see ``docs/xapi.md``), not the
    wall-clock time from start to finish. ``knowledge_elements``: one per skill settled.
    """

    mastery: float
    duration: timedelta
    levels: tuple[CompetenceLevel, ...]
    pix: int
    timestamp: datetime
    knowledge_elements: tuple[KnowledgeElement, ...] = ()


# --- Formatting helpers -----------------------------------------------------------------------


def format_response(challenge_type: v.ChallengeType, value: ResponseValue) -> str:
    """Write a raw answer in the xAPI interaction format of the challenge's interaction type.

    qcu: ``"2"``; qcm: ``"1[,]3"`` (sorted, the rule ignores order); qroc: the text;
    qrocm-*: ``"key[:]value[,]key[:]value"`` sorted by key ("other" has no standard format, we
    reuse the separators of the matching/performance formats).
    """
    if challenge_type in ("qcu", "qroc"):
        if not isinstance(value, str):
            raise TypeError(f"a {challenge_type} answer is one string, got {value!r}")
        return value
    if challenge_type == "qcm":
        if isinstance(value, str):
            return value
        items = [item for item in value if isinstance(item, str)]
        if len(items) != len(value):
            raise TypeError(f"a qcm answer is a tuple of choice ids, got {value!r}")
        return "[,]".join(sorted(items, key=_choice_sort_key))
    if isinstance(value, str):
        raise TypeError(f"a {challenge_type} answer is (key, value) pairs, got {value!r}")
    pairs = [item for item in value if isinstance(item, tuple)]
    if len(pairs) != len(value):
        raise TypeError(f"a {challenge_type} answer is (key, value) pairs, got {value!r}")
    return "[,]".join(f"{key}[:]{text}" for key, text in sorted(pairs))


def _choice_sort_key(choice_id: str) -> tuple[int, str]:
    """Sort ``"10"`` after ``"9"``: choice ids are 1-based indexes written as strings."""
    return (int(choice_id), "") if choice_id.isdigit() else (10**9, choice_id)


def format_timestamp(value: datetime) -> str:
    """UTC, millisecond precision, ``Z``: what LRSs store, so a resend compares equal."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"statement timestamps must be timezone-aware, got naive {value!r}")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def format_duration(value: timedelta) -> str:
    """ISO 8601 duration truncated to 0.01 s, as xAPI recommends (``PT1H2M5.12S``)."""
    if value < timedelta(0):
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    centis = (value.days * 86_400 + value.seconds) * 100 + value.microseconds // 10_000
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6_000)
    seconds, hundredths = divmod(rest, 100)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if hundredths:
        text += f"{seconds}.{hundredths:02d}".rstrip("0") + "S"
    elif seconds or text == "PT":
        text += f"{seconds}S"
    return text


TICK: Final = timedelta(milliseconds=1)
"""The smallest step between two statements' timestamps: LRSs store milliseconds."""


def statement_id(attempt_id: uuid.UUID, subject: str, verb: str, sequence: int = 0) -> uuid.UUID:
    """Deterministic id: the same event always gets the same id, so a resend is a no-op."""
    return uuid.uuid5(STATEMENT_ID_NAMESPACE, f"{attempt_id}|{subject}|{verb}|{sequence}")


def finalize(statement: Statement) -> JsonObject:
    """Serialise with tincan, then correct what tincan gets wrong (see the module docstring)."""
    data: JsonObject = json.loads(statement.to_json())
    data.pop("version", None)
    if isinstance(statement.timestamp, datetime):
        data["timestamp"] = format_timestamp(statement.timestamp)
    result = data.get("result")
    if isinstance(result, dict) and statement.result is not None:
        _finalize_result(result, statement.result)
    return data


def _finalize_result(result: JsonObject, tincan_result: Result) -> JsonObject:
    """The corrections of :func:`finalize` on a serialised ``result``."""
    if isinstance(tincan_result.duration, timedelta):
        result["duration"] = format_duration(tincan_result.duration)
    score = result.get("score")
    if isinstance(score, dict):
        for key in ("raw", "min", "max"):
            number = score.get(key)
            if isinstance(number, float) and number.is_integer():
                score[key] = int(number)
    return result


# --- Statement kinds: one method per part -----------------------------------------------------


class _StatementKind:
    """A statement of the profile; subclasses override the parts that differ."""

    verb_concept: v.Concept = v.ATTEMPTED

    def __init__(self, builder: StatementBuilder, attempt: Attempt, timestamp: datetime) -> None:
        self.builder = builder
        self.attempt = attempt
        self.timestamp = timestamp

    # identity ----------------------------------------------------------------------------
    def subject(self) -> str:
        """What the statement is about, for the deterministic id (the parcours by default)."""
        return f"parcours:{self.attempt.parcours.id}"

    def sequence(self) -> int:
        """The answer sequence number for the id; 0 for once-per-attempt statements."""
        return 0

    def statement_id(self) -> uuid.UUID:
        """uuid5 over (attempt, subject, verb, sequence)."""
        return statement_id(self.attempt.id, self.subject(), self.verb_concept.iri, self.sequence())

    # parts -------------------------------------------------------------------------------
    def actor(self) -> Agent:
        """The pseudonymous account; the name only when the registration shares identity.

        An Agent carries exactly one identifier (xAPI "IFI"); the account is ours, so an email,
        when shared, travels in the context extension ``<base>/xapi/extensions/email`` rather
        than as a second IFI that every strict LRS would refuse.
        """
        learner = self.attempt.learner
        agent = Agent(account=AgentAccount(home_page=learner.issuer, name=learner.sub))
        if self.builder.share_identity and learner.name:
            agent.name = learner.name
        return agent

    def verb(self) -> Verb:
        """The ADL verb with its display in French and English."""
        concept = self.verb_concept
        return Verb(id=concept.iri, display=LanguageMap(concept.labels))

    def object(self) -> Activity:
        """The parcours activity, unless a subclass acts on something else."""
        return self.builder.parcours_activity(self.attempt.parcours)

    def result(self) -> Result | None:
        """No result unless the statement reports an outcome."""
        return None

    def context_parents(self) -> list[Activity]:
        """Parent activities; the parcours for statements about its parts."""
        return []

    def context_grouping(self) -> list[Activity]:
        """Grouping activities besides the course (competence, tube, skill for answers)."""
        return []

    def context_extensions(self) -> dict[str, Any]:
        """Extensions specific to the statement kind, merged with the common LTI one."""
        return {}

    def context(self) -> Context:
        """Registration, platform, language, profile category, LTI context and kind extras."""
        builder = self.builder
        attempt = self.attempt
        lti = attempt.lti
        lti_values = {
            "iss": lti.issuer,
            "deployment_id": lti.deployment_id,
            "context_id": lti.context_id,
            "context_title": lti.context_title,
            "resource_link_id": lti.resource_link_id,
        }
        extensions: dict[str, Any] = {
            v.extension_iri(builder.base_url, "lti"): {
                key: value for key, value in lti_values.items() if value
            },
        }
        if builder.share_identity and attempt.learner.email:
            extensions[v.extension_iri(builder.base_url, "email")] = attempt.learner.email
        extensions.update(self.context_extensions())
        activities = ContextActivities(
            category=ActivityList([builder.profile_activity()]),
        )
        parents = self.context_parents()
        if parents:
            activities.parent = ActivityList(parents)
        grouping = self.context_grouping()
        if lti.context_id:
            grouping.append(builder.course_activity(lti))
        if grouping:
            activities.grouping = ActivityList(grouping)
        context = Context(
            registration=attempt.id,
            platform=builder.platform,
            language=attempt.locale,
            context_activities=activities,
            extensions=Extensions(extensions),
        )
        if attempt.content_version:
            context.revision = attempt.content_version
        return context

    def build(self) -> JsonObject:
        """Assemble the parts with tincan and return the finalised JSON object."""
        statement = Statement(
            id=self.statement_id(),
            actor=self.actor(),
            verb=self.verb(),
            object=self.object(),
            context=self.context(),
            timestamp=_aware(self.timestamp),
        )
        result = self.result()
        if result is not None:
            statement.result = result
        return finalize(statement)


class _AttemptStarted(_StatementKind):
    verb_concept = v.ATTEMPTED


class _ChallengeAnswered(_StatementKind):
    verb_concept = v.ANSWERED

    def __init__(self, builder: StatementBuilder, attempt: Attempt, answer: Answer) -> None:
        super().__init__(builder, attempt, answer.timestamp)
        if answer.sequence < 1:
            raise ValueError(f"answer sequence numbers start at 1, got {answer.sequence}")
        if answer.status not in v.ANSWER_STATUSES:
            raise ValueError(f"unknown answer status {answer.status!r}")
        self.answer = answer

    def subject(self) -> str:
        return f"challenge:{self.answer.challenge.id}"

    def sequence(self) -> int:
        return self.answer.sequence

    def object(self) -> Activity:
        return self.builder.challenge_activity(self.answer.challenge)

    def build(self) -> JsonObject:
        """The statement from tincan's serialised parts, kept per attempt, per challenge and
        per (competence, tube, skill): what differs between two answers — id, timestamp,
        result, the skill level extension — is filled in; the rest is the JSON that tincan
        produced for the same values (keys in the same order), so the statement is the one
        :meth:`_StatementKind.build` gives. An answer whose parts are not all known yet is
        built whole, and teaches its parts. The parts are keyed by the frozen values
        themselves (and the builder's settings): a changed value is a new key, never a stale
        part."""
        settings = self.builder.settings_key()
        answer = self.answer
        keys = (
            (settings, self.attempt),
            (settings, answer.challenge),
            (settings, answer.competence, answer.tube, answer.skill),
        )
        skeleton, activity, grouping = (_ANSWERED_PARTS.get(key) for key in keys)
        data: JsonObject
        if skeleton is None or activity is None or grouping is None:
            data = super().build()
            context = data["context"]["contextActivities"]
            _ANSWERED_PARTS.remember(keys[0], json.dumps(data))
            _ANSWERED_PARTS.remember(keys[1], json.dumps(data["object"]))
            _ANSWERED_PARTS.remember(keys[2], json.dumps(context["grouping"][:3]))
            return data
        data = json.loads(skeleton)
        data["id"] = str(self.statement_id())
        data["object"] = json.loads(activity)
        context = data["context"]
        context_grouping = context["contextActivities"]["grouping"]
        context_grouping[:3] = json.loads(grouping)
        context["extensions"].update(self.context_extensions())
        tincan_result = self.result()
        data["result"] = _finalize_result(json.loads(tincan_result.to_json()), tincan_result)
        data["timestamp"] = format_timestamp(_aware(self.timestamp))
        return data

    def result(self) -> Result:
        answer = self.answer
        result = Result(
            success=answer.status == "ok",
            duration=answer.duration,
            extensions=Extensions(
                {v.extension_iri(self.builder.base_url, "answer-status"): answer.status}
            ),
        )
        if answer.response is not None and answer.status in ("ok", "ko"):
            response = format_response(answer.challenge.type, answer.response)
            if response:
                result.response = response
        return result

    def context_parents(self) -> list[Activity]:
        return [self.builder.parcours_activity(self.attempt.parcours)]

    def context_grouping(self) -> list[Activity]:
        answer = self.answer
        return [
            self.builder.competence_activity(answer.competence),
            self.builder.tube_activity(answer.tube),
            self.builder.skill_activity(answer.skill),
        ]

    def context_extensions(self) -> dict[str, Any]:
        return {v.extension_iri(self.builder.base_url, "skill-level"): self.answer.skill.level}


class _Progressed(_StatementKind):
    verb_concept = v.PROGRESSED

    def __init__(
        self,
        builder: StatementBuilder,
        attempt: Attempt,
        answers_count: int,
        progress: int,
        timestamp: datetime,
    ) -> None:
        super().__init__(builder, attempt, timestamp)
        if not 0 <= progress <= 100:
            raise ValueError(f"progress is a percentage 0–100, got {progress}")
        if answers_count < 1:
            raise ValueError(f"a checkpoint follows at least one answer, got {answers_count}")
        self.answers_count = answers_count
        self.progress = progress

    def sequence(self) -> int:
        return self.answers_count

    def result(self) -> Result:
        return Result(extensions=Extensions({v.CMI5_PROGRESS: self.progress}))


class _Completed(_StatementKind):
    verb_concept = v.COMPLETED

    def __init__(self, builder: StatementBuilder, attempt: Attempt, outcome: Outcome) -> None:
        super().__init__(builder, attempt, outcome.timestamp)
        _check_mastery(outcome.mastery)
        self.outcome = outcome

    def result(self) -> Result:
        outcome = self.outcome
        base = self.builder.base_url
        levels = {item.competence.code: _check_level(item.level) for item in outcome.levels}
        elements = sorted(
            (element.as_json() for element in outcome.knowledge_elements),
            key=lambda item: (item["tube"], item["level"], item["skill"]),
        )
        return Result(
            completion=True,
            score=Score(scaled=round(outcome.mastery, 4)),
            duration=outcome.duration,
            extensions=Extensions(
                {
                    v.extension_iri(base, "levels"): dict(sorted(levels.items())),
                    v.extension_iri(base, "pix"): outcome.pix,
                    v.extension_iri(base, "knowledge-elements"): elements,
                }
            ),
        )


class _Session(_StatementKind):
    """suspended / resumed / terminated / abandoned: the parcours, at one moment of a session.

    ``mark`` (the moment the session ended, in ms) keys the id, so the same gap always gives
    the same suspended/resumed pair and a sweep that runs twice sends nothing new.
    """

    def __init__(
        self,
        builder: StatementBuilder,
        attempt: Attempt,
        verb: v.Concept,
        timestamp: datetime,
        *,
        mark: datetime,
        duration: timedelta | None,
    ) -> None:
        super().__init__(builder, attempt, timestamp)
        self.verb_concept = verb
        self.mark = _aware(mark)
        self.duration = duration

    def sequence(self) -> int:
        return int(self.mark.timestamp() * 1000)

    def result(self) -> Result | None:
        if self.duration is None:
            return None
        return Result(duration=self.duration)


class _PassedOrFailed(_StatementKind):
    def __init__(
        self, builder: StatementBuilder, attempt: Attempt, outcome: Outcome, threshold: float
    ) -> None:
        super().__init__(builder, attempt, outcome.timestamp)
        _check_mastery(outcome.mastery)
        _check_mastery(threshold)
        self.outcome = outcome
        self.threshold = threshold
        self.verb_concept = v.PASSED if outcome.mastery >= threshold else v.FAILED

    def result(self) -> Result:
        return Result(
            success=self.outcome.mastery >= self.threshold,
            score=Score(scaled=round(self.outcome.mastery, 4)),
        )

    def context_extensions(self) -> dict[str, Any]:
        return {v.CMI5_MASTERY_SCORE: self.threshold}


class _CompetenceScored(_StatementKind):
    verb_concept = v.SCORED

    def __init__(
        self,
        builder: StatementBuilder,
        attempt: Attempt,
        level: CompetenceLevel,
        timestamp: datetime,
    ) -> None:
        super().__init__(builder, attempt, timestamp)
        _check_level(level.level)
        self.level = level

    def subject(self) -> str:
        return f"competence:{self.level.competence.code}"

    def object(self) -> Activity:
        return self.builder.competence_activity(self.level.competence)

    def result(self) -> Result:
        level = self.level.level
        return Result(
            score=Score(raw=level, min=0, max=v.MAX_LEVEL, scaled=round(level / v.MAX_LEVEL, 4))
        )

    def context_parents(self) -> list[Activity]:
        return [self.builder.parcours_activity(self.attempt.parcours)]


def _check_mastery(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"mastery and thresholds are fractions 0–1, got {value}")
    return value


def _check_level(level: int) -> int:
    if not 0 <= level <= v.MAX_LEVEL:
        raise ValueError(f"levels run from 0 to {v.MAX_LEVEL}, got {level}")
    return level


class _Parts:
    """Serialised statement parts (JSON text: every use parses its own copy), bounded: when
    full, it starts again empty (the parts are rebuilt by the next answers)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.parts: dict[Any, str] = {}

    def get(self, key: Any) -> str | None:
        return self.parts.get(key)

    def remember(self, key: Any, text: str) -> None:
        if len(self.parts) >= self.size:
            self.parts = {}
        self.parts[key] = text

    def clear(self) -> None:
        self.parts = {}


_ANSWERED_PARTS: Final = _Parts(8192)


def forget_kept_parts() -> None:
    """Empty the kept statement parts (benchmarks of a process that saw nothing yet)."""
    _ANSWERED_PARTS.clear()


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"statement timestamps must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


# --- Public builder ---------------------------------------------------------------------------


class StatementBuilder:
    """Builds every statement of the profile for one tool base URL and one registration policy.

    ``iri_base``: the base of content activity IRIs (``SOCLE_XAPI_IRI_BASE``; by default
    ``base_url``), the same on every deployment that shares the content. ``software_version``:
    ``context.platform`` becomes ``Socle <version>``.
    ``share_identity``: add the learner's name (actor) and email (extension) — only when the
    platform registration says so. ``include_solutions``: add ``correctResponsesPattern`` to
    challenges — only when the registration asks for it, solutions being secret otherwise.
    """

    def __init__(
        self,
        base_url: str,
        *,
        iri_base: str | None = None,
        share_identity: bool = False,
        include_solutions: bool = False,
        software_version: str | None = None,
    ) -> None:
        self.base_url = v.normalize_base_url(base_url)
        self.iri_base = v.normalize_base_url(iri_base or base_url)
        self.share_identity = share_identity
        self.include_solutions = include_solutions
        self.platform = f"{v.PLATFORM} {software_version}" if software_version else v.PLATFORM

    def settings_key(self) -> tuple[Any, ...]:
        """Everything of the builder that a statement depends on."""
        return (
            self.base_url,
            self.iri_base,
            self.share_identity,
            self.include_solutions,
            self.platform,
        )

    # activities shared by several statements ---------------------------------------------
    def parcours_activity(self, parcours: Parcours) -> Activity:
        """The parcours as an assessment activity with its names."""
        definition = ActivityDefinition(
            name=LanguageMap(parcours.title.language_map()), type=v.ASSESSMENT.iri
        )
        if parcours.description is not None and parcours.description.language_map():
            definition.description = LanguageMap(parcours.description.language_map())
        return Activity(id=v.parcours_iri(self.iri_base, parcours.id), definition=definition)

    def competence_activity(self, competence: Competence) -> Activity:
        """A competence as an objective activity."""
        return Activity(
            id=v.competence_iri(self.iri_base, competence.code),
            definition=ActivityDefinition(
                name=LanguageMap(competence.title.language_map()), type=v.OBJECTIVE.iri
            ),
        )

    def tube_activity(self, tube: Tube) -> Activity:
        """A tube, typed with Socle's own activity type."""
        return Activity(
            id=v.tube_iri(self.iri_base, tube.id),
            definition=ActivityDefinition(
                name=LanguageMap(tube.title.language_map()),
                type=v.tube_activity_type_iri(self.base_url),
            ),
        )

    def skill_activity(self, skill: Skill) -> Activity:
        """A skill as an objective activity; its name is its description when there is one."""
        definition = ActivityDefinition(type=v.OBJECTIVE.iri)
        if skill.description is not None and skill.description.language_map():
            definition.name = LanguageMap(skill.description.language_map())
        return Activity(id=v.skill_iri(self.iri_base, skill.id), definition=definition)

    def profile_activity(self) -> Activity:
        """The profile *version*, in ``contextActivities.category`` of every statement.

        xAPI Profiles 1.0: "Learning Record Providers … MUST include the most recent version
        of the profile in the category context activities" — the version IRI, not the profile's.
        """
        return Activity(
            id=v.profile_version_iri(self.base_url),
            definition=ActivityDefinition(type=v.PROFILE_TYPE.iri),
        )

    def challenge_activity(self, challenge: Challenge) -> Activity:
        """A challenge as a cmi.interaction: short name, plain-text instruction, components."""
        definition = ActivityDefinition(
            name=LanguageMap(challenge.short_name().language_map()),
            type=v.INTERACTION.iri,
            interaction_type=v.INTERACTION_TYPE_OF[challenge.type],
        )
        if challenge.instruction.language_map():
            definition.description = LanguageMap(challenge.instruction.language_map())
        components = [
            InteractionComponent(id=item.id, description=LanguageMap(item.text.language_map()))
            for item in (challenge.steps or challenge.choices)
        ]
        if components and challenge.type in ("qcu", "qcm"):
            definition.choices = InteractionComponentList(components)
        elif components:
            definition.steps = InteractionComponentList(components)
        if self.include_solutions and challenge.correct_responses:
            definition.correct_responses_pattern = list(challenge.correct_responses)
        return Activity(id=v.challenge_iri(self.iri_base, challenge.id), definition=definition)

    def course_activity(self, lti: LtiContext) -> Activity:
        """The LMS course (LTI context) as a course activity, in every statement's grouping."""
        if not lti.context_id:
            raise ValueError("a course activity needs the LTI context id")
        definition = ActivityDefinition(type=v.COURSE.iri)
        if lti.context_title:
            definition.name = LanguageMap({"und": lti.context_title})
        return Activity(
            id=v.course_iri(self.iri_base, lti.issuer, lti.context_id), definition=definition
        )

    # one method per statement of the profile ---------------------------------------------
    def attempt_started(self, attempt: Attempt, timestamp: datetime) -> JsonObject:
        """``attempted`` the parcours: the attempt starts."""
        return _AttemptStarted(self, attempt, timestamp).build()

    def challenge_answered(self, attempt: Attempt, answer: Answer) -> JsonObject:
        """``answered`` a challenge: answered, skipped or timed out."""
        return _ChallengeAnswered(self, attempt, answer).build()

    def progressed(
        self, attempt: Attempt, *, answers_count: int, progress: int, timestamp: datetime
    ) -> JsonObject:
        """``progressed`` in the parcours: a checkpoint after ``answers_count`` answers."""
        return _Progressed(self, attempt, answers_count, progress, timestamp).build()

    def completed(self, attempt: Attempt, outcome: Outcome) -> JsonObject:
        """``completed`` the parcours: mastery, duration, levels, pix."""
        return _Completed(self, attempt, outcome).build()

    def passed_or_failed(self, attempt: Attempt, outcome: Outcome) -> JsonObject:
        """``passed`` or ``failed`` against the parcours' mastery threshold (which must exist)."""
        threshold = attempt.parcours.mastery_threshold
        if threshold is None:
            raise ValueError(f"parcours {attempt.parcours.id!r} has no mastery threshold")
        return _PassedOrFailed(self, attempt, outcome, threshold).build()

    def competence_scored(
        self, attempt: Attempt, level: CompetenceLevel, timestamp: datetime
    ) -> JsonObject:
        """``scored`` a level in one competence."""
        return _CompetenceScored(self, attempt, level, timestamp).build()

    def suspended(self, attempt: Attempt, last_activity: datetime) -> JsonObject:
        """``suspended``: the agent left; stamped just after their last recorded action."""
        return _Session(
            self,
            attempt,
            v.SUSPENDED,
            _aware(last_activity) + TICK,
            mark=last_activity,
            duration=None,
        ).build()

    def resumed(self, attempt: Attempt, last_activity: datetime, now: datetime) -> JsonObject:
        """``resumed``: the agent is back after the gap that began at ``last_activity``."""
        return _Session(self, attempt, v.RESUMED, now, mark=last_activity, duration=None).build()

    def terminated(
        self, attempt: Attempt, timestamp: datetime, time_on_task: timedelta
    ) -> JsonObject:
        """``terminated``: the finished attempt's last session ends; duration = time on task."""
        return _Session(
            self, attempt, v.TERMINATED, timestamp, mark=timestamp, duration=time_on_task
        ).build()

    def abandoned(
        self, attempt: Attempt, last_activity: datetime, time_on_task: timedelta
    ) -> JsonObject:
        """``abandoned``: idle past the abandon limit, unfinished; after its ``suspended``."""
        at = _aware(last_activity) + 2 * TICK
        return _Session(
            self, attempt, v.ABANDONED, at, mark=last_activity, duration=time_on_task
        ).build()

    def attempt_ended(self, attempt: Attempt, outcome: Outcome) -> list[JsonObject]:
        """All statements of an ending attempt, in order: completed, passed/failed, one scored
        per competence, terminated — one millisecond apart, so that their order in the
        profile's pattern never depends on how an LRS orders equal timestamps."""
        at = _aware(outcome.timestamp)
        statements = [self.completed(attempt, outcome)]
        if attempt.parcours.mastery_threshold is not None:
            statements.append(self.passed_or_failed(attempt, replace(outcome, timestamp=at + TICK)))
        for level in outcome.levels:
            statements.append(self.competence_scored(attempt, level, at + len(statements) * TICK))
        statements.append(self.terminated(attempt, at + len(statements) * TICK, outcome.duration))
        return statements
