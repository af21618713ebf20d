"""Socle's xAPI Profile (JSON-LD) and the description of every IRI Socle mints.

Why: an LRS consumer who meets ``https://<tool>/xapi/extensions/levels`` in a statement must be
able to open that IRI and learn what it means (xAPI asks that minted IRIs resolve), and tools
that understand xAPI Profiles (https://w3id.org/xapi/profiles) can read the whole contract at
``/xapi/profile.jsonld``. Both are computed from :mod:`xapi.vocabulary`, the same constants the
builders use, so the document cannot drift from the statements.

The web app serves :func:`profile_document` at ``/xapi/profile.jsonld`` and, for any path under
``/xapi/``, the dict :func:`describe_iri` returns (404 when it returns None).
"""

from __future__ import annotations

import json
from typing import Any, Final
from urllib.parse import urlsplit

from xapi import vocabulary as v

JsonObject = dict[str, Any]

PROFILES_CONTEXT: Final = "https://w3id.org/xapi/profiles/context"
PROFILES_CONFORMS_TO: Final = "https://w3id.org/xapi/profiles#1.0"
PROFILE_VERSION_DATE: Final = "2026-11-23T00:00:00Z"
"""When version 1.0 of the profile was published; a new version gets a new IRI and date."""

_ACTIVITY_KIND_TEXT: Final[dict[str, tuple[str, str]]] = {
    "parcours": (
        "Parcours (profil cible) de Socle : une sélection de sujets et de niveaux évaluée de "
        "façon adaptative.",
        "A Socle parcours (target profile): a selection of tubes and levels assessed adaptively.",
    ),
    "challenge": (
        "Épreuve de Socle : une question qui mesure un acquis.",
        "A Socle challenge: one question measuring one skill.",
    ),
    "competence": (
        "Compétence du référentiel des compétences numériques (1.1 à 5.2).",
        "A competence of the digital competence framework (1.1 to 5.2).",
    ),
    "tube": (
        "Sujet : un thème étroit d'une compétence, qui porte des acquis ordonnés par niveau.",
        "Tube: a narrow topic of a competence, holding skills ordered by level.",
    ),
    "skill": (
        "Acquis : un couple (sujet, niveau), l'unité validée ou échouée.",
        "Skill: one (tube, level) pair, the unit that is validated or failed.",
    ),
    "course": (
        "Cours d'une plateforme (contexte LTI) : identifiant uuid5 de l'émetteur et du context_id.",
        "A platform's course (LTI context): uuid5 id of the issuer and the context_id.",
    ),
}

REFERENCED_CONCEPTS: Final[tuple[v.Concept, ...]] = (
    *v.VERBS,
    v.ASSESSMENT,
    v.INTERACTION,
    v.OBJECTIVE,
    v.COURSE,
    v.PROFILE_TYPE,
)
"""Concepts Socle uses but ADL defines (its vocabulary and profiles): referenced, never
redefined — xAPI Profiles 1.0 §7: "A Profile MUST NOT define a Concept that is defined in
another Profile"."""


def _activity_type_of(base_url: str, kind: v.ActivityKind) -> str:
    if kind == "parcours":
        return v.ASSESSMENT.iri
    if kind == "challenge":
        return v.INTERACTION.iri
    if kind == "tube":
        return v.tube_activity_type_iri(base_url)
    if kind == "course":
        return v.COURSE.iri
    return v.OBJECTIVE.iri


def _schema(schema: JsonObject) -> str:
    """Profiles carry JSON Schemas as strings (``inlineSchema``)."""
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))


