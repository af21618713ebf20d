"""Time on task, session gaps and challenge texts of the player's xAPI events (pure parts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lti_tool.domain.framework import (
    FieldsSolution,
    MultipleChoiceSolution,
    SingleChoiceSolution,
    TextSolution,
)
from lti_tool.player.events import correct_responses, plain_text, short_name, time_on_task

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
IDLE = timedelta(minutes=15)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("moments", "expected"),
    [
        ([], timedelta(0)),
        ([at(0)], timedelta(0)),
        ([at(0), at(1), at(3)], timedelta(minutes=3)),
        # a 4-minute pause counts (under the limit); a 40-minute one does not
        ([at(0), at(2), at(6), at(46), at(47)], timedelta(minutes=7)),
        ([at(47), at(0), at(46), at(2), at(6)], timedelta(minutes=7)),  # order does not matter
        ([at(0), at(15)], timedelta(minutes=15)),  # exactly the limit is still active
    ],
)
def test_time_on_task_sums_the_active_intervals(
    moments: list[datetime], expected: timedelta
) -> None:
    assert time_on_task(moments, IDLE) == expected


def test_plain_text_and_short_names_drop_the_markdown() -> None:
    text = plain_text(
        "Vous recevez un **courriel** de *la DSI* :\n\n- ouvrir `facture.pdf`\n- [lien](https://x.fr)"
    )
    assert text == "Vous recevez un courriel de la DSI :\nouvrir facture.pdf\nlien"
    long = "Un " + "très " * 30 + "long énoncé"
    name = short_name(long)
    assert len(name) <= 80
    assert name.endswith("…")
    assert short_name("Court.\nSuite") == "Court."


def test_correct_responses_follow_the_interaction_formats() -> None:
    assert correct_responses_of(SingleChoiceSolution(2)) == ("2",)
    assert correct_responses_of(MultipleChoiceSolution(frozenset({4, 2}))) == ("2[,]4",)
    assert correct_responses_of(TextSolution(("odt", "ODT", "odt"))) == ("odt", "ODT")
    fields = FieldsSolution((("longueur", ("12", "douze")), ("familles", ("4",))))
    assert correct_responses_of(fields) == (
        "familles[:]4[,]longueur[:]12",
        "familles[:]4[,]longueur[:]douze",
    )


def correct_responses_of(solution: object) -> tuple[str, ...]:
    class _Challenge:
        pass

    challenge = _Challenge()
    challenge.solution = solution  # type: ignore[attr-defined]
    return correct_responses(challenge)  # type: ignore[arg-type]
