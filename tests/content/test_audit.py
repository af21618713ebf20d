"""``socle content audit``: every check fires on a small tree built for it and stays quiet
on a clean one; the corpus measures and ``--strict`` follow the thresholds."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from lti_tool.content import lint_content
from lti_tool.content.audit import (
    AuditReport,
    Thresholds,
    audit,
    format_summary,
    hosts,
    is_absolute,
    is_home_page,
    level_gaps,
    outdated,
    qcu_absolute_guess,
    qcu_key_length_rank,
)
from lti_tool.content.commands import content as content_group

#: Thresholds a tiny tree can meet: only the item-writing rules are left at their value.
SMALL = Thresholds(
    qcu_key_shortest_max=1.0,  # the fixtures' short keys are tested on their own
    min_tubes_per_competence=1,
    min_top_level=2,
    level_seven_competences_min=0,
    min_tubes=1,
    min_skills=1,
    min_challenges=1,
    min_file_challenges=0,
)


def qcu(cid: str, instruction: str, proposals: list[str], solution: int = 1) -> dict[str, Any]:
    return {
        "id": cid,
        "type": "qcu",
        "instruction": instruction,
        "proposals": proposals,
        "solution": solution,
    }


#: Nine unrelated questions: no shared scenario, the key never the single longest.
CLEAN = {
    1: [
        ("Quel dossier vide-t-on pour libérer de la place ?", ["Corbeille", "Téléchargements"]),
        ("Quelle touche efface le caractère à gauche ?", ["Retour arrière", "Touche Suppression"]),
        ("Quel logiciel ouvre un tableau .ods ?", ["Calc", "Writer", "Impress"]),
    ],
    2: [
        ("Que montre l'historique du navigateur ?", ["Les pages vues", "Les favoris du poste"]),
        ("Où saisit-on l'adresse exacte d'un site ?", ["Barre d'adresse", "Onglet de recherche"]),
        ("Quel format garde la mise en page à l'impression ?", ["PDF", "TXT", "CSV"]),
    ],
    3: [
        ("Qui valide un congé dans l'outil de gestion ?", ["Le chef", "Le collègue", "Personne"]),
        ("Que fait Ctrl+Z dans un traitement de texte ?", ["Annule", "Imprime", "Ferme"]),
        ("Quelle extension a un classeur LibreOffice ?", [".ods", ".odt", ".odp"]),
    ],
}


#: Six more, for a second tube.
OTHER = {
    1: [
        ("Comment s'appelle l'outil de visioconférence de l'État ?", ["Visio", "Tchap"]),
        ("Quel site publie les textes de loi ?", ["Légifrance", "Wikipédia"]),
        ("Que signifie le cadenas près de l'adresse ?", ["Chiffré", "Gratuit", "Officiel"]),
    ],
    2: [
        ("Combien de temps garde-t-on un brouillon de courriel ?", ["Rien", "Un an"]),
        ("Quel raccourci colle le contenu copié ?", ["Ctrl+V", "Ctrl+P", "Ctrl+S"]),
        ("Quel service signale un site frauduleux ?", ["Pharos", "La CAF", "L'URSSAF"]),
    ],
}


def clean_challenges(prefix: str, level: int) -> list[dict[str, Any]]:
    """Three distinct qcu whose key is never the single longest proposal."""
    pool = OTHER if prefix == "ot" else CLEAN
    return [
        qcu(f"{prefix}-{level}-{letter}", instruction, proposals)
        for letter, (instruction, proposals) in zip("abc", pool[level], strict=True)
    ]


def tube(tube_id: str, prefix: str, levels: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "id": tube_id,
        "competence": "1.1",
        "title": f"Sujet {tube_id}",
        "skills": [
            {
                "level": level,
                "description": f"Acquis {level}",
                "tutorials": ["guide"],
                "challenges": challenges,
            }
            for level, challenges in sorted(levels.items())
        ],
    }


def write_tree(
    root: Path,
    tubes: list[dict[str, Any]],
    tutorials: list[dict[str, Any]] | None = None,
    attachments: tuple[str, ...] = (),
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    framework = {
        "levels": {n: f"Niveau {n}" for n in range(1, 9)},
        "areas": [
            {
                "code": "1",
                "title": "Informations",
                "competences": [{"code": "1.1", "title": "Rechercher"}],
            }
        ],
    }
    (root / "framework.yaml").write_text(yaml.safe_dump(framework, allow_unicode=True))
    tutorial_list = tutorials or [
        {
            "id": "guide",
            "title": "Guide",
            "format": "page",
            "duration": 3,
            "url": "https://example.org/guide/ranger-ses-fichiers",
        }
    ]
    (root / "tutorials.yaml").write_text(
        yaml.safe_dump(tutorial_list, allow_unicode=True, sort_keys=False)
    )
    (root / "tubes" / "1.1").mkdir(parents=True)
    for item in tubes:
        (root / "tubes" / "1.1" / f"{item['id']}.yaml").write_text(
            yaml.safe_dump(item, allow_unicode=True, sort_keys=False)
        )
    for name in attachments:
        (root / "attachments").mkdir(exist_ok=True)
        (root / "attachments" / name).write_bytes(b"fichier")
    return root


def run(root: Path, thresholds: Thresholds = SMALL) -> AuditReport:
    report = lint_content(root)
    assert report.content is not None, [str(e) for e in report.errors]
    return audit(report.content, report.places, thresholds)


def checks(report: AuditReport) -> list[str]:
    return [finding.check for finding in report.findings]


def base_levels(prefix: str = "cl") -> dict[int, list[dict[str, Any]]]:
    return {level: clean_challenges(prefix, level) for level in (1, 2)}


def test_a_clean_tree_has_no_finding_and_meets_every_small_threshold(tmp_path: Path) -> None:
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", base_levels())]))
    assert report.findings == []
    assert report.failures == []
    assert report.types == {"qcu": 6}
    assert [(r.tube, r.levels, r.challenges) for r in report.tubes] == [("propre", (1, 2), 6)]
    assert [(r.code, r.tubes, r.skills, r.max_level) for r in report.competences] == [
        ("1.1", 1, 2, 2)
    ]


def test_default_thresholds_ask_for_the_depth_of_the_review(tmp_path: Path) -> None:
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", base_levels())]), Thresholds())
    failed = {measure.name for measure in report.failures}
    assert failed == {
        "qcu: key is the single shortest",  # the fixtures' keys are short words
        "competences under 4 tubes",
        "competences below level 6",
        "competences reaching level 7",
        "tubes",
        "skills",
        "served challenges",
        "challenges on a file",
    }


def test_length_cue_in_a_qcu_points_at_the_challenge_line(tmp_path: Path) -> None:
    levels = base_levels()
    levels[1][0] = qcu(
        "cl-1-a",
        "Où rangez-vous le compte rendu signé de la réunion ?",
        [
            "Dans le dossier partagé du service, rangé par année",
            "Sur le bureau",
            "Dans la corbeille",
        ],
    )
    root = write_tree(tmp_path / "c", [tube("propre", "cl", levels)])
    report = run(root)
    [finding] = report.findings
    assert finding.check == "length-cue"
    assert finding.path == "tubes/1.1/propre.yaml"
    assert finding.line is not None
    line = (root / finding.path).read_text().splitlines()[finding.line - 1]
    assert "cl-1-a" in line
    assert str(finding).startswith(f"tubes/1.1/propre.yaml:{finding.line}: length-cue: cl-1-a")
    measure = next(m for m in report.measures if m.name.startswith("qcu"))
    assert measure.value == "1/6 (17 %)"
    assert measure.ok
    # Two distractors as long as the key: no longer the *single* longest.
    levels[1][0]["proposals"] = ["Dans le dossier", "Sur le bureauuu", "Dans la corbeil"]
    assert run(write_tree(tmp_path / "d", [tube("propre", "cl", levels)])).findings == []


def test_qcu_share_above_the_threshold_fails(tmp_path: Path) -> None:
    levels = base_levels()
    for challenge in levels[1] + levels[2]:
        challenge["proposals"] = ["La bonne réponse, bien détaillée", "Non", "Peut-être"]
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", levels)]))
    assert checks(report).count("length-cue") == 6
    assert "qcu: key is the single longest" in [m.name for m in report.failures]


@pytest.mark.parametrize(
    ("proposals", "solution", "rank"),
    [
        (["Le plus long des quatre", "Moyen long", "Court", "Bref"], 1, 1),
        (["Égal A", "Égal B", "Court"], 1, 1),
        (["Le plus long des quatre", "Moyen long", "Court", "Bref"], 2, 2),
        (["Le plus long des quatre", "Moyen long", "Court", "Bref"], 3, 3),
        (["Le plus long des quatre", "Moyen long", "Court", "Bref"], 4, 4),
        (["Égal A", "Égal B", "Plus long que les autres"], 2, 2),  # ties share the better rank
        (["**Gras**", "Texte"], 1, 2),  # lengths as the agent sees them: "Gras" < "Texte"
    ],
)
def test_qcu_key_length_rank(
    tmp_path: Path, proposals: list[str], solution: int, rank: int
) -> None:
    levels = base_levels()
    levels[1][0] = qcu("cl-1-a", "Question de rang ?", proposals, solution)
    report = lint_content(write_tree(tmp_path / "c", [tube("propre", "cl", levels)]))
    assert report.content is not None, [str(e) for e in report.errors]
    assert qcu_key_length_rank(report.content.challenges["cl-1-a"]) == rank
    assert qcu_key_length_rank(report.content.challenges["cl-1-b"]) is not None


def test_key_length_ranks_per_competence_and_overall(tmp_path: Path) -> None:
    levels = base_levels()
    levels[1][0] = qcu(
        "cl-1-a", "Où rangez-vous le compte rendu ?", ["Dossier", "Bureau", "Corbeille", "Cl"]
    )
    levels[1][1] = qcu(
        "cl-1-b", "Quelle touche efface ?", ["Retour", "Suppr", "Esp", "Entrée du clavier"], 2
    )
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", levels)]))
    assert [(r.scope, r.ranks) for r in report.key_length_ranks] == [
        ("1.1", (0, 1, 1, 0)),
        ("all", (0, 1, 1, 0)),
    ]
    assert report.as_json()["qcu_key_length_ranks"][-1] == {"scope": "all", "ranks": [0, 1, 1, 0]}
    assert "1/2 (50 %)" in format_summary(report)


QCM_QUESTIONS = {
    "cl-1-a": "Quels documents gardez-vous dans l'espace partagé ?",
    "cl-1-b": "Quels nombres sont pairs ?",
    "cl-1-c": "Quelles lettres viennent après B dans l'alphabet ?",
}


def qcm(
    cid: str,
    proposals: list[str],
    solution: list[int],
    notice: bool = True,
    shuffle: bool = True,
) -> dict[str, Any]:
    instruction = QCM_QUESTIONS[cid]
    if notice:
        instruction += " Plusieurs réponses sont possibles."
    return {
        "id": cid,
        "type": "qcm",
        "instruction": instruction,
        "proposals": proposals,
        "solution": solution,
        "shuffle": shuffle,
    }


def test_qcm_length_cue_notice_and_k_of_n(tmp_path: Path) -> None:
    levels = base_levels()
    levels[1][0] = qcm(
        "cl-1-a", ["Les comptes rendus validés", "Ok", "Les arrêtés", "Rien"], [1, 3]
    )
    levels[1][1] = qcm("cl-1-b", ["Un", "Deux", "Trois", "Quatre"], [1, 3], notice=False)
    levels[1][2] = qcm("cl-1-c", ["Aaaa", "Bbbb", "Cccc", "Dddd"], [3, 4])
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", levels)]))
    assert sorted(checks(report)) == ["length-cue", "qcm-notice"]
    assert report.findings[0].message.startswith("cl-1-a: the correct proposals are longer")
    failed = {m.name: m.value for m in report.failures}
    assert failed == {
        "qcm: most frequent k of n (2 of 4)": "3/3 (100 %)",
        "qcm without « plusieurs réponses »": "1",
    }
    # Varied combinations: 1 of 4, 2 of 4, 3 of 5.
    levels[1][1] = qcm("cl-1-b", ["Un", "Deux", "Trois", "Quatre"], [2])
    levels[1][2] = qcm("cl-1-c", ["Aaaa", "Bbbb", "Cccc", "Dddd", "Eeee"], [1, 3, 4])
    report = run(write_tree(tmp_path / "d", [tube("propre", "cl", levels)]))
    assert not any(m.name.startswith("qcm: most") for m in report.failures)


def test_qcm_keys_shorter_than_every_distractor_are_a_cue(tmp_path: Path) -> None:
    """Keys kept short to avoid the longest-key cue: « tick the short ones » pays."""
    levels = base_levels()
    levels[1][0] = qcm(
        "cl-1-a", ["Ok", "Rien", "Les comptes rendus validés", "Les arrêtés"], [1, 2]
    )
    # Shorter on average but not every key: no finding, counted in the share only.
    levels[1][1] = qcm("cl-1-b", ["Un", "Deux", "Trois", "Quatre"], [2])
    levels[1][2] = qcm("cl-1-c", ["Aaaa", "Bbbb", "Cccc", "Dddd", "Eeee"], [1, 3, 4])
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", levels)]))
    assert checks(report) == ["length-cue"]
    assert report.findings[0].message.startswith(
        "cl-1-a: every correct proposal is shorter than every wrong one"
    )
    assert {m.name: m.value for m in report.failures} == {
        "qcm: keys shorter than distractors": "2/3 (67 %)",
        "qcm: every key shorter than every distractor": "1/3 (33 %)",
    }
    # Lengths balanced: quiet.
    levels[1][0] = qcm("cl-1-a", ["Les arrêtés", "Rien", "Les statuts", "Vide"], [1, 2])
    levels[1][1] = qcm("cl-1-b", ["Aaaa", "Bbbb", "Cccc", "Dddd"], [2])
    report = run(write_tree(tmp_path / "d", [tube("propre", "cl", levels)]))
    assert "length-cue" not in checks(report)
    assert not any(m.name.startswith("qcm: ") for m in report.failures)


def test_qcm_keys_a_little_longer_count_in_the_share_without_a_finding(tmp_path: Path) -> None:
    levels = base_levels()
    # Keys 11 and 12 characters against 10 and 11: longer, by less than a fifth.
    levels[1][0] = qcm(
        "cl-1-a", ["Les arrêtés", "Les contrats", "Les statut", "Les agendas"], [1, 2]
    )
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", levels)]))
    assert "length-cue" not in checks(report)
    assert {m.name: m.value for m in report.measures}["qcm: keys longer than distractors"] == (
        "1/1 (100 %)"
    )


def test_an_unshuffled_qcm_with_every_key_first_is_a_cue(tmp_path: Path) -> None:
    levels = base_levels()
    levels[1][0] = qcm(
        "cl-1-a", ["Les arrêtés", "Rien", "Les statuts", "Vide"], [1, 2], shuffle=False
    )
    # In a fixed order that is not « keys first » (it may follow a file): no finding.
    levels[1][1] = qcm("cl-1-b", ["Un", "Deux", "Trois", "Quatre", "Cinq"], [1, 3], shuffle=False)
    # Keys first but shuffled: each agent sees another order.
    levels[1][2] = qcm("cl-1-c", ["Cccc", "Dddd", "Aaaa", "Bbbb", "Eeee"], [1, 2, 3])
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", levels)]))
    assert checks(report) == ["keys-first"]
    assert report.findings[0].message.startswith("cl-1-a: shown in a fixed order")
    assert {m.name: m.value for m in report.failures} == {
        "qcm with every key first, unshuffled": "1"
    }


def test_near_duplicates_across_tubes(tmp_path: Path) -> None:
    twin = qcu(
        "ot-1-a",
        "On conseille la règle de sauvegarde 3-2-1 aux services. Combien de copies au total ?",
        ["Trois copies", "Deux copies", "Une copie"],
    )
    original = dict(twin, id="cl-1-a")
    original["instruction"] = (
        "La règle 3-2-1 est une règle simple pour bien sauvegarder : combien de copies des "
        "données garder en tout ?"
    )
    levels = base_levels()
    levels[1][0] = original
    other = base_levels("ot")
    other[1][0] = twin
    root = write_tree(tmp_path / "c", [tube("propre", "cl", levels), tube("autre", "ot", other)])
    report = run(root)
    assert [(a, b) for a, b, _ in report.near_duplicates] == [("cl-1-a", "ot-1-a")]
    [finding] = [f for f in report.findings if f.check == "near-duplicate"]
    assert finding.path == "tubes/1.1/autre.yaml"
    assert "ot-1-a is a near-duplicate of cl-1-a (at tubes/1.1/propre.yaml:" in finding.message
    assert [m.name for m in report.failures] == ["near-duplicate pairs"]
    # The same two challenges built on one shared file are a series, not duplicates...
    for challenge in (original, twin):
        challenge["attachments"] = ["attachments/sauvegardes.txt"]
    root = write_tree(
        tmp_path / "d",
        [tube("propre", "cl", levels), tube("autre", "ot", other)],
        attachments=("sauvegardes.txt",),
    )
    assert run(root).near_duplicates == []
    # ...unless almost identical.
    twin["instruction"] = original["instruction"]
    root = write_tree(
        tmp_path / "e",
        [tube("propre", "cl", levels), tube("autre", "ot", other)],
        attachments=("sauvegardes.txt",),
    )
    assert len(run(root).near_duplicates) == 1


def test_two_challenges_of_one_skill_on_one_file_are_not_a_series(tmp_path: Path) -> None:
    """A retake of the skill shows the other one: same file, same point is a duplicate."""
    levels = base_levels()
    first, second = levels[1][0], levels[1][1]
    first["instruction"] = (
        "Dans le tableau des sauvegardes joint, combien de copies des données la mairie "
        "garde-t-elle en tout pour le serveur du service urbanisme ?"
    )
    second["instruction"] = (
        "Dans le tableau des sauvegardes joint, combien de copies des données la mairie "
        "garde-t-elle hors du site pour le serveur du service état civil ?"
    )
    for challenge in (first, second):
        challenge["attachments"] = ["attachments/sauvegardes.txt"]
    root = write_tree(
        tmp_path / "c", [tube("propre", "cl", levels)], attachments=("sauvegardes.txt",)
    )
    [(a, b, similarity)] = run(root).near_duplicates
    assert (a, b) == ("cl-1-a", "cl-1-b")
    assert 0.35 <= similarity < 0.60  # under the series threshold: only the skill tells


def test_outdated_domains_in_challenges_and_tutorials(tmp_path: Path) -> None:
    levels = base_levels()
    levels[1][0]["instruction"] = "Sur www.service-public.fr, où trouvez-vous la démarche ?"
    levels[1][1]["instruction"] = "Sur service-public.gouv.fr, où trouvez-vous le formulaire ?"
    tutorials = [
        {
            "id": "guide",
            "title": "Guide",
            "format": "page",
            "duration": 3,
            "url": "https://www.ssi.gouv.fr/guide/recommandations-mots-de-passe/",
        },
    ]
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", levels)], tutorials))
    messages = [str(f) for f in report.findings]
    assert len(messages) == 2
    expected = "outdated-domain: cl-1-a: mentions service-public.fr: write service-public.gouv.fr"
    assert expected in messages[0]
    assert messages[1].startswith("tutorials.yaml:1: outdated-domain: tutorial 'guide'")
    assert "cyber.gouv.fr" in messages[1]
    assert next(m for m in report.failures).name == "outdated or wrong domains"


def test_links_to_a_home_page(tmp_path: Path) -> None:
    tutorials = [
        {
            "id": "guide",
            "title": "Guide",
            "format": "page",
            "duration": 3,
            "url": "https://www.cnil.fr/fr",
        },
        {
            "id": "fiche",
            "title": "Fiche",
            "format": "page",
            "duration": 3,
            "body": "Voir [la fiche](https://www.cnil.fr/fr/les-droits-pour-maitriser-vos-donnees"
            "-personnelles) et [le site](https://cyber.gouv.fr/).",
        },
    ]
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", base_levels())], tutorials))
    found = [(f.check, f.message) for f in report.findings if f.check == "home-page-link"]
    assert found == [
        (
            "home-page-link",
            "tutorial 'guide': links to the home page https://www.cnil.fr/fr: link the exact page",
        ),
        (
            "home-page-link",
            "tutorial 'fiche': links to the home page https://cyber.gouv.fr/: link the exact page",
        ),
    ]


def number(cid: str, instruction: str, unit: str | None = None) -> dict[str, Any]:
    challenge: dict[str, Any] = {
        "id": cid,
        "type": "qroc",
        "format": "number",
        "instruction": instruction,
        "solution": [4],
    }
    if unit:
        challenge["unit"] = unit
    return challenge


@pytest.mark.parametrize(
    ("instruction", "unit", "fires"),
    [
        ("Combien de jours le lien reste-t-il valable ?", None, True),
        ("Quel est le prix du timbre, en euros ?", None, True),
        ("Quel est le poids du fichier en Mo ?", None, True),
        ("Quel nombre de pages compte le document ?", None, True),
        ("Combien de jours le lien reste-t-il valable ?", "jours", False),
        ("Quel résultat affiche la formule =2*2 ?", None, False),
    ],
)
def test_numeric_answer_without_unit(
    tmp_path: Path, instruction: str, unit: str | None, fires: bool
) -> None:
    levels = base_levels()
    levels[1][0] = number("cl-1-a", instruction, unit)
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", levels)]))
    assert checks(report) == (["missing-unit"] if fires else [])


def test_thin_skills_and_level_gaps(tmp_path: Path) -> None:
    levels = {1: clean_challenges("cl", 1)[:2], 3: clean_challenges("cl", 3)}
    root = write_tree(tmp_path / "c", [tube("propre", "cl", levels)])
    report = run(root)
    assert [str(f) for f in report.findings] == [
        "tubes/1.1/propre.yaml:1: level-gap: tube 'propre' has levels 1, 3: level(s) 2 missing",
        "tubes/1.1/propre.yaml:5: thin-skill: skill 'propre-1' has 2 served challenge(s); 3 "
        "needed so a retake meets new ones",
    ]
    assert "level:" in root.joinpath("tubes/1.1/propre.yaml").read_text().splitlines()[4]
    # Drafts do not count: they are not served.
    levels = base_levels()
    levels[2][2]["status"] = "draft"
    assert checks(run(write_tree(tmp_path / "d", [tube("propre", "cl", levels)]))) == ["thin-skill"]


def test_office_files_need_an_odf_alternative(tmp_path: Path) -> None:
    levels = base_levels()
    levels[1][0]["attachments"] = ["attachments/inscriptions-ateliers.xlsx"]
    levels[1][1]["attachments"] = [
        "attachments/inscriptions-ateliers.xlsx",
        "attachments/inscriptions-ateliers.ods",
    ]
    levels[1][2]["attachments"] = ["attachments/note.docx", "attachments/inscriptions-ateliers.ods"]
    files = ("inscriptions-ateliers.xlsx", "inscriptions-ateliers.ods", "note.docx")
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", levels)], attachments=files))
    assert [f.message for f in report.findings] == [
        "cl-1-a: attachments/inscriptions-ateliers.xlsx has no OpenDocument alternative (.ods) "
        "attached",
        "cl-1-c: attachments/note.docx has no OpenDocument alternative (.odt) attached",
    ]
    assert next(m for m in report.measures if m.name == "challenges on a file").value == "3"


def test_same_labels_and_references_to_another_challenge(tmp_path: Path) -> None:
    levels = base_levels()
    levels[1][0] = {
        "id": "cl-1-a",
        "type": "qrocm-ind",
        "instruction": "Complétez la règle de sauvegarde.",
        "fields": [{"key": "a", "label": "Nombre"}, {"key": "b", "label": "nombre"}],
        "solution": {"a": ["3"], "b": ["2"]},
    }
    levels[1][1]["instruction"] = "Reprenez le message de la question précédente : qui répond ?"
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", levels)]))
    assert [f.message for f in report.findings] == [
        "cl-1-a: 2 fields have the same label « nombre »",
        "cl-1-b: refers to another challenge the agent may never have seen",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("voir https://www.service-public.fr/particuliers", ["service-public.fr"]),
        ("service-public.gouv.fr et cnil.fr", ["service-public.gouv.fr", "cnil.fr"]),
        ("écrivez à agent@mairie-lorvenne.fr", []),
        ("le fichier bilan.ods", ["bilan.ods"]),  # a host-shaped word, not in the list
    ],
)
def test_hosts(text: str, expected: list[str]) -> None:
    assert list(hosts(text)) == expected


def test_outdated_and_home_page_rules() -> None:
    assert outdated("mon.service-public.fr") is not None
    assert outdated("service-public.gouv.fr") is None
    assert outdated("bilan.ods") is None
    assert is_home_page("https://www.cnil.fr")
    assert is_home_page("https://www.cnil.fr/")
    assert not is_home_page("https://www.cnil.fr/fr/cybersecurite")
    assert not is_home_page("https://www.legifrance.gouv.fr/?q=rgpd")
    assert level_gaps([1, 2, 5]) == [3, 4]
    assert level_gaps([2, 3]) == []


def test_real_content_audit_runs(tmp_path: Path) -> None:
    real = Path(__file__).resolve().parents[2] / "content"
    loaded = lint_content(real)
    assert loaded.content is not None
    report = audit(loaded.content, loaded.places)
    assert sum(report.types.values()) == sum(
        1 for c in loaded.content.challenges.values() if c.is_served
    )
    assert [row.code for row in report.competences] == [
        c.code for c in loaded.content.iter_competences()
    ]
    assert all(f.line is not None and f.path != "?" for f in report.findings)


# --- the command ----------------------------------------------------------------------------


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("SOCLE_CONTENT_DIR", raising=False)
    return CliRunner()


def test_command_text_json_and_strict(tmp_path: Path, runner: CliRunner) -> None:
    levels = base_levels()
    levels[1][0]["instruction"] = "Sur www.service-public.fr, où trouvez-vous la démarche ?"
    root = str(write_tree(tmp_path / "c", [tube("propre", "cl", levels)]))
    result = runner.invoke(content_group, ["audit", "--content-dir", root])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("tubes/1.1/propre.yaml:")
    assert ": outdated-domain: cl-1-a: mentions service-public.fr" in lines[0]
    assert any(line.startswith("outdated or wrong domains") and "NO" in line for line in lines)
    assert any(line.startswith("1.1 Rechercher") for line in lines)

    result = runner.invoke(content_group, ["audit", "--content-dir", root, "--format", "json"])
    data = json.loads(result.output)
    assert data["ok"] is False
    assert data["findings"][0]["check"] == "outdated-domain"
    assert data["types"] == {"qcu": 6}

    result = runner.invoke(content_group, ["audit", "--content-dir", root, "--strict"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[-1] == "Error: 9 threshold(s) of the audit not met"
    failed = [line for line in lines if line.startswith("threshold not met: ")]
    assert len(failed) == 9
    assert "threshold not met: outdated or wrong domains = 1 (want ≤ 0)" in failed
    assert "threshold not met: tubes = 1 (want ≥ 64)" in failed


def test_command_on_invalid_content_is_one_clear_line(runner: CliRunner) -> None:
    invalid = Path(__file__).resolve().parents[1] / "fixtures" / "content-invalid-references"
    result = runner.invoke(content_group, ["audit", "--content-dir", str(invalid)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: invalid content in {invalid}")


def test_thresholds_are_one_documented_value() -> None:
    assert replace(Thresholds(), qcu_key_longest_max=0.3) == Thresholds()
    assert Thresholds().qcm_combination_max == 0.40


@pytest.mark.parametrize(
    ("instruction", "fires"),
    [
        ("Dans le même inventaire (fichier joint), quel poste a le moins d'espace ?", True),
        ("Comme précédemment, quel onglet choisissez-vous ?", True),
        ("Reprenez l'exercice ci-dessus : que changez-vous ?", True),
        ("Le même jour, deux agents envoient le fichier joint : lequel arrive ?", False),
        ("Quel poste a le moins d'espace libre dans l'inventaire joint ?", False),
    ],
)
def test_cross_references(tmp_path: Path, instruction: str, fires: bool) -> None:
    levels = base_levels()
    levels[1][0]["instruction"] = instruction
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", levels)]))
    assert checks(report) == (["cross-reference"] if fires else [])


def test_a_qcu_key_a_little_longer_than_the_rest_is_counted_not_flagged(tmp_path: Path) -> None:
    levels = base_levels()
    levels[1][0] = qcu(
        "cl-1-a",
        "Où rangez-vous le compte rendu signé de la réunion ?",
        ["Dans le dossier partagé", "Dans ma messagerie", "Sur le bureau du poste", "En papier"],
    )
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", levels)]))
    assert "length-cue" not in checks(report)
    measures = {m.name: m.value for m in report.measures}
    assert measures["qcu: key is the single longest"].startswith("1/")


def test_qcu_keys_piled_on_the_middle_ranks_fail(tmp_path: Path) -> None:
    """« Drop the longest and the shortest » must not pay."""
    levels = base_levels()
    for challenge in levels[1] + levels[2]:
        challenge["proposals"] = ["Bbbbbb", "Aaaaaaaaa", "Cccccccccccc", "Ddd"]
        challenge["solution"] = 1
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", levels)]))
    assert "qcu (4 proposals): key 2nd or 3rd by length" in [m.name for m in report.failures]


def test_qcu_share_of_shortest_keys_above_the_threshold_fails(tmp_path: Path) -> None:
    """Keys made short on purpose to avoid the longest-key cue are the same cue reversed."""
    levels = base_levels()
    for challenge in levels[1] + levels[2]:
        challenge["proposals"] = ["Oui", "Non, jamais de la vie", "Peut-être bien, selon le cas"]
    report = run(
        write_tree(tmp_path / "c", [tube("propre", "cl", levels)]),
        replace(SMALL, qcu_key_shortest_max=Thresholds().qcu_key_shortest_max),
    )
    assert "qcu: key is the single shortest" in [m.name for m in report.failures]
    assert "length-cue" not in checks(report)  # a share of the bank, not a finding per item


@pytest.mark.parametrize(
    ("text", "absolute"),
    [
        ("Vous ne faites rien tant que le service n'a pas répondu", True),
        ("Jamais, même à un collègue", True),
        ("Il faut **toujours** demander l'accord écrit", True),
        ("Tous les agents du service y ont accès", True),
        ("Seulement le nom du destinataire", True),
        ("Quel que soit le poste", True),
        ("Systématiquement, à chaque envoi", True),
        ("Tout le dossier est partagé", True),
        ("Vous le signalez tout de suite au référent", False),
        ("C'est tout à fait possible avec un lien de partage", False),
        ("La date se met à jour toute seule", False),
        ("Avant tout, vous vérifiez l'expéditeur", False),
        ("Tout en gardant une copie locale", False),
        ("Vous le transférez au référent sécurité", False),
    ],
)
def test_absolute_words(text: str, absolute: bool) -> None:
    assert is_absolute(text) is absolute


def test_a_guesser_dropping_absolute_proposals(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "c", [tube("propre", "cl", base_levels())])
    report = lint_content(root)
    assert report.content is not None
    challenge = report.content.challenges["cl-1-c"]

    def with_proposals(*texts: str) -> Any:
        return replace(
            challenge, proposals=tuple(replace(challenge.proposals[0], fr=t) for t in texts)
        )

    plain = with_proposals("Calc, le tableur", "Writer, jamais un tableur", "Impress, toujours")
    assert qcu_absolute_guess(plain) == (1.0, 1 / 3)
    keyed = replace(plain, solution=replace(plain.solution, index=2))
    assert qcu_absolute_guess(keyed) == (0.0, 1 / 3)
    # Every proposal (or none) absolute: the guesser is blind.
    assert qcu_absolute_guess(with_proposals("Jamais A", "Toujours B", "Rien C")) == (1 / 3, 1 / 3)


def test_two_absolute_distractors_of_three_are_a_finding(tmp_path: Path) -> None:
    levels = base_levels()
    levels[1][0] = qcu(
        "cl-1-a",
        "Un usager demande une copie de son dossier. Que faites-vous ?",
        [
            "Vous vérifiez son identité puis envoyez la copie",
            "Vous ne transmettez jamais de copie",
            "Vous envoyez tous les dossiers du service",
            "Vous demandez l'accord du maire avant la copie",
        ],
    )
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", levels)]))
    assert checks(report) == ["absolute-cue"]
    assert "50 %" in report.findings[0].message
    # One absolute distractor of three is counted in the share, not flagged.
    levels[1][0]["proposals"][2] = "Vous envoyez le dossier de son voisin par erreur"
    report = run(write_tree(tmp_path / "d", [tube("propre", "cl", levels)]))
    assert "absolute-cue" not in checks(report)


def test_absolute_distractors_across_the_bank_fail_the_share(tmp_path: Path) -> None:
    """« Drop what says always or never » must not pay over the bank."""
    levels = base_levels()
    for challenge in levels[1] + levels[2]:
        challenge["proposals"] = ["Une réponse mesurée", "Jamais", "Une autre réponse"]
    report = run(write_tree(tmp_path / "c", [tube("propre", "cl", levels)]))
    failed = [m for m in report.failures if m.name.startswith("qcu: guess dropping")]
    assert failed
    assert failed[0].value == "50.0 % (chance 33.3 %)"
    assert "absolute-cue" not in checks(report)
    # The same words in keys as often as in distractors: no gain.
    for index, challenge in enumerate(levels[1] + levels[2]):
        challenge["solution"] = 2 if index % 3 == 0 else 1
    report = run(write_tree(tmp_path / "d", [tube("propre", "cl", levels)]))
    assert not [m for m in report.failures if m.name.startswith("qcu: guess dropping")]
