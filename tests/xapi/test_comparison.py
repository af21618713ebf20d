"""xAPI's Statement Comparison Requirements, as the 409 check applies them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.xapi import samples
from xapi.builders import StatementBuilder
from xapi.comparison import differences, same_statement

SENT = samples.full_attempt(StatementBuilder(samples.BASE_URL))[1]


def _changed(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    statement = copy.deepcopy(SENT)
    change(statement)
    return statement


def _stored_by_an_lrs(statement: dict[str, Any]) -> None:
    statement["stored"] = "2026-12-07T00:00:00.000Z"
    statement["authority"] = {"objectType": "Agent", "mbox": "mailto:lrs@example.fr"}
    statement["version"] = "1.0.0"


@pytest.mark.parametrize(
    "change",
    [
        _stored_by_an_lrs,
        lambda s: s.update(id=s["id"].upper()),
        lambda s: s.update(timestamp=s["timestamp"].replace("Z", "+00:00")),
        lambda s: s["object"].pop("definition"),
        lambda s: s["object"].update(objectType="Activity"),
        lambda s: s["actor"].pop("objectType"),
        lambda s: s["context"].update(registration=s["context"]["registration"].upper()),
        lambda s: s["context"]["contextActivities"]["parent"][0].pop("definition", None),
        lambda s: s.update(
            verb={**s["verb"], "display": {k.upper(): v for k, v in s["verb"]["display"].items()}}
        ),
    ],
    ids=[
        "stored-authority-version",
        "id-case",
        "timestamp-format",
        "activity-definition",
        "default-object-type",
        "default-agent-type",
        "registration-case",
        "context-activity-definition",
        "language-tag-case",
    ],
)
def test_differences_the_specification_causes_are_ignored(
    change: Callable[[dict[str, Any]], None],
) -> None:
    assert same_statement(SENT, _changed(change))


@pytest.mark.parametrize(
    ("change", "part"),
    [
        (lambda s: s.update(timestamp="2020-01-01T00:00:00.000Z"), "timestamp"),
        (lambda s: s["result"].update(success=not s["result"].get("success")), "result"),
        (lambda s: s["actor"]["account"].update(name="someone-else"), "actor"),
        (lambda s: s["verb"].update(id="http://adlnet.gov/expapi/verbs/failed"), "verb"),
        (lambda s: s["object"].update(id=s["object"]["id"] + "-other"), "object"),
        (lambda s: s.pop("context"), "context"),
    ],
)
def test_other_differences_make_another_statement(
    change: Callable[[dict[str, Any]], None], part: str
) -> None:
    assert differences(SENT, _changed(change)) == [part]
