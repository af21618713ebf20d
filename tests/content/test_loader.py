"""The content loader: a valid tree, invalid trees with exact messages, the real content."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from lti_tool.content import ContentError, lint_content, load_content
from lti_tool.domain.answers import AnswerStatus
from lti_tool.domain.checking import check_answer
from lti_tool.domain.framework import (
    AnswerFormat,
    Calibration,
    ChallengeStatus,
    ChallengeType,
    DependentSolution,
    FieldsSolution,
    MultipleChoiceSolution,
    NumberSolution,
    SingleChoiceSolution,
    Text,
    TextSolution,
    Tolerance,
    TutorialFormat,
)
from lti_tool.domain.target import parcours_view

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VALID = FIXTURES / "content-valid"
REAL = Path(__file__).resolve().parents[2] / "content"


def _errors(path: Path) -> list[str]:
    return [str(problem) for problem in lint_content(path).errors]


def _warnings(path: Path) -> list[str]:
    return [str(problem) for problem in lint_content(path).warnings]


# --- the valid tree -------------------------------------------------------------------------


def test_valid_tree_loads_completely() -> None:
    report = lint_content(VALID)
    assert report.ok
    assert report.errors == []
    assert report.warnings == []
    content = report.content
    assert content is not None
    assert [area.code for area in content.areas] == ["1", "2"]
    assert content.areas[0].competence_codes == ("1.1", "1.2")
    assert content.competences["2.1"].title == Text("Interagir")  # unquoted code 2.1
    assert content.level_descriptors[1] == Text(
        "Réaliser des actions simples avec guidage", "Simple actions with guidance"
    )
    assert sorted(content.tubes) == ["courriel", "organisation-fichiers", "recherche-web"]
    assert [s.id for s in content.tubes["recherche-web"].skills] == [
        "recherche-web-1",
        "recherche-web-2",
        "recherche-web-3",
    ]
    assert content.tutorials["pieces-jointes"].format is TutorialFormat.PAGE
    assert content.tutorials["pieces-jointes"].url == "https://www.service-public.fr"
    assert content.tutorials["moteur-de-recherche"].body is not None
    assert content.job_profiles["accueil-usagers"].expected_levels() == {
        "1.1": 2,
        "2.1": 1,
        "1.2": 0,
    }


def test_valid_tree_challenges() -> None:
    content = load_content(VALID)
    challenges = content.challenges
    assert challenges["rw-1-a"].solution == SingleChoiceSolution(1)
    assert challenges["rw-1-a"].shuffle is True
    assert challenges["rw-2-a"].solution == MultipleChoiceSolution(frozenset({1, 2}))
    assert challenges["rw-3-a"].solution == TextSolution(('"', "les guillemets", "guillemets"))
    assert challenges["rw-3-a"].placeholder == Text("Un signe ou son nom")
    number = challenges["of-1-a"]
    assert number.answer_format is AnswerFormat.NUMBER
    assert number.solution == NumberSolution((Decimal(12),))
    fields = challenges["of-2-a"]
    assert fields.type is ChallengeType.QROCM_IND
    assert fields.fields[1].options == (".odt", ".exe", ".zip")
    assert fields.solution == FieldsSolution((("annee", ("2026",)), ("extension", (".odt",))))
    assert fields.tolerances == frozenset({Tolerance.T1})
    dependent = challenges["co-2-a"]
    assert dependent.solution == DependentSolution((("pdf",), ("odt", "opendocument"), ("txt",)), 2)
    timed = challenges["co-1-a"]
    assert timed.timer == 60
    assert timed.attachments == ("attachments/convocation.txt",)
    assert timed.illustration is not None
    assert timed.illustration.file == "attachments/trombone.png"
    draft = challenges["co-1-b"]
    assert draft.status is ChallengeStatus.DRAFT
    assert draft.calibration == Calibration(1.2, 1.5)
    assert content.served_challenges_of_skill("courriel-1") == (timed,)


def test_valid_tree_parcours() -> None:
    content = load_content(VALID)
    parcours = content.parcours["essentiel"]
    assert parcours.duration == 10
    assert [stage.threshold for stage in parcours.stages] == [0, 50, 80]
    assert parcours.thematic_results[0].tube_ids == ("recherche-web",)
    assert parcours.self_assessment is True
    assert parcours.mastery_threshold == 50
    view = parcours_view(content, "essentiel")
    assert [c.code for c in view.competences] == ["1.1", "1.2", "2.1"]
    assert len(view.skills) == 7
    assert "co-1-b" not in view.challenges  # drafts are never served
    assert parcours_view(content, "essentiel") is view


# --- invalid trees (fixtures) ---------------------------------------------------------------


def test_invalid_challenges_report_every_problem_with_its_line() -> None:
    assert _errors(FIXTURES / "content-invalid-challenges") == [
        "tubes/1.1/erreurs.yaml:13: solution 4 of challenge 'er-qcu-range' is out of range: "
        "it has 3 proposals (1-3)",
        "tubes/1.1/erreurs.yaml:18: solution 1 of challenge 'er-qcm-twice' is listed twice",
        "tubes/1.1/erreurs.yaml:19: challenge 'er-typo' is missing the required key 'solution'",
        "tubes/1.1/erreurs.yaml:23: unknown key 'soluton' in challenge 'er-typo' "
        "(did you mean 'solution'?)",
        "tubes/1.1/erreurs.yaml:27: 'proposals' does not apply to a qroc challenge",
        "tubes/1.1/erreurs.yaml:41: 'peut-être' is not one of the options of field 'choix'",
        "tubes/1.1/erreurs.yaml:48: 'expected' of challenge 'er-expected' must be between "
        "1 and 1, not 2",
        "tubes/1.1/erreurs.yaml:53: unknown tolerance 't4' in challenge 'er-tolerance': "
        "use t1, t2 or t3",
        "tubes/1.1/erreurs.yaml:54: level 2 appears twice in tube 'erreurs' (first at line 29): "
        "one skill per level",
        "tubes/1.1/erreurs.yaml:64: attachment '../secret.txt' must not contain '.' or '..'",
        "tubes/1.1/erreurs.yaml:64: attachment 'attachments/absent.ods' does not exist in the "
        "content directory",
        "tubes/1.1/erreurs.yaml:65: the illustration of challenge 'er-files' is missing the "
        "required key 'alt'",
        "tubes/1.1/erreurs.yaml:68: the challenge id 'Er_Bad_Id' is not a valid id: use "
        "lowercase letters a-z, digits and hyphens (e.g. 'pieces-jointes')",
        "tubes/1.1/erreurs.yaml:77: 'douze' in the solution of challenge 'er-number' is not "
        "a number",
    ]


def test_invalid_references_across_files() -> None:
    path = FIXTURES / "content-invalid-references"
    assert _errors(path) == [
        "job-profiles.yaml:3: competence 1.1 appears twice in 'terrain'",
        "job-profiles.yaml:3: job profile 'terrain' refers to unknown competence '3.1'",
        "job-profiles.yaml:6: the expected level for 1.1 must be between 0 and 8, not 12",
        "parcours/essai.yaml:4: max_level must be between 1 and 8, not 9",
        "parcours/essai.yaml:5: unknown tube 'sujet-inconnu'",
        "parcours/essai.yaml:6: tube 'sujet-a' is listed twice in parcours 'essai' "
        "(first at line 4)",
        "parcours/essai.yaml:9: stage thresholds must increase: 5 comes after 10",
        "parcours/essai.yaml:13: thematic result 'badge' uses tube 'sujet-b', which is not in "
        "the tubes of the parcours",
        "tubes/1.1/sujet-a.yaml:7: unknown tutorial 'introuvable': define it in tutorials.yaml",
        "tubes/9.9/sujet-b.yaml:2: tube 'sujet-b' belongs to competence 1.2: move the file to "
        "tubes/1.2/",
        "tubes/9.9/sujet-b.yaml:2: tube 'sujet-b' refers to unknown competence '1.2'",
        "tubes/9.9/sujet-b.yaml:9: duplicate challenge id 'a-1' (already defined at "
        "tubes/1.1/sujet-a.yaml:9)",
        "tutorials.yaml:6: duplicate tutorial id 'aide' (already defined at tutorials.yaml:1)",
        "tutorials.yaml:11: tutorial 'orpheline' needs a 'url' or a 'body'",
    ]
    assert _warnings(path) == [
        "tubes/1.1/sujet-a.yaml:14: warning: skill 'sujet-a-2' has no challenge: it can only "
        "be inferred",
        "tutorials.yaml:11: warning: tutorial 'orpheline' is not used by any skill",
    ]


def test_yaml_syntax_error_points_at_the_line() -> None:
    assert _errors(FIXTURES / "content-invalid-syntax") == [
        "framework.yaml:7: YAML syntax error: found unexpected end of stream "
        "(while scanning a quoted scalar started at line 5)"
    ]


def test_load_content_raises_with_every_error() -> None:
    with pytest.raises(ContentError) as raised:
        load_content(FIXTURES / "content-invalid-references")
    text = str(raised.value)
    assert text.startswith("invalid content: 14 problems\n")
    assert "parcours/essai.yaml:5: unknown tube 'sujet-inconnu'" in text.splitlines()
    assert len(raised.value.problems) == 14


def test_missing_directory() -> None:
    assert _errors(FIXTURES / "no-such-content") == [
        f"{FIXTURES / 'no-such-content'}: content directory not found"
    ]


# --- targeted mutations of the valid tree ---------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(VALID, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "tubes/1.1/recherche-web.yaml",
            "solution: [1, 2]",
            "solution: []",
            "tubes/1.1/recherche-web.yaml:30: the solution of challenge 'rw-2-a' (proposal "
            "numbers) must not be empty",
        ),
        (
            "tubes/1.1/recherche-web.yaml",
            "solution: 1\n        shuffle: true",
            "solution: 1\n        shuffle: peut-être",
            "tubes/1.1/recherche-web.yaml:15: shuffle of challenge 'rw-1-a' must be true or false",
        ),
        (
            "tubes/1.1/recherche-web.yaml",
            "  - level: 3",
            "  - level: 9",
            "tubes/1.1/recherche-web.yaml:32: the skill level must be between 1 and 8, not 9",
        ),
        (
            "tubes/1.1/recherche-web.yaml",
            "type: qroc\n",
            "type: qcx\n",
            "tubes/1.1/recherche-web.yaml:37: the type of challenge 'rw-3-a' must be one of: "
            "qcm, qcu, qroc, qrocm-dep, qrocm-ind (not 'qcx')",
        ),
        (
            "tubes/1.1/recherche-web.yaml",
            "id: recherche-web",
            "id: Recherche Web",
            "tubes/1.1/recherche-web.yaml:1: the tube id 'Recherche Web' is not a valid id: use "
            "lowercase letters a-z, digits and hyphens (e.g. 'pieces-jointes')",
        ),
        (
            "tubes/1.2/organisation-fichiers.yaml",
            'annee: ["2026"]',
            'anne: ["2026"]',
            "tubes/1.2/organisation-fichiers.yaml:27: unknown key 'anne' in the solution of "
            "challenge 'of-2-a' (did you mean 'annee'?)",
        ),
        (
            "tubes/1.2/organisation-fichiers.yaml",
            "solution: [12]",
            'solution: ["douze"]',
            "tubes/1.2/organisation-fichiers.yaml:13: 'douze' in the solution of challenge "
            "'of-1-a' is not a number",
        ),
        (
            "tubes/2.1/courriel.yaml",
            'alt: "Un message avec une icône de trombone à côté de l\'objet."',
            'alt: ""',
            "tubes/2.1/courriel.yaml:15: the alternative text of the illustration of challenge "
            "'co-1-a' must not be empty",
        ),
        (
            "tubes/2.1/courriel.yaml",
            "file: attachments/trombone.png",
            "file: /etc/passwd",
            "tubes/2.1/courriel.yaml:14: illustration '/etc/passwd' must be a relative path with "
            "'/' (e.g. attachments/file.ods)",
        ),
        (
            "tubes/2.1/courriel.yaml",
            "expected: 2",
            "expected: 3",
            "tubes/2.1/courriel.yaml:38: 'expected' of challenge 'co-2-a' must be between 1 and "
            "2, not 3",
        ),
        (
            "tubes/2.1/courriel.yaml",
            "timer: 60",
            "timer: 0",
            "tubes/2.1/courriel.yaml:18: the timer of challenge 'co-1-a' (seconds) must be "
            "between 5 and 3600, not 0",
        ),
        (
            "tubes/2.1/courriel.yaml",
            "calibration: {difficulty: 1.2, discrimination: 1.5}",
            "calibration: {difficulty: 1.2, discrimination: 0}",
            "tubes/2.1/courriel.yaml:26: discrimination must be between 0.1 and 6.0, not 0",
        ),
        (
            "tubes/2.1/courriel.yaml",
            'competence: "2.1"',
            'competence: "1.1"',
            "tubes/2.1/courriel.yaml:2: tube 'courriel' belongs to competence 1.1: move the file "
            "to tubes/1.1/",
        ),
        (
            "parcours/essentiel.yaml",
            "{tube: courriel, max_level: 2}",
            "{tube: courriel, max_level: 2, level: 3}",
            "parcours/essentiel.yaml:9: unknown key 'level' in a tube of parcours 'essentiel' "
            "(did you mean 'max_level'?)",
        ),
        (
            "parcours/essentiel.yaml",
            "threshold: 60",
            "threshold: 160",
            "parcours/essentiel.yaml:18: the threshold of 'bien-chercher' (%) must be between 0 "
            "and 100, not 160",
        ),
        (
            "framework.yaml",
            '      - code: "1.2"',
            '      - code: "2.2"',
            "framework.yaml:16: competence '2.2' must start with its area code '1.'",
        ),
        (
            "tutorials.yaml",
            'url: "https://www.service-public.fr"',
            'url: "http://example.org"',
            "tutorials.yaml:25: the url of tutorial 'pieces-jointes' must be a full https:// "
            "address",
        ),
        (
            "job-profiles.yaml",
            'title: "Accueil des usagers"',
            'title: "Accueil des usagers"\n  title: "Encore"',
            "job-profiles.yaml:3: duplicate key 'title' in job profile 'accueil-usagers' "
            "(first at line 2)",
        ),
    ],
)
def test_targeted_error(tree: Path, file: str, old: str, new: str, expected: str) -> None:
    _edit(tree / file, old, new)
    assert expected in _errors(tree)


def test_unknown_key_typo_in_a_tube(tree: Path) -> None:
    _edit(tree / "tubes/1.2/organisation-fichiers.yaml", "skills:", "skils:")
    assert _errors(tree) == [
        "tubes/1.2/organisation-fichiers.yaml:1: tube 'organisation-fichiers' is missing the "
        "required key 'skills'",
        "tubes/1.2/organisation-fichiers.yaml:4: unknown key 'skils' in tube "
        "'organisation-fichiers' (did you mean 'skills'?)",
    ]


def test_attachments_must_stay_inside_the_content(tree: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("secret", encoding="utf-8")
    (tree / "attachments" / "escape.txt").symlink_to(tmp_path / "outside.txt")
    _edit(
        tree / "tubes/2.1/courriel.yaml",
        "attachments: [attachments/convocation.txt]",
        "attachments: [attachments/escape.txt]",
    )
    assert _errors(tree) == [
        "tubes/2.1/courriel.yaml:12: attachment 'attachments/escape.txt' points outside the "
        "content directory"
    ]


def test_warnings_do_not_block(tree: Path) -> None:
    _edit(tree / "parcours/essentiel.yaml", "{threshold: 0, title", "{threshold: 5, title")
    _edit(tree / "parcours/essentiel.yaml", "max_level: 3}", "max_level: 5}")
    (tree / "notes.txt").write_text("brouillon", encoding="utf-8")
    report = lint_content(tree)
    assert report.ok
    assert [str(w) for w in report.warnings] == [
        "notes.txt: warning: unexpected file or folder in the content directory (ignored)",
        "parcours/essentiel.yaml:7: warning: tube 'recherche-web' has no skill above level 3 "
        "(max_level 5)",
        "parcours/essentiel.yaml:11: warning: the first stage of parcours 'essentiel' should "
        "have threshold 0 so that every agent reaches a stage",
    ]


def test_empty_and_multi_document_files(tree: Path) -> None:
    (tree / "tutorials.yaml").write_text("", encoding="utf-8")
    (tree / "job-profiles.yaml").write_text("- id: a\n---\n- id: b\n", encoding="utf-8")
    errors = _errors(tree)
    assert "tutorials.yaml: the file is empty" in errors
    assert "job-profiles.yaml:3: only one YAML document per file (remove '---')" in errors


def test_yml_extension_and_bad_encoding(tree: Path) -> None:
    (tree / "tubes/1.1/recherche-web.yaml").rename(tree / "tubes/1.1/recherche-web.yml")
    (tree / "parcours/latin1.yaml").write_bytes("id: \xe9t\xe9\n".encode("latin-1"))
    errors = _errors(tree)
    assert "tubes/1.1/recherche-web.yml: rename to '.yaml' (not '.yml')" in errors
    assert any(e.startswith("parcours/latin1.yaml: not valid UTF-8") for e in errors)


# --- the real content -----------------------------------------------------------------------


def test_real_content_loads_quickly_and_completely() -> None:
    if not (REAL / "parcours" / "socle-commun.yaml").is_file():
        pytest.skip("content/parcours/socle-commun.yaml is not written yet")
    report = lint_content(REAL)
    assert report.errors == [], "\n".join(str(p) for p in report.errors)
    content = report.content
    assert content is not None
    view = parcours_view(content, "socle-commun")
    assert len(view.competences) == 16
    assert all(len(c.tubes) >= 2 for c in view.competences)
    assert len(view.challenges) >= len(view.skills)


# --- units of numeric answers ----------------------------------------------------------------

NUMBER_FILE = "tubes/1.2/organisation-fichiers.yaml"


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("fichiers", "unknown unit 'fichiers' in challenge 'of-1-a'"),
        ("[fichiers, '2 fichiers']", "unit spelling '2 fichiers' of challenge 'of-1-a' starts"),
        ("['3m', m3]", "unit spelling '3m' of challenge 'of-1-a' starts"),
        ("['-m3', m3]", "unit spelling '-m3' of challenge 'of-1-a' starts"),
        ("[',5 m', m]", "unit spelling ',5 m' of challenge 'of-1-a' starts"),
        ("[]", "the unit spellings of challenge 'of-1-a' must not be empty"),
    ],
)
def test_bad_units_are_reported(tree: Path, unit: str, expected: str) -> None:
    _edit(tree / NUMBER_FILE, "format: number\n", f"format: number\n        unit: {unit}\n")
    errors = _errors(tree)
    assert any(expected in error for error in errors), errors
    assert all(error.startswith(f"{NUMBER_FILE}:12: ") for error in errors), errors


def test_unit_on_a_text_answer_is_an_error(tree: Path) -> None:
    _edit(
        tree / "tubes/1.1/recherche-web.yaml", "type: qroc\n", "type: qroc\n        unit: euros\n"
    )
    assert any("'unit' applies only to 'format: number'" in e for e in _errors(tree))


@pytest.mark.parametrize(
    ("unit", "spellings"),
    [
        ("euros", ("€", "euro", "euros", "eur")),
        ("[fichiers, fichier]", ("fichiers", "fichier")),
        ("m3", ("m³", "m3", "metre cube", "metres cubes", "metres cube", "metre cubes")),
        ("['m²', m2, mètres carrés]", ("m²", "m2", "mètres carrés")),
    ],
)
def test_units_are_loaded(tree: Path, unit: str, spellings: tuple[str, ...]) -> None:
    _edit(tree / NUMBER_FILE, "format: number\n", f"format: number\n        unit: {unit}\n")
    solution = load_content(tree).challenges["of-1-a"].solution
    assert isinstance(solution, NumberSolution)
    assert solution.units == spellings
    assert solution.unit_symbol == spellings[0]


def test_tutorials_may_be_split_into_a_folder(tree: Path) -> None:
    text = (tree / "tutorials.yaml").read_text(encoding="utf-8")
    first, rest = text.split("\n- id:", 1)
    (tree / "tutorials.yaml").write_text(first + "\n", encoding="utf-8")
    (tree / "tutorials").mkdir()
    (tree / "tutorials" / "theme.yaml").write_text("- id:" + rest, encoding="utf-8")
    report = lint_content(tree)
    assert report.errors == [], report.errors
    assert report.content is not None
    assert len(report.content.tutorials) == len(load_content(FIXTURES / "content-valid").tutorials)


def test_a_tutorial_id_is_unique_across_tutorial_files(tree: Path) -> None:
    text = (tree / "tutorials.yaml").read_text(encoding="utf-8")
    (tree / "tutorials").mkdir()
    (tree / "tutorials" / "copy.yaml").write_text(text, encoding="utf-8")
    errors = _errors(tree)
    assert any("tutorials/copy.yaml" in e and "duplicate tutorial id" in e for e in errors), errors


# --- formulas -----------------------------------------------------------------------------------

FORMULA_FILE = "tubes/1.1/recherche-web.yaml"
QUOTE_SOLUTION = """solution: ['"', "les guillemets", "guillemets"]"""


@pytest.mark.parametrize(
    ("solution", "expected"),
    [
        ('["=MOYENNE(B2:B6)", "=SOMME(B2:B6)/6"]', "'=SOMME(B2:B6)/6' does not compute what"),
        ('["=MOYENNE(B2:B6)", "MOYENNE(B2:B6)"]', "'MOYENNE(B2:B6)' is not a formula Socle"),
        ('["=RECHERCHEV(A2;D:E;2)"]', "is not a formula Socle evaluates"),
    ],
)
def test_a_formula_solution_must_parse_and_agree(tree: Path, solution: str, expected: str) -> None:
    _edit(tree / FORMULA_FILE, QUOTE_SOLUTION, f"format: formula\n        solution: {solution}")
    assert any(expected in e for e in _errors(tree)), _errors(tree)


def test_a_formula_challenge_accepts_what_computes_the_same(tree: Path) -> None:
    _edit(
        tree / FORMULA_FILE,
        QUOTE_SOLUTION,
        'format: formula\n        solution: ["=MOYENNE(B2:B6)", "=SOMME(B2:B6)/5"]',
    )
    challenge = next(
        c for c in load_content(tree).challenges.values() if c.answer_format.value == "formula"
    )
    assert check_answer(challenge, "=SOMME(B2:B6)/NB(B2:B6)").status is AnswerStatus.OK
    assert check_answer(challenge, "=SOMME(B2:B7)/5").status is AnswerStatus.KO
