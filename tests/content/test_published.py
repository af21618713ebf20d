"""``published.yaml``: a published challenge id never comes to mean another question."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from lti_tool.content.commands import content
from lti_tool.content.loader import lint_content
from lti_tool.content.published import PUBLISHED_FILE, publish

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TUBE = Path("tubes/1.1/recherche-web.yaml")


@pytest.fixture
def published(tmp_path: Path) -> Path:
    """The valid fixture content, with every challenge recorded as published."""
    directory = tmp_path / "content"
    shutil.copytree(FIXTURES / "content-valid", directory)
    report = lint_content(directory)
    assert report.content is not None
    added = publish(directory, report.content.challenges)
    assert "rw-3-a" in added
    return directory


def _edit(directory: Path, old: str, new: str) -> None:
    path = directory / TUBE
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _errors(directory: Path) -> list[str]:
    return [str(problem) for problem in lint_content(directory).errors]


def test_the_shipped_content_records_every_published_challenge() -> None:
    """Run `socle content publish` when adding challenges: an id missing from the file could
    be turned into another question unnoticed."""
    report = lint_content(ROOT / "content")
    assert report.content is not None, report.errors
    recorded = yaml.safe_load((ROOT / "content" / PUBLISHED_FILE).read_text(encoding="utf-8"))
    missing = sorted(
        challenge_id
        for challenge_id, challenge in report.content.challenges.items()
        if challenge.status.value != "draft" and challenge_id not in recorded["challenges"]
    )
    assert not missing, f"run 'socle content publish': {missing[:20]}"


def test_improving_a_challenge_in_place_is_allowed(published: Path) -> None:
    _edit(
        published,
        'instruction: "Où tapez-vous les mots de votre recherche ?"',
        'instruction: "Dans votre navigateur, où tapez-vous les mots de votre recherche ?"',
    )
    _edit(published, '"Dans la corbeille"', '"Dans la barre d\'adresse"')
    _edit(
        published,
        """solution: ['"', "les guillemets", "guillemets"]""",
        """solution: ['"', "les guillemets", "guillemets", "des guillemets"]""",
    )
    assert _errors(published) == []


def test_another_type_is_another_question(published: Path) -> None:
    _edit(
        published,
        """type: qroc
        instruction: "Quel signe entoure une expression exacte dans un moteur de recherche ?"
        solution: ['"', "les guillemets", "guillemets"]
        placeholder: "Un signe ou son nom\"""",
        """type: qcu
        instruction: "Quel signe entoure une expression exacte dans un moteur de recherche ?"
        proposals: ["Les guillemets", "Les parenthèses"]
        solution: 1""",
    )
    (error,) = _errors(published)
    assert "recherche-web.yaml" in error
    assert "'rw-3-a' now asks another question" in error
    assert "type 'qroc' → 'qcu'" in error
    assert "status: archived" in error


def test_a_typed_answer_that_is_no_longer_right_is_another_question(published: Path) -> None:
    _edit(
        published,
        """solution: ['"', "les guillemets", "guillemets"]""",
        """solution: ["OR", "ou"]""",
    )
    (error,) = _errors(published)
    assert "'rw-3-a'" in error
    assert "published answer" in error


def test_a_removed_challenge_is_refused_an_archived_one_is_not(published: Path) -> None:
    _edit(
        published,
        """      - id: rw-1-b
        type: qcu""",
        """      - id: rw-1-b
        status: archived
        type: qcu""",
    )
    assert _errors(published) == []
    path = published / TUBE
    text = path.read_text(encoding="utf-8")
    start = text.index("      - id: rw-1-b")
    end = text.index("  - level: 2")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    (error,) = _errors(published)
    assert error.startswith(PUBLISHED_FILE)
    assert "'rw-1-b' was removed" in error


def test_publish_adds_new_ids_and_never_rewrites_an_entry(published: Path) -> None:
    recorded = (published / PUBLISHED_FILE).read_text(encoding="utf-8")
    _edit(
        published,
        """type: qroc
        instruction: "Quel signe entoure une expression exacte dans un moteur de recherche ?"
        solution: ['"', "les guillemets", "guillemets"]
        placeholder: "Un signe ou son nom\"""",
        """type: qcu
        instruction: "Quel signe entoure une expression exacte dans un moteur de recherche ?"
        proposals: ["Les guillemets", "Les parenthèses"]
        solution: 1""",
    )
    result = CliRunner().invoke(content, ["publish", "--content-dir", str(published)])
    assert result.exit_code == 1  # the content is invalid: nothing is recorded
    assert "now asks another question" in result.output
    assert (published / PUBLISHED_FILE).read_text(encoding="utf-8") == recorded
    _edit(published, "      - id: rw-3-a", "      - id: rw-3-b")
    # The published rw-3-a is back, archived, beside its successor rw-3-b.
    path = published / TUBE
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "    challenges:\n      - id: rw-3-b",
        "    challenges:\n      - id: rw-3-a\n        status: archived\n        type: qroc\n"
        '        instruction: "Quel signe entoure une expression exacte ?"\n'
        """        solution: ['"', "guillemets"]\n      - id: rw-3-b""",
    )
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(content, ["publish", "--content-dir", str(published)])
    assert result.exit_code == 0, result.output
    assert "1 challenge(s) recorded (rw-3-b)" in result.output
    entries = yaml.safe_load((published / PUBLISHED_FILE).read_text(encoding="utf-8"))
    assert entries["challenges"]["rw-3-a"]["type"] == "qroc"
    assert entries["challenges"]["rw-3-b"] == {
        "type": "qcu",
        "skill": entries["challenges"]["rw-3-a"]["skill"],
    }
