"""Small builders for domain values used across the domain tests."""

from __future__ import annotations

from decimal import Decimal

from lti_tool.domain.framework import (
    ALL_TOLERANCES,
    AnswerFormat,
    Area,
    Challenge,
    ChallengeType,
    Competence,
    Content,
    DependentSolution,
    Field,
    FieldsSolution,
    MultipleChoiceSolution,
    NumberSolution,
    Parcours,
    SingleChoiceSolution,
    Skill,
    Stage,
    TargetTube,
    Text,
    TextSolution,
    ThematicResult,
    Tolerance,
    Tube,
    skill_id,
)


def qcu(solution: int = 2, count: int = 4) -> Challenge:
    return Challenge(
        id="c-qcu",
        skill_id="s-1",
        type=ChallengeType.QCU,
        instruction=Text("?"),
        solution=SingleChoiceSolution(solution),
        proposals=tuple(Text(f"p{i}") for i in range(1, count + 1)),
    )


def qcm(solution: set[int], count: int = 4) -> Challenge:
    return Challenge(
        id="c-qcm",
        skill_id="s-1",
        type=ChallengeType.QCM,
        instruction=Text("?"),
        solution=MultipleChoiceSolution(frozenset(solution)),
        proposals=tuple(Text(f"p{i}") for i in range(1, count + 1)),
    )


def qroc(*accepted: str, tolerances: frozenset[Tolerance] = ALL_TOLERANCES) -> Challenge:
    return Challenge(
        id="c-qroc",
        skill_id="s-1",
        type=ChallengeType.QROC,
        instruction=Text("?"),
        solution=TextSolution(tuple(accepted)),
        tolerances=tolerances,
    )


def number(*accepted: str, units: tuple[str, ...] = ()) -> Challenge:
    return Challenge(
        id="c-number",
        skill_id="s-1",
        type=ChallengeType.QROC,
        instruction=Text("?"),
        solution=NumberSolution(tuple(Decimal(value) for value in accepted), units),
        answer_format=AnswerFormat.NUMBER,
    )


def qrocm_ind(tolerances: frozenset[Tolerance] = ALL_TOLERANCES) -> Challenge:
    return Challenge(
        id="c-ind",
        skill_id="s-1",
        type=ChallengeType.QROCM_IND,
        instruction=Text("?"),
        fields=(
            Field("ville", Text("Ville")),
            Field("format", Text("Format"), options=("PDF", "ODT", "EXE")),
        ),
        solution=FieldsSolution((("ville", ("Montpellier",)), ("format", ("PDF", "ODT")))),
        tolerances=tolerances,
    )


def qrocm_dep(expected: int = 2) -> Challenge:
    return Challenge(
        id="c-dep",
        skill_id="s-1",
        type=ChallengeType.QROCM_DEP,
        instruction=Text("?"),
        fields=(Field("a", Text("A")), Field("b", Text("B"))),
        solution=DependentSolution(
            (("courriel", "e-mail", "mail"), ("tableur",), ("pdf",)), expected
        ),
    )


def tube(tube_id: str, competence: str, levels: range, challenges_per_skill: int = 1) -> Tube:
    """A tube whose skills each have ``challenges_per_skill`` qcu challenges."""
    skills = []
    for level in levels:
        sid = skill_id(tube_id, level)
        skills.append(
            Skill(
                id=sid,
                tube_id=tube_id,
                competence_code=competence,
                level=level,
                description=Text(sid),
                challenges=tuple(
                    Challenge(
                        id=f"{sid}-{letter}",
                        skill_id=sid,
                        type=ChallengeType.QCU,
                        instruction=Text("?"),
                        solution=SingleChoiceSolution(1),
                        proposals=(Text("a"), Text("b"), Text("c")),
                    )
                    for letter in "abc"[:challenges_per_skill]
                ),
            )
        )
    return Tube(tube_id, competence, Text(tube_id), skills=tuple(skills))


def small_content(
    targets: dict[str, int] | None = None,
    *,
    challenges_per_skill: int = 1,
) -> Content:
    """Competence 1.1: tubes t1 (levels 1-3) and t2 (1-2); 2.1: tubes b1, b2, b3 (1-2).

    Parcours ``p`` targets every tube up to ``targets[tube]`` (default: all levels).
    """
    tubes = [
        tube("t1", "1.1", range(1, 4), challenges_per_skill),
        tube("t2", "1.1", range(1, 3), challenges_per_skill),
        tube("b1", "2.1", range(1, 3), challenges_per_skill),
        tube("b2", "2.1", range(1, 3), challenges_per_skill),
        tube("b3", "2.1", range(1, 3), challenges_per_skill),
    ]
    limits = targets or {t.id: max(s.level for s in t.skills) for t in tubes}
    parcours = Parcours(
        id="p",
        title=Text("P"),
        tubes=tuple(TargetTube(tube_id, level) for tube_id, level in limits.items()),
        stages=(Stage(0, Text("zéro")), Stage(50, Text("moitié")), Stage(80, Text("presque"))),
        thematic_results=(
            ThematicResult("badge-a", Text("A"), ("t1",), 100),
            ThematicResult("badge-b", Text("B"), ("b1", "b2"), 75),
            ThematicResult("badge-c", Text("C"), ("b3",), 60),
        ),
        mastery_threshold=80,
    )
    return Content(
        level_descriptors={},
        areas=(Area("1", Text("Un"), ("1.1",)), Area("2", Text("Deux"), ("2.1",))),
        competences={
            "1.1": Competence("1.1", "1", Text("Chercher")),
            "2.1": Competence("2.1", "2", Text("Interagir")),
        },
        tubes={t.id: t for t in tubes},
        parcours={parcours.id: parcours},
    )
