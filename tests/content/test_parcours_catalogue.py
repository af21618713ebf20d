"""Parcours catalogue extensions: groups, whole competences as targets, thematic results by
competence, and measured durations (``durations.yaml``, ``socle simulate --durations``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lti_tool.content import lint_content, load_content
from lti_tool.content.commands import measure_durations, simulate
from lti_tool.content.durations import Method, read_measures, read_method
from lti_tool.domain.durations import (
    ANSWER_SECONDS,
    ATTACHMENT_SECONDS,
    READING_WORDS_PER_MINUTE,
    challenge_seconds,
    within_tolerance,
)
from lti_tool.domain.framework import (
    Challenge,
    ChallengeType,
    Field,
    FieldsSolution,
    ParcoursGroup,
    SingleChoiceSolution,
    TargetTube,
    Text,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VALID = FIXTURES / "content-valid"
REAL = Path(__file__).resolve().parents[2] / "content"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(VALID, target)
    return target


def write_parcours(tree: Path, body: str, name: str = "theme") -> Path:
    path = tree / "parcours" / f"{name}.yaml"
    path.write_text(f'id: {name}\ntitle: "Thème"\n' + body, encoding="utf-8")
    return path


def problems(tree: Path) -> tuple[list[str], list[str]]:
    report = lint_content(tree)
    return [str(p) for p in report.errors], [str(p) for p in report.warnings]


def test_group_is_read_and_checked(tree: Path) -> None:
    assert load_content(tree).parcours["essentiel"].group is ParcoursGroup.SOCLE_COMMUN
    write_parcours(tree, "group: metiers\ntubes:\n  - {tube: courriel, max_level: 2}\n")
    assert load_content(tree).parcours["theme"].group is ParcoursGroup.METIERS
    write_parcours(tree, "group: metier\ntubes:\n  - {tube: courriel, max_level: 2}\n")
    errors, _ = problems(tree)
    assert errors == [
        "parcours/theme.yaml:3: the group of parcours 'theme' must be one of: metiers, "
        "socle-commun, thematiques (not 'metier')"
    ]


def test_a_parcours_without_group_is_thematic_with_a_warning(tree: Path) -> None:
    write_parcours(tree, "tubes:\n  - {tube: courriel, max_level: 2}\n")
    errors, warnings = problems(tree)
    assert errors == []
    assert (
        "parcours/theme.yaml:1: warning: parcours 'theme' has no 'group' (socle-commun, metiers "
        "or thematiques): the catalogue lists it under thematiques"
    ) in warnings
    assert load_content(tree).parcours["theme"].group is ParcoursGroup.THEMATIQUES


def test_a_whole_competence_expands_to_its_tubes_capped_at_their_levels(tree: Path) -> None:
    write_parcours(
        tree,
        "group: thematiques\n"
        "competences:\n"
        '  - {competence: "1.1", max_level: 6}\n'
        '  - {competence: "2.1", max_level: 1}\n',
    )
    errors, warnings = problems(tree)
    assert errors == []
    assert not [w for w in warnings if "max_level" in w]  # capping a competence is no warning
    parcours = load_content(tree).parcours["theme"]
    assert parcours.tubes == (TargetTube("recherche-web", 3), TargetTube("courriel", 1))


def test_a_listed_tube_keeps_its_own_level(tree: Path) -> None:
    write_parcours(
        tree,
        "group: thematiques\n"
        "tubes:\n  - {tube: recherche-web, max_level: 2}\n"
        'competences:\n  - {competence: "1.1", max_level: 3}\n'
        '  - {competence: "1.2", max_level: 3}\n',
    )
    parcours = load_content(tree).parcours["theme"]
    assert parcours.tubes == (
        TargetTube("recherche-web", 2),
        TargetTube("organisation-fichiers", 2),
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            'competences:\n  - {competence: "9.9", max_level: 3}\n',
            "parcours/theme.yaml:5: unknown competence '9.9'",
        ),
        (
            'competences:\n  - {competence: "1.1", max_level: 3}\n'
            '  - {competence: "1.1", max_level: 2}\n',
            "parcours/theme.yaml:6: competence 1.1 is listed twice in parcours 'theme' "
            "(first at line 5)",
        ),
        (
            "stages: []\n",
            "parcours/theme.yaml:1: parcours 'theme' needs 'tubes', 'competences' or both: what "
            "does it measure?",
        ),
    ],
)
def test_competence_target_errors(tree: Path, body: str, expected: str) -> None:
    write_parcours(tree, "group: thematiques\n" + body)
    errors, _ = problems(tree)
    assert expected in errors


def test_a_competence_without_tube_in_range_is_an_error(tree: Path) -> None:
    (tree / "tubes" / "1.2" / "organisation-fichiers.yaml").write_text(
        (tree / "tubes" / "1.2" / "organisation-fichiers.yaml")
        .read_text(encoding="utf-8")
        .replace("level: 1", "level: 3", 1),
        encoding="utf-8",
    )
    write_parcours(
        tree, 'group: thematiques\ncompetences:\n  - {competence: "1.2", max_level: 1}\n'
    )
    errors, _ = problems(tree)
    assert (
        "parcours/theme.yaml:5: competence 1.2 has no tube with a skill at or below level 1"
    ) in errors


def test_thematic_results_by_competence(tree: Path) -> None:
    write_parcours(
        tree,
        "group: thematiques\n"
        'competences:\n  - {competence: "1.1", max_level: 3}\n'
        "tubes:\n  - {tube: courriel, max_level: 2}\n"
        "thematic_results:\n"
        '  - {id: chercher, title: "Chercher", competences: ["1.1"], threshold: 70}\n'
        '  - {id: tout, title: "Tout", competences: ["1.1"], tubes: [courriel], threshold: 60}\n',
    )
    badges = load_content(tree).parcours["theme"].thematic_results
    assert [(b.id, b.tube_ids) for b in badges] == [
        ("chercher", ("recherche-web",)),
        ("tout", ("courriel", "recherche-web")),
    ]
    write_parcours(
        tree,
        "group: thematiques\n"
        "tubes:\n  - {tube: courriel, max_level: 2}\n"
        "thematic_results:\n"
        '  - {id: chercher, title: "Chercher", competences: ["1.1"], threshold: 70}\n',
    )
    errors, _ = problems(tree)
    assert errors == [
        "parcours/theme.yaml:7: thematic result 'chercher' uses competence 1.1, which has no "
        "tube in the parcours"
    ]


# --- measured durations ---------------------------------------------------------------------


DURATIONS = """method: {algorithm: socle, world: standard, learners: 5, seed: 3}
parcours:
  essentiel: {challenges: 6, minutes: 7}
