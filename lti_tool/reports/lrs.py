"""The training reports' rows from xAPI statements alone: what an LRS consumer without
access to Socle's database computes.

The profile promises that the statements carry what the per-competence table needs: each
``completed`` statement the levels per competence and the mastery, each ``answered`` statement
its skill (grouping activity) and its success. So the same :class:`AgentRow` values as the
database path come out of them, and :func:`lti_tool.reports.analysis.competence_table` gives
the same table (``tests/reports/test_lrs_path.py`` compares both on the same attempts).

What statements do not carry: the job family and category an agent declared (they are not
in the profile), so the expected levels come from one job profile given by the reader
(``--job-profile``), applied to every agent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from lti_tool.reports.analysis import FINISHED, IN_PROGRESS, AgentRow
from xapi import vocabulary as v
from xapi.reports import completion_of


def _actor_key(statement: Mapping[str, Any]) -> str:
    actor = statement.get("actor", {})
    account = actor.get("account", {}) if isinstance(actor, dict) else {}
    if isinstance(account, dict) and account.get("name"):
        return f"{account.get('homePage', '')}|{account['name']}"
    return str(actor.get("mbox", "")) if isinstance(actor, dict) else ""


def _account(statement: Mapping[str, Any]) -> str:
    actor = statement.get("actor", {})
    account = actor.get("account", {}) if isinstance(actor, dict) else {}
    if isinstance(account, dict) and account.get("name"):
        return str(account["name"])
    return str(actor.get("mbox", "")) if isinstance(actor, dict) else ""


def _registration(statement: Mapping[str, Any]) -> str:
    context = statement.get("context", {})
    return str(context.get("registration", "")).lower() if isinstance(context, dict) else ""


def _skill_of(statement: Mapping[str, Any], skill_prefix: str) -> str | None:
    context = statement.get("context", {})
    activities = context.get("contextActivities", {}) if isinstance(context, dict) else {}
    grouping = activities.get("grouping", []) if isinstance(activities, dict) else []
    for activity in grouping if isinstance(grouping, list) else []:
        identifier = str(activity.get("id", "")) if isinstance(activity, dict) else ""
        if identifier.startswith(skill_prefix):
            return unquote(identifier[len(skill_prefix) :])
    return None


def rows_from_statements(
    completed: Iterable[Mapping[str, Any]],
    answered: Iterable[Mapping[str, Any]],
    *,
    base_url: str,
    iri_base: str | None = None,
    expected: Mapping[str, int] | None = None,
) -> list[AgentRow]:
    """One row per actor: their latest completion (levels, mastery, the skills failed in that
    registration), or ``in progress`` when they only answered. ``expected`` is the job
    profile's expectation applied to every agent."""
    base = v.normalize_base_url(iri_base or base_url)
    skill_prefix = v.activity_iri(base, "skill", "x")[:-1]
    failed: dict[str, set[str]] = defaultdict(set)
    answering: dict[str, tuple[str, str]] = {}
    for statement in answered:
        registration = _registration(statement)
        key = _actor_key(statement)
        answering.setdefault(key, (_account(statement), registration))
        result = statement.get("result", {})
        if isinstance(result, dict) and result.get("success") is False:
            skill = _skill_of(statement, skill_prefix)
            if skill:
                failed[registration].add(skill)
    latest: dict[str, tuple[str, Any, str]] = {}
    for statement in completed:
        completion = completion_of(statement, base_url)
        key = _actor_key(statement)
        if key not in latest or completion.completed_at >= latest[key][0]:
            latest[key] = (completion.completed_at, completion, _registration(statement))
    rows: list[AgentRow] = []
    for key, (_at, completion, registration) in sorted(latest.items()):
        rows.append(
            AgentRow(
                key=key,
                sub=completion.account,
                name=completion.name,
                status=FINISHED,
                mastery=completion.mastery,
                levels=dict(completion.levels),
                expected=dict(expected or {}),
                failed_skills=frozenset(failed.get(registration, ())),
            )
        )
    for key, (account, registration) in sorted(answering.items()):
        if key not in latest:
            rows.append(
                AgentRow(
                    key=key,
                    sub=account,
                    status=IN_PROGRESS,
                    expected=dict(expected or {}),
                    failed_skills=frozenset(failed.get(registration, ())),
                )
            )
    return rows