def _extensions(base_url: str) -> list[JsonObject]:
    """Socle's own extensions, with the JSON Schema of their values."""
    version = v.profile_version_iri(base_url)
    answered, completed = [v.ANSWERED.iri], [v.COMPLETED.iri]
    every_verb = [concept.iri for concept in v.VERBS]
    level = {"type": "integer", "minimum": 0, "maximum": v.MAX_LEVEL}
    entries: list[
        tuple[v.ExtensionName, str, list[str], dict[str, str], dict[str, str], JsonObject]
    ]
    entries = [
        (
            "lti",
            "ContextExtension",
            every_verb,
            {"fr": "contexte LTI", "en": "LTI context"},
            {
                "fr": "D'où vient le lancement : plateforme (iss), déploiement, cours "
                "(context_id, context_title) et lien de ressource.",
                "en": "Where the launch came from: platform (iss), deployment, course "
                "(context_id, context_title) and resource link.",
            },
            {
                "type": "object",
                "properties": {
                    key: {"type": "string"}
                    for key in (
                        "iss",
                        "deployment_id",
                        "context_id",
                        "context_title",
                        "resource_link_id",
                    )
                },
                "required": ["iss", "deployment_id"],
                "additionalProperties": False,
            },
        ),
        (
            "answer-status",
            "ResultExtension",
            answered,
            {"fr": "statut de la réponse", "en": "answer status"},
            {
                "fr": "ok (juste), ko (faux), skipped (passée) ou timedout (temps écoulé).",
                "en": "ok (right), ko (wrong), skipped, or timedout (the timer ran out).",
            },
            {"type": "string", "enum": list(v.ANSWER_STATUSES)},
        ),
        (
            "skill-level",
            "ContextExtension",
            answered,
            {"fr": "niveau de l'acquis", "en": "skill level"},
            {
                "fr": "Niveau (1 à 8) de l'acquis que mesure l'épreuve.",
                "en": "Level (1 to 8) of the skill the challenge measures.",
            },
            {"type": "integer", "minimum": 1, "maximum": v.MAX_LEVEL},
        ),
        (
            "levels",
            "ResultExtension",
            completed,
            {"fr": "niveaux par compétence", "en": "levels per competence"},
            {
                "fr": "Niveau atteint (0 à 8) dans chaque compétence mesurée, par code.",
                "en": "Level reached (0 to 8) in each measured competence, by code.",
            },
            {
                "type": "object",
                "patternProperties": {r"^[1-9]\.[0-9]+$": level},
                "additionalProperties": False,
            },
        ),
        (
            "pix",
            "ResultExtension",
            completed,
            {"fr": "score pix", "en": "pix score"},
            {
                "fr": "Score en pix du passage : somme des pix des acquis validés.",
                "en": "Pix score of the attempt: the sum of the pix of validated skills.",
            },
            {"type": "integer", "minimum": 0},
        ),
        (
            "email",
            "ContextExtension",
            every_verb,
            {"fr": "courriel de l'agent", "en": "agent's email"},
            {
                "fr": "Présent seulement si l'enregistrement de la plateforme partage "
                "l'identité ; l'acteur reste identifié par son compte (un seul IFI).",
                "en": "Only when the platform registration shares identity; the actor stays "
                "identified by its account (a single IFI).",
            },
            {"type": "string", "format": "email"},
        ),
        (
            "knowledge-elements",
            "ResultExtension",
            completed,
            {"fr": "acquis évalués", "en": "knowledge elements"},
            {
                "fr": "Un élément par acquis tranché : validé ou échoué, demandé (direct) ou "
                "déduit (inferred), avec sa compétence, son sujet et son niveau.",
                "en": "One item per settled skill: validated or failed, asked (direct) or "
                "deduced (inferred), with its competence, tube and level.",
            },
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "skill": {"type": "string"},
                        "competence": {"type": "string"},
                        "tube": {"type": "string"},
                        "level": {"type": "integer", "minimum": 1, "maximum": v.MAX_LEVEL},
                        "status": {"type": "string", "enum": ["validated", "failed"]},
                        "source": {"type": "string", "enum": ["direct", "inferred"]},
                    },
                    "required": ["skill", "competence", "tube", "level", "status", "source"],
                    "additionalProperties": False,
                },
            },
        ),
    ]
    return [
        {
            "id": v.extension_iri(base_url, name),
            "type": kind,
            "inScheme": version,
            "prefLabel": labels,
            "definition": definitions,
            "recommendedVerbs": verbs,
            "inlineSchema": _schema(schema),
        }
        for name, kind, verbs, labels, definitions, schema in entries
    ]


