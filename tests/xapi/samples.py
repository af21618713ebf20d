"""Plain values of one realistic attempt, shared by the golden, LRS and CLI tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from xapi.builders import (
    TICK,
    Answer,
    Attempt,
    Challenge,
    Choice,
    Competence,
    CompetenceLevel,
    KnowledgeElement,
    Learner,
    LtiContext,
    Outcome,
    Parcours,
    Skill,
    StatementBuilder,
    Text,
    Tube,
)

BASE_URL = "https://socle.example.fr"
ISSUER = "https://moodle.agglo-exemple.fr"
ATTEMPT_ID = uuid.UUID("0b7e3f4e-5a1c-4d2b-9f6e-1c2d3e4f5a6b")
STARTED = datetime(2026, 3, 2, 9, 30, 0, tzinfo=UTC)
SOFTWARE_VERSION = "1.4.0"
CONTENT_VERSION = "sha256:0123456789ab"


def make_builder(**options: Any) -> StatementBuilder:
    """The builder of a deployment running Socle 1.4.0 (``options``: share_identity, …)."""
    return StatementBuilder(BASE_URL, software_version=SOFTWARE_VERSION, **options)


COMMUNICATION = Competence("2.1", Text("Interagir", "Interacting"))
SECURITY = Competence("4.1", Text("Sécuriser l'environnement numérique", "Securing"))
ATTACHMENTS = Tube("pieces-jointes", Text("Pièces jointes", "Attachments"))
PASSWORDS = Tube("mots-de-passe", Text("Mots de passe", "Passwords"))

QCU = Challenge(
    "pj-joindre-1",
    "qcu",
    Text("Vous devez envoyer le compte rendu à votre collègue. Que faites-vous ?"),
    (
        Choice("1", Text("Je copie le texte dans le corps du message")),
        Choice("2", Text("J'ajoute le fichier en pièce jointe")),
        Choice("3", Text("J'envoie le chemin du fichier")),
    ),
    correct_responses=("2",),
    name=Text("Envoyer le compte rendu à un collègue", "Sending the report to a colleague"),
)
QCM = Challenge(
    "mdp-robustes-1",
    "qcm",
    Text("Quels mots de passe sont robustes ?", "Which passwords are strong?"),
    (
        Choice("1", Text("azerty123")),
        Choice("2", Text("Cheval-Agrafe-Batterie-Correct")),
        Choice("3", Text("Mairie2026")),
        Choice("4", Text("t9#Lq!v2Wm@8")),
    ),
    correct_responses=("2[,]4",),
)
QROC = Challenge(
    "pj-poids-1",
    "qroc",
    Text("Quelle est l'extension du fichier joint ?"),
    correct_responses=("odt",),
)
QROCM = Challenge(
    "mdp-longueur-1",
    "qrocm-ind",
    Text("Complétez : longueur minimale et nombre de familles de caractères."),
    steps=(
        Choice("longueur", Text("Longueur minimale")),
        Choice("familles", Text("Familles de caractères")),
    ),
    correct_responses=("familles[:]4[,]longueur[:]12",),
)


def attempt(
    attempt_id: uuid.UUID = ATTEMPT_ID, *, threshold: float | None = 0.5, sub: str = "sub-7f3a"
) -> Attempt:
    """The attempt of one agent at the parcours ``socle-commun``."""
    return Attempt(
        id=attempt_id,
        learner=Learner(ISSUER, sub, name="Camille Agent", email="camille.agent@example.fr"),
        lti=LtiContext(
            issuer=ISSUER,
            deployment_id="deploiement-1",
            context_id="cours-42",
            context_title="Compétences numériques — agents d'accueil",
            resource_link_id="lien-7",
        ),
        parcours=Parcours(
            "socle-commun",
            Text("Socle commun des compétences numériques", "Common digital skills"),
            Text("Le parcours de tous les agents.", "The parcours for every agent."),
            mastery_threshold=threshold,
        ),
        locale="fr",
        content_version=CONTENT_VERSION,
    )


def answers() -> list[Answer]:
    """Six answers: right, wrong, skipped, timed out, a free text and a multi-field one."""
    skill_2 = Skill("pieces-jointes-2", 2, Text("Joindre un fichier à un courriel"))
    skill_3 = Skill("mots-de-passe-3", 3, Text("Choisir un mot de passe robuste"))
    at = STARTED
    rows: list[tuple[Challenge, Competence, Tube, Skill, str, Any, float]] = [
        (QCU, COMMUNICATION, ATTACHMENTS, skill_2, "ok", "2", 21.5),
        (QCM, SECURITY, PASSWORDS, skill_3, "ko", ("4", "1"), 42.345),
        (QROC, COMMUNICATION, ATTACHMENTS, skill_2, "skipped", None, 7.0),
        (QCM, SECURITY, PASSWORDS, skill_3, "timedout", None, 60.0),
        (QROC, COMMUNICATION, ATTACHMENTS, skill_2, "ok", "odt", 15.25),
        (QROCM, SECURITY, PASSWORDS, skill_3, "ok", (("longueur", "12"), ("familles", "4")), 33.0),
    ]
    result = []
    for index, (challenge, competence, tube, skill, status, response, seconds) in enumerate(rows):
        at += timedelta(seconds=seconds)
        result.append(
            Answer(
                sequence=index + 1,
                challenge=challenge,
                competence=competence,
                tube=tube,
                skill=skill,
                status=status,  # type: ignore[arg-type]
                response=response,
                duration=timedelta(seconds=seconds),
                timestamp=at,
            )
        )
    return result


def outcome() -> Outcome:
    """The end of the attempt: 62 % mastery, levels 3 and 2."""
    return Outcome(
        mastery=0.62,
        duration=timedelta(minutes=23, seconds=5, milliseconds=500),
        levels=(CompetenceLevel(COMMUNICATION, 3), CompetenceLevel(SECURITY, 2)),
        pix=57,
        timestamp=STARTED + timedelta(minutes=23, seconds=5, milliseconds=500),
        knowledge_elements=(
            KnowledgeElement("pieces-jointes-2", "2.1", "pieces-jointes", 2, "validated", "direct"),
            KnowledgeElement(
                "pieces-jointes-1", "2.1", "pieces-jointes", 1, "validated", "inferred"
            ),
            KnowledgeElement("mots-de-passe-3", "4.1", "mots-de-passe", 3, "failed", "direct"),
            KnowledgeElement("mots-de-passe-4", "4.1", "mots-de-passe", 4, "failed", "inferred"),
        ),
    )


def full_attempt(
    builder: StatementBuilder | None = None,
    attempt_id: uuid.UUID = ATTEMPT_ID,
    *,
    sub: str = "sub-7f3a",
    sessions: bool = False,
) -> list[dict[str, Any]]:
    """Every statement of one attempt, in the order the player would enqueue them.

    ``sessions``: with a pause (suspended, resumed) and the final ``terminated``; without, the
    12 statements the delivery tests count on.
    """
    build = builder or make_builder()
    current = attempt(attempt_id, sub=sub)
    statements = [build.attempt_started(current, STARTED)]
    for answer in answers():
        if sessions and answer.sequence == 4:  # the agent left after the third answer
            last = answers()[2].timestamp
            statements.append(build.suspended(current, last))
            statements.append(build.resumed(current, last, answer.timestamp - timedelta(seconds=1)))
        statements.append(build.challenge_answered(current, answer))
        if answer.sequence == 5:
            statements.append(
                build.progressed(
                    current, answers_count=5, progress=50, timestamp=answer.timestamp + TICK
                )
            )
    ended = build.attempt_ended(current, outcome())
    statements.extend(ended if sessions else ended[:-1])  # the last one is terminated
    return statements
