"""The real content's answer keys: correct answers an agent really types are accepted.

Each case is an answer a reviewer found graded wrong, or its near neighbour; the refusals
check that widening a key did not let a wrong or half answer through. Cases name challenge
ids, so a rewritten challenge that drops one fails here and is looked at again.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from lti_tool.content import load_content
from lti_tool.domain.checking import check_answer
from lti_tool.domain.framework import (
    AnswerFormat,
    ChallengeType,
    Content,
    MultipleChoiceSolution,
    NumberSolution,
)

REAL = Path(__file__).resolve().parents[2] / "content"


@cache
def _content() -> Content:
    return load_content(REAL)


@pytest.mark.parametrize(
    ("challenge_id", "answer"),
    [
        ("alg-2-b", "4 €"),
        ("alg-2-b", "4 euros"),
        ("alg-2-b", "4"),
        ("pj-3-a", "12 Mo"),
        ("pj-3-a", "12 MB"),
        ("dp-4-d", "1 mois"),
        ("imp-5-c", "147 h"),
        ("ec-5-a", "1 800 €"),
        ("lg-3-a", "25 %"),
        ("msg-4-a", "3 personnes"),
        ("img-5-a", "3000 px"),
        ("of-3-c", {"ext1": "odf", "ext2": "fodt"}),
        ("of-3-c", {"ext1": ".odb", "ext2": "OTT"}),
        ("rac-2-a", "Touche de logo Windows + L"),
        ("rac-2-a", "⊞ + L"),
        ("rac-2-a", "windows+l"),
        ("nav-1-b", {"nav1": "Mozilla Firefox", "nav2": "Chrome"}),
        ("dp-2-b", {"cat1": "données de santé", "cat2": "opinions politiques"}),
        (
            "dp-4-e",
            {
                "copie": "Droit d'accès",
                "erreur": "Droit de rectification",
                "contestation": "Droit à la limitation du traitement",
                "club": "Droit à l'effacement",
            },
        ),
        ("img-5-d", "150 ppp"),
        ("img-5-d", "150 dpi"),
        ("img-5-d", "150 pixels par pouce"),
        ("alg-6-c", "79 800"),
        ("tt-5-c", "19215 m³"),
        ("tt-5-c", "19 215 m3"),
        ("tt-5-c", "19215m3"),
        ("tt-5-c", "19 215 mètres cubes"),
        ("alg-6-c", "79800 comparaisons"),
        ("msg-3-a", {"benevoles": "Cci", "responsable": "Cc"}),
        ("img-4-c", "16x"),
        ("img-4-c", "16 ×"),
        ("sav-6-d", "lundi 9 mars"),
        ("sav-6-d", "09.03.2026"),
        ("fmt-4-e", "Note d'organisation de la médiathèque Louise Michel"),
    ],
)
def test_correct_answers_are_accepted(challenge_id: str, answer: object) -> None:
    result = check_answer(_content().challenges[challenge_id], answer)
    assert result.is_ok, (challenge_id, answer, result)


@pytest.mark.parametrize(
    ("challenge_id", "answer"),
    [
        ("pj-3-a", "12 Go"),
        ("alg-2-b", "1 €"),
        ("rac-2-a", "L"),
        ("rac-2-a", "Windows + D"),
        ("nav-1-b", {"nav1": "Firefox", "nav2": "Mozilla Firefox"}),
        ("nav-1-b", {"nav1": "Edge", "nav2": "Microsoft Edge"}),
        ("dp-2-b", {"cat1": "santé", "cat2": "données de santé"}),
        ("dp-2-b", {"cat1": "religion", "cat2": "convictions religieuses"}),
        (
            "dp-4-e",
            {
                "copie": "Droit d'accès",
                "erreur": "Droit de rectification",
                "contestation": "Droit de rectification",
                "club": "Droit à l'effacement",
            },
        ),
        ("img-5-d", "300 ppp"),
        ("img-5-d", "150 cm"),
        ("tt-5-c", "14586 m³"),
        ("tt-5-c", "19215 m²"),
        ("msg-3-a", {"benevoles": "Cci", "responsable": "Cci"}),
        ("img-4-c", "4x"),
        ("sav-6-d", "10 mars"),
    ],
)
def test_wrong_or_repeated_answers_are_refused(challenge_id: str, answer: object) -> None:
    result = check_answer(_content().challenges[challenge_id], answer)
    assert not result.is_ok, (challenge_id, answer)


@pytest.mark.parametrize(
    ("challenge_id", "keyed"),
    [
        # A distractor inserted in the middle of the list once shifted these keys.
        ("mep-3-a", ["La numérotation « Page 2", "Le nom du service", "La date ou le numéro"]),
        ("acc-3-a", ["Écrire des liens", "Utiliser les styles de titres", "Signaler une date"]),
    ],
)
def test_multiple_choice_keys_point_at_the_right_proposals(
    challenge_id: str, keyed: list[str]
) -> None:
    challenge = _content().challenges[challenge_id]
    solution = challenge.solution
    assert isinstance(solution, MultipleChoiceSolution)
    texts = sorted(challenge.proposals[i - 1].fr for i in solution.indexes)
    assert len(texts) == len(keyed)
    for start in keyed:
        assert any(text.startswith(start) for text in texts), (challenge_id, start, texts)


def test_every_numeric_challenge_accepts_its_own_key() -> None:
    """Each accepted number, bare and followed by its unit's symbol, is graded right."""
    checked = 0
    for challenge in _content().challenges.values():
        if challenge.type is not ChallengeType.QROC:
            continue
        if challenge.answer_format is not AnswerFormat.NUMBER:
            continue
        solution = challenge.solution
        assert isinstance(solution, NumberSolution)
        for value in solution.accepted:
            assert check_answer(challenge, str(value)).is_ok, challenge.id
            for unit in solution.units:
                answer = f"{value} {unit}"
                assert check_answer(challenge, answer).is_ok, (challenge.id, answer)
        checked += 1
    assert checked >= 30


def test_no_two_tutorials_are_the_same_resource() -> None:
    """Two entries for one page would show an agent the same link twice under two titles."""
    tutorials = list(_content().tutorials.values())
    urls = [t.url for t in tutorials if t.url]
    titles = [t.title.fr for t in tutorials]
    assert len(urls) == len(set(urls)), sorted(u for u in urls if urls.count(u) > 1)
    assert len(titles) == len(set(titles)), sorted(t for t in titles if titles.count(t) > 1)
