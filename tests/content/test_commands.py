"""``socle content lint|stats`` and ``socle simulate`` through click's test runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from lti_tool.content.commands import content, simulate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VALID = str(FIXTURES / "content-valid")
INVALID = str(FIXTURES / "content-invalid-references")


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("SOCLE_CONTENT_DIR", raising=False)
    return CliRunner()


def test_lint_ok(runner: CliRunner) -> None:
    result = runner.invoke(content, ["lint", "--content-dir", VALID])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"OK {VALID}: 3 competences, 3 tubes, 7 skills, 9 challenges, 4 tutorials, "
        "1 parcours, 1 job profiles, 0 warning(s)\n"
    )


def test_lint_reads_the_environment(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCLE_CONTENT_DIR", VALID)
    result = runner.invoke(content, ["lint"])
    assert result.exit_code == 0
    assert result.output.startswith(f"OK {VALID}:")


def test_lint_lists_problems_and_fails(runner: CliRunner) -> None:
    result = runner.invoke(content, ["lint", "--content-dir", INVALID])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "parcours/essai.yaml:5: unknown tube 'sujet-inconnu'" in lines
    assert "tutorials.yaml:11: warning: tutorial 'orpheline' is not used by any skill" in lines
    assert lines[-1] == f"Error: {INVALID}: 14 error(s), 2 warning(s)"


def test_stats(runner: CliRunner) -> None:
    result = runner.invoke(content, ["stats", "--content-dir", VALID])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()]
    assert ["1.1", "1", "3", "4", "4"] in rows  # competence, tubes, skills, challenges, served
    assert ["2.1", "1", "2", "3", "2"] in rows  # one draft challenge is not served
    assert ["qcu", "4", "3"] in rows
    assert ["essentiel", "3", "3", "7", "8"] in rows


def test_stats_on_invalid_content_is_one_clear_line(runner: CliRunner) -> None:
    result = runner.invoke(content, ["stats", "--content-dir", INVALID])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert result.output.startswith(f"Error: invalid content in {INVALID} (14 errors; first: ")
    assert result.output.rstrip().endswith("run 'socle content lint' for the list")


def test_simulate_on_synthetic_content(runner: CliRunner) -> None:
    result = runner.invoke(simulate, ["--synthetic", "--learners", "4", "--seed", "2"])
    assert result.exit_code == 0, result.output
    output = result.output
    assert output.startswith("synthetic content (generated in memory): parcours socle-commun")
    assert any(line.startswith("baseline ") for line in output.splitlines())
    assert any(line.startswith("socle ") for line in output.splitlines())
    assert "socle asks" in output


def test_simulate_one_algorithm_on_a_content_dir(runner: CliRunner) -> None:
    result = runner.invoke(
        simulate,
        [
            "--content-dir",
            VALID,
            "--parcours",
            "essentiel",
            "--learners",
            "3",
            "--algorithm",
            "socle",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [line.split()[:2] for line in result.output.splitlines()]
    assert ["socle", "3"] in rows
    assert ["baseline", "3"] not in rows


def test_simulate_with_one_ability_per_tube(runner: CliRunner) -> None:
    rows = {}
    for flag in ("--tube-abilities", "--competence-ability"):
        result = runner.invoke(
            simulate,
            ["--synthetic", "--learners", "3", "--seed", "2", "--algorithm", "socle", flag],
        )
        assert result.exit_code == 0, result.output
        rows[flag] = next(line for line in result.output.splitlines() if line.startswith("socle "))
    # Another model, other challenges: the same learners get tests of other lengths.
    assert rows["--tube-abilities"].split()[2] != rows["--competence-ability"].split()[2]


def test_simulate_unknown_parcours(runner: CliRunner) -> None:
    result = runner.invoke(simulate, ["--content-dir", VALID, "--parcours", "nope"])
    assert result.exit_code == 1
    assert result.output == "Error: unknown parcours 'nope' (known: essentiel)\n"
