"""The xAPI vocabulary Socle speaks: verbs, activity types and extensions, as typed constants.

Why a module of constants (as Ralph does for its xAPI models): every IRI that a consumer of the
LRS filters on is written once, here, so the builders, the xAPI Profile document and the
reports cannot drift apart. IRIs owned by other vocabularies (ADL, cmi5) are plain constants;
IRIs that Socle mints live under the tool's public base URL, so they are *functions* of
``base_url`` and resolve to a description served by the web app (see :mod:`xapi.profile`).
"""

from __future__ import annotations

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
    "a obtenu le niveau",
    "scored",
    "Niveau (0 à 8) atteint dans une compétence à la fin du passage.",
    "Level (0 to 8) reached in one competence at the end of the attempt.",
)

VERBS: Final[tuple[Concept, ...]] = (
    ATTEMPTED,
    ANSWERED,
    PROGRESSED,
    COMPLETED,
    PASSED,
    FAILED,
    SCORED,
)

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

InteractionType = Literal["choice", "fill-in", "other"]
ChallengeType = Literal["qcu", "qcm", "qroc", "qrocm-ind", "qrocm-dep"]
AnswerStatus = Literal["ok", "ko", "skipped", "timedout"]

INTERACTION_TYPE_OF: Final[dict[str, InteractionType]] = {
    "qcu": "choice",
    "qcm": "choice",
    "qroc": "fill-in",
    "qrocm-ind": "other",
    "qrocm-dep": "other",
}

ANSWER_STATUSES: Final[tuple[AnswerStatus, ...]] = ("ok", "ko", "skipped", "timedout")

MAX_LEVEL: Final = 8
"""Levels of the framework run from 1 to 8; 0 means "not measured above nothing"."""

PLATFORM: Final = "Socle"

# --- IRIs minted under the tool's base URL ----------------------------------------------------

ActivityKind = Literal["parcours", "challenge", "competence", "tube", "skill"]
ACTIVITY_KINDS: Final[tuple[ActivityKind, ...]] = (
    "parcours",
    "challenge",
    "competence",
    "tube",
    "skill",
)

ExtensionName = Literal["lti", "answer-status", "skill-level", "levels", "pix", "email"]
EXTENSION_NAMES: Final[tuple[ExtensionName, ...]] = (
    "lti",
    "answer-status",
    "skill-level",
    "levels",
    "pix",
    "email",
)

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
