"""Are two statements "the same statement"? xAPI's Statement Comparison Requirements.

Why: an LRS answers 409 Conflict to a statement whose id it already holds. Our ids are
deterministic, so that stored statement is *probably* ours — but a 409 is delivered only when
the stored copy is the same statement; otherwise the LRS keeps something we did not say, and
the row must become a dead letter that says so.

xAPI 1.0.3 (Part Two, "Statement Comparison Requirements"; unchanged in 2.0, IEEE 9274.1.1)
says differences that the specification itself may cause MUST be ignored: case, order of Group
members, ``authority``, ``stored``, ``timestamp``, ``version``, attachments, referenced Activity
Definitions. We read "timestamp" as its normalisation (an LRS may store ``+00:00`` as ``Z`` or
add milliseconds): the same instant written differently is equal, another instant is not —
a statement about another moment is not the one we sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

IGNORED: Final = frozenset({"authority", "stored", "version", "attachments"})
"""Properties an LRS sets or may change (xAPI: "MUST be ignored")."""


def _instant(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value


def _uuid(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value


def _language_map(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return {str(key).lower(): text for key, text in value.items()}


def _agent(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    agent = dict(value)
    if agent.get("objectType") == "Agent":
        agent.pop("objectType")  # the default
    if isinstance(agent.get("mbox"), str):
        agent["mbox"] = agent["mbox"].lower()
    members = agent.get("member")
    if isinstance(members, list):
        normalised = [_agent(member) for member in members]
        agent["member"] = sorted(normalised, key=repr)
    return agent


def _activity(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    activity = {key: item for key, item in value.items() if key != "definition"}
    if activity.get("objectType") == "Activity":
        activity.pop("objectType")
    return activity


def _object(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    kind = value.get("objectType", "Activity")
    if kind == "Activity":
        return _activity(value)
    if kind in ("Agent", "Group"):
        return _agent(value)
    if kind == "StatementRef":
        return {**value, "id": _uuid(value.get("id"))}
    if kind == "SubStatement":
        return {**normalise(value), "objectType": "SubStatement"}
    return dict(value)


def _context(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    context = dict(value)
    if "registration" in context:
        context["registration"] = _uuid(context["registration"])
    for key in ("instructor", "team"):
        if key in context:
            context[key] = _agent(context[key])
    activities = context.get("contextActivities")
    if isinstance(activities, Mapping):
        context["contextActivities"] = {
            kind: [_activity(item) for item in (items if isinstance(items, list) else [items])]
            for kind, items in activities.items()
        }
    statement = context.get("statement")
    if isinstance(statement, Mapping):
        context["statement"] = {**statement, "id": _uuid(statement.get("id"))}
    return context


def normalise(statement: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a statement that make it the statement it is, in a comparable form."""
    result: dict[str, Any] = {}
    for key, value in statement.items():
        if key in IGNORED:
            continue
        if key == "id":
            result[key] = _uuid(value)
        elif key == "timestamp":
            result[key] = _instant(value)
        elif key == "actor":
            result[key] = _agent(value)
        elif key == "verb" and isinstance(value, Mapping):
            result[key] = {
                k: _language_map(item) if k == "display" else item for k, item in value.items()
            }
        elif key == "object":
            result[key] = _object(value)
        elif key == "context":
            result[key] = _context(value)
        else:
            result[key] = value
    return result


def differences(sent: Mapping[str, Any], stored: Mapping[str, Any]) -> list[str]:
    """The top-level properties in which two statements differ (empty: the same statement)."""
    left, right = normalise(sent), normalise(stored)
    return sorted(key for key in left.keys() | right.keys() if left.get(key) != right.get(key))


def same_statement(sent: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    """True when ``stored`` is the statement ``sent`` under xAPI's comparison rules."""
    return not differences(sent, stored)