def concepts(base_url: str) -> list[JsonObject]:
    """The concepts Socle defines: its tube activity type and its extensions (the ADL verbs and
    activity types it uses are referenced from templates, see :data:`REFERENCED_CONCEPTS`)."""
    items: list[JsonObject] = []
    items.append(
        {
            "id": v.tube_activity_type_iri(base_url),
            "type": "ActivityType",
            "inScheme": v.profile_version_iri(base_url),
            "prefLabel": dict(v.TUBE_TYPE_LABELS),
            "definition": dict(v.TUBE_TYPE_DEFINITIONS),
        }
    )
    items.extend(_extensions(base_url))
    return items


def _rule(location: str, presence: str = "included", **extra: Any) -> JsonObject:
    return {"location": location, "presence": presence, **extra}


def templates(base_url: str) -> list[JsonObject]:
    """One statement template per statement of the profile."""
    ext = {name: v.extension_iri(base_url, name) for name in v.EXTENSION_NAMES}
    category = [v.PROFILE_TYPE.iri]
    common = [
        _rule("$.actor.account.homePage"),
        _rule("$.actor.account.name"),
        _rule("$.context.registration"),
        _rule("$.context.platform"),
        _rule("$.context.language"),
        _rule(f"$.context.extensions['{ext['lti']}']"),
        _rule("$.timestamp"),
    ]

    def template(
        name: str,
        verb: v.Concept,
        object_type: str,
        labels: dict[str, str],
        definitions: dict[str, str],
        *,
        rules: list[JsonObject],
        parent: list[str] | None = None,
        grouping: list[str] | None = None,
    ) -> JsonObject:
        item: JsonObject = {
            "id": v.template_iri(base_url, name),
            "type": "StatementTemplate",
            "inScheme": v.profile_version_iri(base_url),
            "prefLabel": labels,
            "definition": definitions,
            "verb": verb.iri,
            "objectActivityType": object_type,
            "contextCategoryActivityType": category,
            "rules": common + rules,
        }
        if parent:
            item["contextParentActivityType"] = parent
        if grouping:
            item["contextGroupingActivityType"] = grouping
        return item

    score = "$.result.score.scaled"
    return [
        template(
            "attempted",
            v.ATTEMPTED,
            v.ASSESSMENT.iri,
            {"fr": "passage commencé", "en": "attempt started"},
            {"fr": "Un agent commence un passage.", "en": "An agent starts an attempt."},
            rules=[],
        ),
        template(
            "answered",
            v.ANSWERED,
            v.INTERACTION.iri,
            {"fr": "épreuve répondue", "en": "challenge answered"},
            {
                "fr": "Une épreuve répondue, passée ou expirée ; la réponse au format "
                "d'interaction xAPI, sans la solution sauf demande de l'enregistrement.",
                "en": "A challenge answered, skipped or timed out; the response in xAPI "
                "interaction format, without the solution unless the registration asks.",
            },
            rules=[
                _rule(
                    "$.object.definition.interactionType",
                    any=["choice", "fill-in", "performance"],
                ),
                _rule("$.result.success"),
                _rule("$.result.duration"),
                _rule("$.result.response", "recommended"),
                _rule(f"$.result.extensions['{ext['answer-status']}']"),
                _rule(f"$.context.extensions['{ext['skill-level']}']"),
            ],
            parent=[v.ASSESSMENT.iri],
            grouping=[v.OBJECTIVE.iri, v.tube_activity_type_iri(base_url)],
        ),
        template(
            "progressed",
            v.PROGRESSED,
            v.ASSESSMENT.iri,
            {"fr": "point d'étape", "en": "checkpoint"},
            {"fr": "Toutes les 5 réponses.", "en": "Every 5 answers."},
            rules=[_rule(f"$.result.extensions['{v.CMI5_PROGRESS}']")],
        ),
        template(
            "completed",
            v.COMPLETED,
            v.ASSESSMENT.iri,
            {"fr": "passage terminé", "en": "attempt completed"},
            {
                "fr": "Fin du passage : maîtrise (score.scaled), durée, niveaux, pix.",
                "en": "End of the attempt: mastery (score.scaled), duration, levels, pix.",
            },
            rules=[
                _rule("$.result.completion", all=[True]),
                _rule(score),
                _rule("$.result.duration"),
                _rule(f"$.result.extensions['{ext['levels']}']"),
                _rule(f"$.result.extensions['{ext['pix']}']"),
                _rule(f"$.result.extensions['{ext['knowledge-elements']}']"),
            ],
        ),
        *(
            template(
                concept.label_en,
                concept,
                v.ASSESSMENT.iri,
                {"fr": f"parcours {concept.label_fr.removeprefix('a ')}", "en": concept.label_en},
                concept.definitions,
                rules=[
                    _rule("$.result.success", all=[concept is v.PASSED]),
                    _rule(score),
                    _rule(f"$.context.extensions['{v.CMI5_MASTERY_SCORE}']"),
                ],
            )
            for concept in (v.PASSED, v.FAILED)
        ),
        template(
            "scored",
            v.SCORED,
            v.OBJECTIVE.iri,
            {"fr": "niveau d'une compétence", "en": "competence level"},
            {
                "fr": "Une par compétence mesurée : score.raw = niveau (0 à 8), min 0, max 8.",
                "en": "One per measured competence: score.raw = level (0 to 8), min 0, max 8.",
            },
            rules=[
                _rule("$.result.score.raw"),
                _rule("$.result.score.min", all=[0]),
                _rule("$.result.score.max", all=[v.MAX_LEVEL]),
                _rule(score),
            ],
            parent=[v.ASSESSMENT.iri],
        ),
        template(
            "suspended",
            v.SUSPENDED,
            v.ASSESSMENT.iri,
            {"fr": "passage suspendu", "en": "attempt suspended"},
            {
                "fr": "L'agent est parti : aucune action depuis plus que le délai "
                "d'inactivité ; horodaté juste après sa dernière action.",
                "en": "The agent left: no action for longer than the idle limit; stamped just "
                "after their last action.",
            },
            rules=[],
        ),
        template(
            "resumed",
            v.RESUMED,
            v.ASSESSMENT.iri,
            {"fr": "passage repris", "en": "attempt resumed"},
            {"fr": "L'agent revient après une suspension.", "en": "The agent comes back."},
            rules=[],
        ),
        template(
            "terminated",
            v.TERMINATED,
            v.ASSESSMENT.iri,
            {"fr": "passage clos", "en": "attempt terminated"},
            {
                "fr": "Dernière déclaration d'un passage terminé ; durée = temps passé.",
                "en": "Last statement of a finished attempt; duration = time on task.",
            },
            rules=[_rule("$.result.duration")],
        ),
        template(
            "abandoned",
            v.ABANDONED,
            v.ASSESSMENT.iri,
            {"fr": "passage abandonné", "en": "attempt abandoned"},
            {
                "fr": "Passage inactif au-delà du délai d'abandon ; durée = temps passé.",
                "en": "Attempt idle past the abandon limit; duration = time on task.",
            },
            rules=[_rule("$.result.duration")],
        ),
    ]


