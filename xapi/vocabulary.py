"""The xAPI vocabulary Socle speaks: verbs, activity types and extensions, as typed constants.

Why a module of constants (as Ralph does for its xAPI models): every IRI that a consumer of the
LRS filters on is written once, here, so the builders, the xAPI Profile document and the
reports cannot drift apart. IRIs owned by other vocabularies (ADL, cmi5) are plain constants;
IRIs that Socle mints are *functions* of a base: activities (parcours, challenges, competences,
tubes, skills, courses) of the stable ``iri_base`` (``SOCLE_XAPI_IRI_BASE``, by default the
public base URL), so one content keeps one id on every deployment that shares that base;
extensions, the activity type and the profile of the tool's ``base_url``, where they resolve to
a description served by the web app (see :mod:`xapi.profile`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import quote, unquote

# --- Concepts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Concept:
    """One vocabulary entry: an IRI with labels and a definition in French and English.

    The same object feeds a statement (``verb.display``, ``definition.type``) and the profile
    document (``prefLabel``, ``definition``), so both always say the same thing.
    """

    iri: str
    label_fr: str
    label_en: str
    definition_fr: str
    definition_en: str

    @property
    def labels(self) -> dict[str, str]:
        """The language map used for ``verb.display`` and ``prefLabel``."""
        return {"fr": self.label_fr, "en": self.label_en}

    @property
    def definitions(self) -> dict[str, str]:
        """The language map used for a concept's ``definition`` in the profile."""
        return {"fr": self.definition_fr, "en": self.definition_en}


# --- Verbs (ADL vocabulary) -------------------------------------------------------------------

ADL_VERBS: Final = "http://adlnet.gov/expapi/verbs/"

VerbIri = Literal[
    "http://adlnet.gov/expapi/verbs/attempted",
    "http://adlnet.gov/expapi/verbs/answered",
    "http://adlnet.gov/expapi/verbs/progressed",
    "http://adlnet.gov/expapi/verbs/completed",
    "http://adlnet.gov/expapi/verbs/passed",
    "http://adlnet.gov/expapi/verbs/failed",
    "http://adlnet.gov/expapi/verbs/scored",
    "http://adlnet.gov/expapi/verbs/suspended",
    "http://adlnet.gov/expapi/verbs/resumed",
    "http://adlnet.gov/expapi/verbs/terminated",
    "https://w3id.org/xapi/adl/verbs/abandoned",
]

ATTEMPTED: Final = Concept(
    "http://adlnet.gov/expapi/verbs/attempted",
    "a tenté",
    "attempted",
    "L'agent a commencé un passage du parcours.",
    "The agent started an attempt at the parcours.",
)
ANSWERED: Final = Concept(
    "http://adlnet.gov/expapi/verbs/answered",
    "a répondu",
    "answered",
    "L'agent a répondu à une épreuve, l'a passée ou a laissé expirer son temps.",
    "The agent answered a challenge, skipped it, or let its timer run out.",
)
PROGRESSED: Final = Concept(
    "http://adlnet.gov/expapi/verbs/progressed",
    "a progressé",
    "progressed",
    "Point d'étape du passage (toutes les 5 réponses), avec sa progression en pourcentage.",
    "Checkpoint of the attempt (every 5 answers), with its progress as a percentage.",
)
COMPLETED: Final = Concept(
    "http://adlnet.gov/expapi/verbs/completed",
    "a terminé",
    "completed",
    "Le passage est terminé : maîtrise, durée et niveau par compétence.",
    "The attempt is finished: mastery, duration and level per competence.",
)
PASSED: Final = Concept(
    "http://adlnet.gov/expapi/verbs/passed",
    "a réussi",
    "passed",
    "La maîtrise atteint le seuil fixé par le parcours.",
    "The mastery reaches the threshold set by the parcours.",
)
FAILED: Final = Concept(
    "http://adlnet.gov/expapi/verbs/failed",
    "a échoué",
    "failed",
    "La maîtrise n'atteint pas le seuil fixé par le parcours.",
    "The mastery does not reach the threshold set by the parcours.",
)
SCORED: Final = Concept(
    "http://adlnet.gov/expapi/verbs/scored",
    "a obtenu un score",
    "scored",
    "Niveau (0 à 8) atteint dans une compétence à la fin du passage.",
    "Level (0 to 8) reached in one competence at the end of the attempt.",
)

SUSPENDED: Final = Concept(
    "http://adlnet.gov/expapi/verbs/suspended",
    "a suspendu",
    "suspended",
    "L'agent a quitté le passage (inactif au-delà du délai) ; horodaté à sa dernière action.",
    "The agent left the attempt (idle past the limit); stamped at their last action.",
)
RESUMED: Final = Concept(
    "http://adlnet.gov/expapi/verbs/resumed",
    "a repris",
    "resumed",
    "L'agent revient dans un passage suspendu.",
    "The agent comes back to a suspended attempt.",
)
TERMINATED: Final = Concept(
    "http://adlnet.gov/expapi/verbs/terminated",
    "a clos",
    "terminated",
    "Fin de la dernière session d'un passage terminé, avec le temps passé.",
    "End of the last session of a finished attempt, with the time on task.",
)
ABANDONED: Final = Concept(
    "https://w3id.org/xapi/adl/verbs/abandoned",
    "a abandonné",
    "abandoned",
    "Passage resté inactif au-delà du délai d'abandon sans être terminé.",
    "Attempt left idle past the abandon limit without being finished.",
)

