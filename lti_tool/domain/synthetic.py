"""Synthetic content of the shape of ``socle-commun``, generated in memory.

Used by tests and benchmarks so that the engine can be measured before (and independently
of) the real content: 16 competences in 5 areas, 2–3 tubes each, skills at levels 1–5, about
1.7 challenges per skill, all five challenge types. Everything it produces is clearly
labelled "synthetic" and never written to disk.
"""

from __future__ import annotations

import random
from decimal import Decimal

from lti_tool.domain.framework import (
    AnswerFormat,
    Area,
    Challenge,
    ChallengeType,
    Competence,
    Content,
    DependentSolution,
    Field,
    FieldsSolution,
    JobProfile,
    MultipleChoiceSolution,
    NumberSolution,
    Parcours,
    SingleChoiceSolution,
    Skill,
    Solution,
    Stage,
    TargetTube,
    Text,
    TextSolution,
    ThematicResult,
    Tube,
    skill_id,
)

#: The 16 competences of the French framework, by area.
FRAMEWORK_CODES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("1", ("1.1", "1.2", "1.3")),
    ("2", ("2.1", "2.2", "2.3", "2.4")),
    ("3", ("3.1", "3.2", "3.3", "3.4")),
    ("4", ("4.1", "4.2", "4.3")),
    ("5", ("5.1", "5.2")),
)
SYNTHETIC_PARCOURS = "socle-commun"
#: Challenge types and their share, close to what authors write (mostly qcu/qcm).
TYPE_SHARES: tuple[tuple[ChallengeType, float], ...] = (
    (ChallengeType.QCU, 0.45),
    (ChallengeType.QCM, 0.25),
    (ChallengeType.QROC, 0.15),
    (ChallengeType.QROCM_IND, 0.08),
    (ChallengeType.QROCM_DEP, 0.07),
)


def _challenge(challenge_id: str, skill: str, kind: ChallengeType, rng: random.Random) -> Challenge:
    instruction = Text(f"Épreuve synthétique {challenge_id}")
    proposals: tuple[Text, ...] = ()
    fields: tuple[Field, ...] = ()
    answer_format = AnswerFormat.TEXT
    solution: Solution
    if kind is ChallengeType.QCU:
        proposals = tuple(Text(f"Proposition {i}") for i in range(1, rng.choice((3, 4, 4)) + 1))
        solution = SingleChoiceSolution(rng.randint(1, len(proposals)))
    elif kind is ChallengeType.QCM:
        proposals = tuple(Text(f"Proposition {i}") for i in range(1, 5))
        solution = MultipleChoiceSolution(frozenset(rng.sample(range(1, 5), rng.randint(2, 3))))
    elif kind is ChallengeType.QROC:
        if rng.random() < 0.4:
            answer_format = AnswerFormat.NUMBER
            solution = NumberSolution((Decimal(rng.randint(2, 500)),))
        else:
            solution = TextSolution(("réponse attendue", "reponse"))
    elif kind is ChallengeType.QROCM_IND:
        fields = (
            Field("a", Text("Champ A")),
            Field("b", Text("Champ B"), options=("oui", "non", "peut-être")),
        )
        solution = FieldsSolution((("a", ("alpha",)), ("b", ("oui",))))
    else:
        fields = (Field("x", Text("Premier")), Field("y", Text("Second")))
        solution = DependentSolution((("pdf",), ("odt",), ("docx",)), expected=2)
    return Challenge(
        id=challenge_id,
        skill_id=skill,
        type=kind,
        instruction=instruction,
        solution=solution,
        proposals=proposals,
        fields=fields,
        answer_format=answer_format,
        shuffle=kind in (ChallengeType.QCU, ChallengeType.QCM),
    )


def synthetic_content(
    rng: random.Random,
    *,
    levels: tuple[int, ...] = (1, 2, 3, 4, 5),
    two_challenge_share: float = 0.7,
    challenges_per_skill: int | None = None,
    tubes_per_competence: int | None = None,
) -> Content:
    """A complete, valid content with one parcours ``socle-commun`` targeting every tube.

    By default 2–3 tubes per competence and 1–2 challenges per skill (70 % with two), like
    today's content; ``challenges_per_skill`` and ``tubes_per_competence`` fix them instead
    (the deeper bank authors are writing: 3 per skill, 4 tubes, levels up to 7).
    """
    kinds = [kind for kind, _ in TYPE_SHARES]
    weights = [share for _, share in TYPE_SHARES]
    areas: list[Area] = []
    competences: dict[str, Competence] = {}
    tubes: dict[str, Tube] = {}
    for area_code, codes in FRAMEWORK_CODES:
        areas.append(Area(area_code, Text(f"Domaine {area_code}"), codes))
        for code in codes:
            competences[code] = Competence(code, area_code, Text(f"Compétence {code}"))
            tube_count = tubes_per_competence or rng.choice((2, 2, 3))
            for number in range(1, tube_count + 1):
                tube_id = f"sujet-{code.replace('.', '-')}-{number}"
                skills: list[Skill] = []
                for level in levels:
                    sid = skill_id(tube_id, level)
                    count = challenges_per_skill or (2 if rng.random() < two_challenge_share else 1)
                    challenges = tuple(
                        _challenge(f"{sid}-{letter}", sid, rng.choices(kinds, weights)[0], rng)
                        for letter in "abcdefgh"[:count]
                    )
                    skills.append(
                        Skill(
                            id=sid,
                            tube_id=tube_id,
                            competence_code=code,
                            level=level,
                            description=Text(f"Acquis {sid}"),
                            challenges=challenges,
                        )
                    )
                tubes[tube_id] = Tube(tube_id, code, Text(f"Sujet {tube_id}"), skills=tuple(skills))
    security = tuple(t for t in tubes if t.startswith(("sujet-4-1", "sujet-4-2")))
    parcours = Parcours(
        id=SYNTHETIC_PARCOURS,
        title=Text("Socle commun (synthétique)"),
        tubes=tuple(TargetTube(tube_id, max(levels)) for tube_id in tubes),
        stages=(
            Stage(0, Text("Premiers pas")),
            Stage(30, Text("En route")),
            Stage(60, Text("Autonome")),
            Stage(85, Text("Expert")),
        ),
        thematic_results=(ThematicResult("securite", Text("Sécurité"), security, 70),),
        mastery_threshold=50,
    )
    profile = JobProfile(
        "accueil-usagers",
        Text("Accueil des usagers"),
        expected=(("1.1", 3), ("2.1", 3), ("4.1", 2)),
    )
    return Content(
        level_descriptors={level: Text(f"Niveau {level}") for level in range(1, 9)},
        areas=tuple(areas),
        competences=competences,
        tubes=tubes,
        parcours={parcours.id: parcours},
        job_profiles={profile.id: profile},
    )