def _pattern_iri(base_url: str, name: str) -> str:
    return f"{v.profile_iri(base_url)}/patterns/{name}"


def patterns(base_url: str) -> list[JsonObject]:
    """The order of statements in a finished attempt."""
    version = v.profile_version_iri(base_url)

    def t(name: str) -> str:
        return v.template_iri(base_url, name)

    def p(name: str) -> str:
        return _pattern_iri(base_url, name)

    def pattern(name: str, labels: dict[str, str], **rule: Any) -> JsonObject:
        return {"id": p(name), "type": "Pattern", "inScheme": version, "prefLabel": labels, **rule}

    return [
        {
            **pattern(
                "attempt",
                {"fr": "passage terminé", "en": "finished attempt"},
                sequence=[
                    t("attempted"),
                    p("answering"),
                    t("completed"),
                    p("verdict"),
                    p("levels"),
                    t("terminated"),
                ],
            ),
            "primary": True,
            "definition": {
                "fr": "attempted, puis réponses, points d'étape, suspensions, reprises et "
                "abandons, puis completed, passed/failed si le parcours a un seuil, un scored "
                "par compétence et terminated. Horodatages strictement croissants.",
                "en": "attempted, then answers, checkpoints, suspensions, resumptions and "
                "abandons, then completed, passed/failed when the parcours has a threshold, "
                "one scored per competence and terminated. Timestamps strictly increase.",
            },
        },
        pattern("answering", {"fr": "réponses", "en": "answers"}, zeroOrMore=p("step")),
        pattern(
            "step",
            {"fr": "réponse, point d'étape ou session", "en": "answer, checkpoint or session"},
            alternates=[
                t("answered"),
                t("progressed"),
                t("suspended"),
                t("resumed"),
                t("abandoned"),
            ],
        ),
        pattern("verdict", {"fr": "verdict", "en": "verdict"}, optional=p("passed-or-failed")),
        pattern(
            "passed-or-failed",
            {"fr": "réussi ou échoué", "en": "passed or failed"},
            alternates=[t("passed"), t("failed")],
        ),
        pattern("levels", {"fr": "niveaux", "en": "levels"}, zeroOrMore=t("scored")),
    ]