VERBS: Final[tuple[Concept, ...]] = (
    ATTEMPTED,
    ANSWERED,
    PROGRESSED,
    COMPLETED,
    PASSED,
    FAILED,
    SCORED,
    SUSPENDED,
    RESUMED,
    TERMINATED,
    ABANDONED,
)
"""Every verb Socle emits. All are defined by ADL (the ADL vocabulary and the ADL profile
``https://w3id.org/xapi/adl``): Socle's profile references them and never redefines them."""

# --- Activity types ---------------------------------------------------------------------------

ASSESSMENT: Final = Concept(
    "http://adlnet.gov/expapi/activities/assessment",
    "parcours",
    "parcours",
    "Un parcours d'évaluation adaptative des compétences numériques (profil cible).",
    "An adaptive assessment of digital competences (a target profile).",
)
INTERACTION: Final = Concept(
    "http://adlnet.gov/expapi/activities/cmi.interaction",
    "épreuve",
    "challenge",
    "Une épreuve : une question qui mesure un acquis.",
    "A challenge: one question measuring one skill.",
)
OBJECTIVE: Final = Concept(
    "http://adlnet.gov/expapi/activities/objective",
    "objectif",
    "objective",
    "Une compétence du référentiel (1.1 à 5.2) ou un acquis (sujet, niveau).",
    "A competence of the framework (1.1 to 5.2) or a skill (tube, level).",
)
COURSE: Final = Concept(
    "http://adlnet.gov/expapi/activities/course",
    "cours",
    "course",
    "Le cours de la plateforme (contexte LTI) d'où le passage a été lancé.",
    "The platform's course (LTI context) the attempt was launched from.",
)
PROFILE_TYPE: Final = Concept(
    "http://adlnet.gov/expapi/activities/profile",
    "profil xAPI",
    "xAPI profile",
    "Le profil xAPI auquel la déclaration se conforme.",
    "The xAPI profile the statement conforms to.",
)

# --- Extensions owned by cmi5 -----------------------------------------------------------------

CMI5_PROGRESS: Final = "https://w3id.org/xapi/cmi5/result/extensions/progress"
CMI5_MASTERY_SCORE: Final = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"

# --- Interaction types ------------------------------------------------------------------------

InteractionType = Literal["choice", "fill-in", "performance"]
ChallengeType = Literal["qcu", "qcm", "qroc", "qrocm-ind", "qrocm-dep"]
AnswerStatus = Literal["ok", "ko", "skipped", "timedout"]

INTERACTION_TYPE_OF: Final[dict[str, InteractionType]] = {
    "qcu": "choice",
    "qcm": "choice",
    "qroc": "fill-in",
    "qrocm-ind": "performance",
    "qrocm-dep": "performance",
}
"""qrocm (several named fields) is xAPI's ``performance``: one ``steps`` component per field and
responses ``field[:]value[,]…`` — the closest type that keeps which value went in which field."""

ANSWER_STATUSES: Final[tuple[AnswerStatus, ...]] = ("ok", "ko", "skipped", "timedout")

KnowledgeStatus = Literal["validated", "failed"]
KnowledgeSource = Literal["direct", "inferred"]

MAX_LEVEL: Final = 8
"""Levels of the framework run from 1 to 8; 0 means "not measured above nothing"."""

PLATFORM: Final = "Socle"

# --- IRIs minted under the tool's base URL ----------------------------------------------------

ActivityKind = Literal["parcours", "challenge", "competence", "tube", "skill", "course"]
ACTIVITY_KINDS: Final[tuple[ActivityKind, ...]] = (
    "parcours",
    "challenge",
    "competence",
    "tube",
    "skill",
    "course",
)

ExtensionName = Literal[
    "lti", "answer-status", "skill-level", "levels", "pix", "email", "knowledge-elements"
]
EXTENSION_NAMES: Final[tuple[ExtensionName, ...]] = (
    "lti",
    "answer-status",
    "skill-level",
    "levels",
    "pix",
    "email",
    "knowledge-elements",
)

COURSE_ID_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "urn:socle:xapi:course")
"""Namespace of course ids (uuid5 over issuer and LTI context id). Never change it."""

ACTIVITIES_PATH: Final = "/xapi/activities/"
EXTENSIONS_PATH: Final = "/xapi/extensions/"
ACTIVITY_TYPES_PATH: Final = "/xapi/activity-types/"
PROFILE_PATH: Final = "/xapi/profile"
PROFILE_VERSION_PATH: Final = "/xapi/profile/v1.0"
PROFILE_DOCUMENT_PATH: Final = "/xapi/profile.jsonld"
TEMPLATES_PATH: Final = "/xapi/profile/templates/"


