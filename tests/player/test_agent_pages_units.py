"""Pure pieces of the agent's pages: blank answers, the outlook, the radar, file titles."""

from __future__ import annotations

import random

from lti_tool.config import PROJECT_DIR
from lti_tool.content.loader import load_content
from lti_tool.domain.adaptive import get_algorithm
from lti_tool.domain.answers import Answer, AnswerStatus
from lti_tool.domain.checking import is_blank_answer
from lti_tool.domain.framework import ChallengeType
from lti_tool.domain.outlook import TYPICAL_PER_COMPETENCE, outlook
from lti_tool.domain.target import parcours_view
from lti_tool.player.presenter import file_title
from lti_tool.player.radar import Axis, radar_svg

CONTENT = load_content(PROJECT_DIR / "content")


def _first(kind: ChallengeType):  # type: ignore[no-untyped-def]
    return next(c for c in CONTENT.challenges.values() if c.type is kind)


def test_blank_answers_by_type() -> None:
    qcu, qcm = _first(ChallengeType.QCU), _first(ChallengeType.QCM)
    qroc, qrocm = _first(ChallengeType.QROC), _first(ChallengeType.QROCM_IND)
    assert is_blank_answer(qcu, "")
    assert is_blank_answer(qcu, [])
    assert not is_blank_answer(qcu, "1")
    assert is_blank_answer(qcm, [])
    assert not is_blank_answer(qcm, ["1"])
    assert is_blank_answer(qroc, "   ")
    assert not is_blank_answer(qroc, "0")
    keys = [f.key for f in qrocm.fields]
    assert is_blank_answer(qrocm, dict.fromkeys(keys, ""))
    assert not is_blank_answer(qrocm, {keys[0]: "x", **dict.fromkeys(keys[1:], "")})
    # A forged form is graded, never taken for a blank one.
    assert not is_blank_answer(qrocm, {"nope": ""})
    assert not is_blank_answer(qcu, {"answer.x": ""})


def test_the_outlook_counts_competences_left_and_questions_left() -> None:
    view = parcours_view(CONTENT, "socle-commun")
    algorithm = get_algorithm()
    start = outlook(algorithm, view, [])
    assert start is not None
    assert start.competences_done == 0
    assert start.competences_total == len(view.competences)
    assert start.questions_left == TYPICAL_PER_COMPETENCE * len(view.competences)
    # After answers, the count goes down and never below one per unsettled competence.
    answers: list[Answer] = []
    for _ in range(10):
        challenge = algorithm.next_challenge(view, answers, random.Random(1))
        assert challenge is not None
        answers.append(Answer(challenge.id, challenge.skill_id, AnswerStatus.OK))
    later = outlook(algorithm, view, answers)
    assert later is not None
    assert later.questions_left < start.questions_left
    unsettled = later.competences_total - later.competences_done
    assert later.questions_left >= unsettled
    assert outlook(get_algorithm("baseline"), view, []) is None


def test_the_radar_draws_the_parcours_scale_and_the_expected_outline() -> None:
    axes = [Axis(f"1.{i}", f"Nom {i}", i % 4, area=1 + i % 5, expected=2) for i in range(6)]
    svg = str(radar_svg(axes, 5, title="t", description="d"))
    assert svg.count('class="radar-ring"') == 5
    assert 'class="radar-expected"' in svg
    assert "Nom 3" in svg
    assert 'fill="#6a1b9a"' in svg  # area 2's colour
    bare = [Axis(a.code, a.label, a.level) for a in axes]
    plain = str(radar_svg(bare, 5, title="t", description="d"))
    assert "radar-expected" not in plain


def test_attachment_titles_read_like_names() -> None:
    assert file_title("a1-export-aides-ccas.csv") == "Export aides ccas"
    assert file_title("ateliers-mediatheque.ods") == "Ateliers mediatheque"
    assert file_title("rapport_2026.pdf") == "Rapport 2026"
