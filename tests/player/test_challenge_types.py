"""Every challenge type through HTTP: the right answer is ``ok``, a wrong one ``ko``, « Je
passe » ``skipped``; and whatever a tampered form sends (huge strings, markup, control
characters, missing or unknown fields, several values where one is expected) is graded
``ko`` — never a 500, never an answer accepted by accident.

The engine chooses challenges adaptively, so each test puts the wanted challenge on the
agent's screen the way the player itself does: as the attempt's current challenge.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from lti_tool.domain.framework import AnswerFormat, Challenge, ChallengeType
from lti_tool.player.service import MAX_STORED_ANSWER
from tests.player.agent import Agent, FormValue, Page, challenges_where
from tests.player_helpers import right_answer

PARCOURS = "socle-commun"

# Which challenge of the content stands for each kind (the first by id, untimed).
KINDS: dict[str, Callable[[Challenge], bool]] = {
    "qcu": lambda c: c.type is ChallengeType.QCU,
    "qcm": lambda c: c.type is ChallengeType.QCM,
    "qroc text": lambda c: c.type is ChallengeType.QROC and c.answer_format is AnswerFormat.TEXT,
    "qroc number": lambda c: (
        c.type is ChallengeType.QROC and c.answer_format is AnswerFormat.NUMBER
    ),
    "qrocm-ind with a drop-down": lambda c: (
        c.type is ChallengeType.QROCM_IND and any(f.options for f in c.fields)
    ),
    "qrocm-ind with text fields": lambda c: (
        c.type is ChallengeType.QROCM_IND and not any(f.options for f in c.fields)
    ),
    "qrocm-dep": lambda c: c.type is ChallengeType.QROCM_DEP,
}


def pick(agent: Agent, kind: str) -> Challenge:
    found = challenges_where(agent.content, PARCOURS, lambda c: not c.timer and KINDS[kind](c))
    assert found, f"the content has no untimed {kind} challenge in {PARCOURS}"
    return found[0]


def show(agent: Agent, challenge: Challenge) -> Page:
    """Launch, start, and have ``challenge`` served as the current one."""
    agent.launch()
    agent.start()
    agent.change_attempt(
        current_challenge_id=challenge.id,
        current_served_at=datetime.now(UTC),
        timer_started_at=None,
    )
    page = agent.play()
    assert page.challenge_id == challenge.id, page.html
    return page


@pytest.fixture
def socle_agent(make_agent: Callable[..., Agent]) -> Agent:
    return make_agent(parcours=PARCOURS)


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_challenge_form_carries_the_stable_hooks(kind: str, socle_agent: Agent) -> None:
    challenge = pick(socle_agent, kind)
    page = show(socle_agent, challenge)
    form = page.form_to("/play/answer")
    assert form is not None
    assert form["attrs"]["data-challenge-id"] == challenge.id
    assert page.hidden("/play/answer")["challenge_id"] == challenge.id
    buttons = {(n, v) for n, v, kind_ in form["inputs"] if kind_ == "submit"}
    assert buttons == {("action", "validate"), ("action", "skip")}
    inputs = [(n, v, k) for n, v, k in form["inputs"] if k not in {"hidden", "submit"}]
    if challenge.type in (ChallengeType.QCU, ChallengeType.QCM):
        expected_kind = "radio" if challenge.type is ChallengeType.QCU else "checkbox"
        assert sorted(inputs) == sorted(
            ("answer", str(i), expected_kind) for i in range(1, len(challenge.proposals) + 1)
        )
    elif challenge.type is ChallengeType.QROC:
        assert inputs == [("answer", "", "text")]
    else:
        assert page.input_names("/play/answer") == {f"answer.{f.key}" for f in challenge.fields}
        for f in challenge.fields:
            offered = {v for n, v, k in inputs if n == f"answer.{f.key}" and k == "option"}
            assert offered == ({"", *f.options} if f.options else set())


@pytest.mark.parametrize(("how", "status"), [("right", "ok"), ("wrong", "ko"), ("skip", "skipped")])
@pytest.mark.parametrize("kind", list(KINDS))
def test_each_type_is_graded_through_http(
    kind: str, how: str, status: str, socle_agent: Agent
) -> None:
    challenge = pick(socle_agent, kind)
    page = show(socle_agent, challenge)
    feedback = socle_agent.answer(page, how)
    assert feedback.status == 200
    assert feedback.answer_status == status
    (record,) = socle_agent.records()
    assert (record.challenge_id, record.status, record.seq) == (challenge.id, status, 1)
    if how == "skip":
        assert record.response is None


def _every_field(challenge: Challenge, value: FormValue) -> dict[str, FormValue]:
    if challenge.fields:
        return {f"answer.{f.key}": value for f in challenge.fields}
    return {"answer": value}


def _with_right_values(
    challenge: Challenge, change: Callable[[str], FormValue]
) -> dict[str, FormValue]:
    """The right answer with each submitted value passed through ``change``."""
    fields: dict[str, FormValue] = {}
    for name, value in right_answer(challenge).items():
        if isinstance(value, list):
            fields[name] = [v for item in value for v in _as_list(change(item))]
        else:
            fields[name] = change(value)
    return fields


def _as_list(value: FormValue) -> list[str]:
    return value if isinstance(value, list) else [value]


HUGE = "A" * 100_000
MARKUP = "<script>alert('socle')</script><img src=x onerror=alert(1)>"
# Each case builds the tampered form fields from the challenge; all must be graded ko.
HOSTILE: dict[str, Callable[[Challenge], dict[str, FormValue]]] = {
    "100 000 characters": lambda c: _every_field(c, HUGE),
    "the right answer followed by 100 000 characters": lambda c: _with_right_values(
        c, lambda v: v + HUGE
    ),
    "markup": lambda c: _every_field(c, MARKUP),
    "control characters around the right answer": lambda c: _with_right_values(
        c, lambda v: f"\x00{v}\x1b[2J\x07"
    ),
    "bidirectional override in the right answer": lambda c: _with_right_values(
        c, lambda v: f"\u202e{v}"
    ),
    "the right answer plus an unknown field": lambda c: {
        **right_answer(c),
        "answer.champ-inconnu": "x",
    },
    "the right answer under unknown keys": lambda c: {
        f"answer.x{name}": value for name, value in right_answer(c).items()
    },
    "several values where one is expected": lambda c: _with_right_values(c, lambda v: [v, "zzz"]),
    "the right value twice": lambda c: _with_right_values(c, lambda v: [v, v]),
    "an index out of range": lambda c: _every_field(c, "999"),
    "a negative or decimal index": lambda c: _every_field(c, ["-1", "1.5"]),
}


BLANK: dict[str, Callable[[Challenge], dict[str, FormValue]]] = {
    "no answer field at all": lambda c: {},
    "empty values": lambda c: _every_field(c, ""),
    "only spaces": lambda c: _every_field(c, "   "),
}


@pytest.mark.parametrize("case", list(BLANK))
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_blank_answer_records_nothing_and_asks_again(
    kind: str, case: str, socle_agent: Agent
) -> None:
    """« Valider » with nothing chosen or typed is not a wrong answer: the same challenge
    comes back saying what to do, and nothing is recorded or sent."""
    challenge = pick(socle_agent, kind)
    page = show(socle_agent, challenge)
    response = socle_agent.submit(page, BLANK[case](challenge))
    assert response.status_code == 303
    again = socle_agent.follow(response)
    assert again.status == 200
    assert again.challenge_id == challenge.id
    assert "ou cliquez sur « Je passe »" in again.text()
    assert 'aria-invalid="true"' in again.html
    assert socle_agent.records() == []
    assert not [s for s in socle_agent.statements() if s["verb"]["id"].endswith("/answered")]
    # The same form answered properly is then recorded as the first answer.
    feedback = socle_agent.answer(again, "wrong")
    assert feedback.answer_status == "ko"
    (record,) = socle_agent.records()
    assert record.seq == 1


@pytest.mark.parametrize("case", list(HOSTILE))
@pytest.mark.parametrize("kind", list(KINDS))
def test_hostile_input_is_graded_ko_and_never_breaks_the_page(
    kind: str, case: str, socle_agent: Agent
) -> None:
    challenge = pick(socle_agent, kind)
    page = show(socle_agent, challenge)
    fields = HOSTILE[case](challenge)
    response = socle_agent.submit(page, fields)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    feedback = socle_agent.follow(response)
    assert feedback.status == 200
    assert feedback.answer_status == "ko", fields if len(str(fields)) < 300 else case
    assert "<script>alert" not in feedback.html
    assert "<img src=x" not in feedback.html
    (record,) = socle_agent.records()
    assert record.status == "ko"
    stored = record.response
    values = (
        stored.values()
        if isinstance(stored, dict)
        else (stored if isinstance(stored, list) else [stored])
    )
    assert all(len(str(v)) <= MAX_STORED_ANSWER + 4 for v in values)
    # The answer's statement exists and is valid xAPI whatever was sent.
    (answered,) = [s for s in socle_agent.statements() if s["verb"]["id"].endswith("/answered")]
    BaseXapiStatement.model_validate(answered)
    assert answered["result"]["success"] is False
    # The agent goes on normally afterwards.
    assert socle_agent.play().status == 200