def profile_document(base_url: str) -> JsonObject:
    """The xAPI Profile served at ``/xapi/profile.jsonld``."""
    base = v.normalize_base_url(base_url)
    return {
        "@context": PROFILES_CONTEXT,
        "id": v.profile_iri(base),
        "type": "Profile",
        "conformsTo": PROFILES_CONFORMS_TO,
        "prefLabel": {"fr": "Profil xAPI de Socle", "en": "Socle xAPI profile"},
        "definition": {
            "fr": "Déclarations émises par Socle, outil LTI d'évaluation adaptative des "
            "compétences numériques des agents publics : qui a commencé, qui a terminé, avec "
            "quels niveaux, sur quelles épreuves.",
            "en": "Statements emitted by Socle, an LTI tool for the adaptive assessment of "
            "public-service agents' digital competences: who started, who finished, with which "
            "levels, on which challenges.",
        },
        "seeAlso": f"{base}{v.PROFILE_DOCUMENT_PATH}",
        "versions": [{"id": v.profile_version_iri(base), "generatedAtTime": PROFILE_VERSION_DATE}],
        "author": {"type": "Organization", "name": "Socle"},
        "concepts": concepts(base),
        "templates": templates(base),
        "patterns": patterns(base),
    }


def describe_iri(base_url: str, path: str) -> JsonObject | None:
    """A short description of one IRI minted under ``base_url``, or None if Socle has none.

    ``path`` is the request path relative to the base (``/xapi/activities/parcours/x``) or the
    full IRI. An activity gets xAPI *activity metadata*: an Activity Definition object (``type``,
    a generic ``description``, ``moreInfo``) that the web app completes with the ``name`` and
    ``description`` it knows from the content — the same ``definition`` statements carry, so an
    LRS that fetches the metadata (xAPI 1.0.3 §2.4.4.1) learns nothing different.
    """
    base = v.normalize_base_url(base_url)
    if path.startswith(base + "/"):
        path = path[len(base) :]
    path = urlsplit(path).path
    if not path.startswith("/"):
        path = "/" + path
    path = path.rstrip("/") or "/"
    if path == v.PROFILE_PATH:
        return profile_document(base)  # the profile IRI resolves to the whole document
    if path == v.PROFILE_VERSION_PATH:
        return {**profile_document(base), "id": base + path}
    activity = v.parse_activity_path(path)
    if activity is not None:
        kind, _identifier = activity
        text_fr, text_en = _ACTIVITY_KIND_TEXT[kind]
        return {
            "type": _activity_type_of(base, kind),
            "description": {"fr": text_fr, "en": text_en},
            "moreInfo": f"{base}{v.PROFILE_DOCUMENT_PATH}",
        }
    document = profile_document(base)
    iri = base + path
    for section in ("concepts", "templates", "patterns"):
        for item in document[section]:
            if item["id"] == iri:
                described: JsonObject = dict(item)
                if "inlineSchema" in described:
                    described["inlineSchema"] = json.loads(described["inlineSchema"])
                return described
    return None