def normalize_base_url(base_url: str) -> str:
    """Return the base URL without a trailing slash, refusing what cannot mint IRIs.

    Every minted IRI is ``base + path``; a trailing slash would give ``//`` and two spellings of
    the same activity, which an LRS treats as two activities.
    """
    base = base_url.strip().rstrip("/")
    if not base.startswith(("http://", "https://")) or "://" not in base or base.endswith(":/"):
        raise ValueError(f"the xAPI base URL must be an absolute http(s) URL, got {base_url!r}")
    return base


def _segment(identifier: str) -> str:
    """Percent-encode one identifier so that it stays a single path segment of a valid IRI."""
    if not identifier:
        raise ValueError("an activity identifier cannot be empty")
    return quote(identifier, safe="-._~")


def activity_iri(base_url: str, kind: ActivityKind, identifier: str) -> str:
    """IRI of a parcours, challenge, competence, tube or skill: ``<base>/xapi/activities/...``."""
    return f"{normalize_base_url(base_url)}{ACTIVITIES_PATH}{kind}/{_segment(identifier)}"


def parcours_iri(base_url: str, parcours_id: str) -> str:
    """IRI of a parcours: the object of attempted/progressed/completed/passed/failed."""
    return activity_iri(base_url, "parcours", parcours_id)


def challenge_iri(base_url: str, challenge_id: str) -> str:
    """IRI of a challenge: the object of ``answered``."""
    return activity_iri(base_url, "challenge", challenge_id)


def competence_iri(base_url: str, code: str) -> str:
    """IRI of a competence (code such as ``2.1``): the object of ``scored``."""
    return activity_iri(base_url, "competence", code)


def tube_iri(base_url: str, tube_id: str) -> str:
    """IRI of a tube, found in the grouping of ``answered``."""
    return activity_iri(base_url, "tube", tube_id)


def skill_iri(base_url: str, skill_id: str) -> str:
    """IRI of a skill (``<tube>-<level>``), found in the grouping of ``answered``."""
    return activity_iri(base_url, "skill", skill_id)


def course_id(issuer: str, context_id: str) -> str:
    """The id of a course: uuid5 over the platform's issuer and the LTI context id.

    A context id is only unique within its platform, so the issuer is part of it; a uuid keeps
    the IRI one short path segment whatever the issuer looks like, and anyone who knows the
    platform and the context can compute it again (``docs/xapi.md`` gives the recipe).
    """
    if not issuer or not context_id:
        raise ValueError("a course id needs the platform issuer and the LTI context id")
    return str(uuid.uuid5(COURSE_ID_NAMESPACE, f"{issuer}|{context_id}"))


def course_iri(iri_base: str, issuer: str, context_id: str) -> str:
    """IRI of the LMS course an attempt was launched from, found in every statement's grouping."""
    return activity_iri(iri_base, "course", course_id(issuer, context_id))


def parse_activity_path(path: str) -> tuple[ActivityKind, str] | None:
    """Split ``/xapi/activities/<kind>/<id>`` into (kind, id); None for anything else."""
    if not path.startswith(ACTIVITIES_PATH):
        return None
    rest = path[len(ACTIVITIES_PATH) :]
    kind, sep, encoded = rest.partition("/")
    if not sep or not encoded or "/" in encoded:
        return None
    for known in ACTIVITY_KINDS:
        if kind == known:
            return known, unquote(encoded)
    return None


def extension_iri(base_url: str, name: ExtensionName) -> str:
    """IRI of one of Socle's own extensions: ``<base>/xapi/extensions/<name>``."""
    return f"{normalize_base_url(base_url)}{EXTENSIONS_PATH}{name}"


def tube_activity_type_iri(base_url: str) -> str:
    """Activity type of a tube, minted by Socle because no public vocabulary has "topic"."""
    return f"{normalize_base_url(base_url)}{ACTIVITY_TYPES_PATH}tube"


def profile_iri(base_url: str) -> str:
    """IRI of Socle's xAPI profile, put in every statement's ``contextActivities.category``."""
    return f"{normalize_base_url(base_url)}{PROFILE_PATH}"


def profile_version_iri(base_url: str) -> str:
    """IRI of the current version of the profile (``inScheme`` of every concept)."""
    return f"{normalize_base_url(base_url)}{PROFILE_VERSION_PATH}"


def template_iri(base_url: str, name: str) -> str:
    """IRI of one statement template of the profile."""
    return f"{normalize_base_url(base_url)}{TEMPLATES_PATH}{name}"


TUBE_TYPE_LABELS: Final = {"fr": "sujet", "en": "tube"}
TUBE_TYPE_DEFINITIONS: Final = {
    "fr": "Un sujet étroit d'une compétence (par exemple « pièces jointes »), qui porte des "
    "acquis ordonnés par niveau.",
    "en": "A narrow topic of a competence (e.g. 'attachments') holding skills ordered by level.",
}