"""


def test_measured_durations_are_applied(tree: Path) -> None:
    (tree / "durations.yaml").write_text(DURATIONS, encoding="utf-8")
    parcours = load_content(tree).parcours["essentiel"]
    assert (parcours.duration, parcours.expected_challenges) == (7, 6)
    _, warnings = problems(tree)
    assert warnings == [
        "parcours/essentiel.yaml:1: warning: parcours 'essentiel' declares 10 min but 7 min "
        "were measured (durations.yaml): remove 'duration'"
    ]
    assert read_method(tree) == Method("socle", "standard", 5, 3)
    assert read_measures(tree) == {"essentiel": (6, 7)}


def test_unmeasured_and_unknown_parcours_are_warned(tree: Path) -> None:
    (tree / "durations.yaml").write_text(
        DURATIONS.replace("essentiel:", "disparu:"), encoding="utf-8"
    )
    _, warnings = problems(tree)
    assert warnings == [
        "durations.yaml:3: warning: measure of unknown parcours 'disparu': run 'socle simulate "
        "--durations --write' again",
        "parcours/essentiel.yaml:1: warning: parcours 'essentiel' has no measured duration in "
        "durations.yaml: run 'socle simulate --durations --write'",
    ]


def test_a_malformed_durations_file_is_an_error(tree: Path) -> None:
    (tree / "durations.yaml").write_text(
        DURATIONS.replace("minutes: 7", "minutes: 0"), encoding="utf-8"
    )
    errors, _ = problems(tree)
    assert errors == ["durations.yaml:3: minutes (median) must be between 1 and 600, not 0"]


def _challenge(kind: ChallengeType, instruction: str, **extra: object) -> Challenge:
    return Challenge(
        id="x-1-a",
        skill_id="x-1",
        type=kind,
        instruction=Text(instruction),
        solution=extra.pop("solution", SingleChoiceSolution(1)),  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )


def test_time_model_per_challenge() -> None:
    words = " ".join(["mot"] * 39)
    qcu = _challenge(ChallengeType.QCU, words, proposals=(Text("oui"), Text("non")))
    reading = 60 * 41 / READING_WORDS_PER_MINUTE
    assert challenge_seconds(qcu) == pytest.approx(reading + ANSWER_SECONDS[ChallengeType.QCU])
    with_file = _challenge(
        ChallengeType.QCU,
        words,
        proposals=(Text("oui"), Text("non")),
        attachments=("attachments/a.ods",),
    )
    assert challenge_seconds(with_file) == pytest.approx(
        challenge_seconds(qcu) + ATTACHMENT_SECONDS
    )
    fields = _challenge(
        ChallengeType.QROCM_IND,
        "Complétez.",
        fields=(Field("a", Text("Un")), Field("b", Text("Deux"))),
        solution=FieldsSolution((("a", ("1",)), ("b", ("2",)))),
    )
    expected = 60 * 3 / READING_WORDS_PER_MINUTE + 2 * ANSWER_SECONDS[ChallengeType.QROCM_IND]
    assert challenge_seconds(fields) == pytest.approx(expected)
    timed = _challenge(ChallengeType.QCU, words, proposals=(Text("a"), Text("b")), timer=10)
    assert challenge_seconds(timed) == 10


def test_tolerance() -> None:
    assert within_tolerance(40, 43)
    assert not within_tolerance(40, 46)
    assert within_tolerance(5, 7)
    assert not within_tolerance(5, 8)


def test_simulate_durations_writes_a_file_the_loader_reads(tree: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        simulate, ["--durations", "--write", "--learners", "5", "--content-dir", str(tree)]
    )
    assert result.exit_code == 0, result.output
    assert "median of 5 simulated learners (world standard, algorithm socle, seed 1)" in (
        result.output
    )
    assert result.output.splitlines()[-1] == f"written: {tree / 'durations.yaml'}"
    content = load_content(tree)
    measured = measure_durations(content, Method(learners=5))
    parcours = content.parcours["essentiel"]
    assert (parcours.expected_challenges, parcours.duration) == (
        measured[0].challenges,
        measured[0].minutes,
    )
    again = runner.invoke(simulate, ["--durations", "--learners", "5", "--content-dir", str(tree)])
    row = next(line for line in again.output.splitlines() if line.startswith("essentiel"))
    assert row.endswith(f"{measured[0].challenges} ch., {measured[0].minutes} min")


def test_write_needs_durations() -> None:
    result = CliRunner().invoke(simulate, ["--write", "--content-dir", str(VALID)])
    assert result.exit_code == 2
    assert "--write goes with --durations" in result.output


def test_stored_durations_match_the_simulation() -> None:
    """Every parcours of content/ has a measured duration that a fresh run still gives.

    Fails when the content changed (tubes, levels, challenges) and nobody ran
    ``socle simulate --durations --write`` again.
    """
    content = load_content(REAL)
    method = read_method(REAL)
    assert method is not None, "content/durations.yaml is missing"
    stored = read_measures(REAL)
    assert sorted(stored) == sorted(content.parcours), (
        "run 'socle simulate --durations --write': the measured parcours differ"
    )
    stale = [
        f"{m.parcours_id}: stored {stored[m.parcours_id]}, measured ({m.challenges}, {m.minutes})"
        for m in measure_durations(content, method)
        if not within_tolerance(stored[m.parcours_id][0], m.challenges)
        or not within_tolerance(stored[m.parcours_id][1], m.minutes)
    ]
    assert not stale, "run 'socle simulate --durations --write': " + "; ".join(stale)
