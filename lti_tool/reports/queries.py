"""The reports' reads: the attempts of a scope, once, as :class:`AgentRow` values.

A scope is one activity (the teacher's course report) or every course and deployment of a
platform registration (the organisation report). Each read is one ``select`` with its columns
spelled out — no ORM object is loaded, so no lazy load can hide in a loop — plus, for the
course report, one read of the skills each agent failed. Preview attempts (teachers trying
the parcours) and anonymous ones are never part of a report.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from lti_tool.domain.framework import Content
from lti_tool.models import AnswerRecord, Attempt, Deployment, LtiContext, LtiUser, ResourceLink
from lti_tool.reports.analysis import (
    FINISHED,
    IN_PROGRESS,
    NOT_STARTED,
    AgentRow,
    competence_key,
    stage_index,
)

CHUNK = 900
"""Ids per ``IN (...)``: SQLite's default limit on bound parameters was 999 before 3.32."""

PASSED = "ok"


@dataclass(frozen=True)
class Scope:
    """What a report covers: one activity's resource link, or a platform registration."""

    resource_link_pk: int | None = None
    platform_id: int | None = None

    def __post_init__(self) -> None:
        if (self.resource_link_pk is None) == (self.platform_id is None):
            raise ValueError("a scope is one activity or one platform")


@dataclass(frozen=True)
class Member:
    """A course member as NRPS lists them: the ``sub`` and, when shared, the name."""

    sub: str
    name: str | None = None
    email: str | None = None
    learner: bool = True


@dataclass
class ScopeData:
    rows: list[AgentRow]
    started: list[datetime] = field(default_factory=list)
    finished: list[tuple[datetime, Mapping[str, int]]] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_COLUMNS = (
    Attempt.id,
    Attempt.user_pk,
    Attempt.resource_link_pk,
    Attempt.parcours_id,
    Attempt.status,
    Attempt.started_at,
    Attempt.finished_at,
    Attempt.current_served_at,
    Attempt.mastery,
    Attempt.result,
    Attempt.job_profile_id,
    Attempt.agent_category,
    Attempt.self_assessment,
    LtiUser.sub,
    LtiUser.name.label("user_name"),
    ResourceLink.title.label("activity_title"),
    LtiContext.title.label("course_title"),
    LtiContext.label.label("course_label"),
)


def _attempts(session: Session, scope: Scope) -> Iterator[Any]:
    query = (
        select(*_COLUMNS)
        .join(LtiUser, LtiUser.id == Attempt.user_pk)
        .join(ResourceLink, ResourceLink.id == Attempt.resource_link_pk)
        .outerjoin(LtiContext, LtiContext.id == ResourceLink.context_pk)
        .where(Attempt.preview.is_(False))
        .order_by(Attempt.user_pk, Attempt.resource_link_pk, Attempt.number)
    )
    if scope.resource_link_pk is not None:
        query = query.where(Attempt.resource_link_pk == scope.resource_link_pk)
    else:
        query = query.join(Deployment, Deployment.id == ResourceLink.deployment_pk).where(
            Deployment.platform_id == scope.platform_id
        )
    # Core rows (no ORM loading step), fetched 2 000 at a time: a platform's 20 000 attempts
    # never sit in memory at once.
    yield from session.connection().execute(query.execution_options(yield_per=2000))


def iter_rows(
    session: Session, content: Content, scope: Scope, *, dates: ScopeData | None = None
) -> Iterator[AgentRow]:
    """One row per agent and activity of the scope, as the attempts stream in: the latest
    finished attempt, else the latest one. Memory stays flat however large the scope (the
    exports rely on it). ``dates`` collects every attempt's start and end, for the trends."""
    make = _RowMaker(content, scope)
    group: list[Any] = []
    for line in _attempts(session, scope):
        if dates is not None:
            levels = (line.result or {}).get("levels") or {}
            dates.started.append(_aware(line.started_at) or datetime.min.replace(tzinfo=UTC))
            if line.status == "completed" and line.finished_at is not None:
                dates.finished.append((_aware(line.finished_at), levels))  # type: ignore[arg-type]
        if group and (group[0].user_pk, group[0].resource_link_pk) != (
            line.user_pk,
            line.resource_link_pk,
        ):
            yield make(group)
            group = []
        group.append(line)
    if group:
        yield make(group)


def load_scope(
    session: Session,
    content: Content,
    scope: Scope,
    *,
    roster: Sequence[Member] | None = None,
    failures: bool = True,
) -> ScopeData:
    """The rows of the scope (see :func:`iter_rows`), the roster's learners who never started,
    the dates of every attempt and the competences measured."""
    data = ScopeData(rows=[])
    data.rows = list(iter_rows(session, content, scope, dates=data))
    if failures and data.rows:
        failed = _failed_skills(session, [r.attempt_id for r in data.rows if r.attempt_id])
        data.rows = [
            _with(row, failed_skills=frozenset(failed.get(row.attempt_id or "", ())))
            for row in data.rows
        ]
    if roster is not None:
        data.rows = merge_roster(data.rows, roster)
    codes = {code for row in data.rows for code in row.levels}
    data.codes = sorted(codes, key=competence_key)
    return data


def scope_codes(content: Content, parcours_ids: Iterable[str]) -> list[str]:
    """The competences the parcours measure, in code order (the columns of an export, known
    before the first row is read)."""
    codes: set[str] = set()
    for parcours_id in parcours_ids:
        parcours = content.parcours.get(parcours_id)
        for target in parcours.tubes if parcours else ():
            codes.add(content.tubes[target.tube_id].competence_code)
    return sorted(codes, key=competence_key)


def scope_parcours(session: Session, scope: Scope) -> list[str]:
    query = select(ResourceLink.parcours_id).distinct().where(ResourceLink.parcours_id.is_not(None))
    if scope.resource_link_pk is not None:
        query = query.where(ResourceLink.id == scope.resource_link_pk)
    else:
        query = query.join(Deployment, Deployment.id == ResourceLink.deployment_pk).where(
            Deployment.platform_id == scope.platform_id
        )
    return [p for p in session.scalars(query) if p]


def _with(row: AgentRow, **changes: Any) -> AgentRow:
    return replace(row, **changes)


class _RowMaker:
    """Builds the row of one agent's attempts; what every row of a job profile or parcours
    shares (expected levels, stage thresholds) is worked out once per report."""

    def __init__(self, content: Content, scope: Scope) -> None:
        self.content = content
        self.per_activity = scope.resource_link_pk is None
        self._expected: dict[str, Mapping[str, int]] = {}
        self._thresholds: dict[str, list[int]] = {}
        self._none: Mapping[str, int] = MappingProxyType({})

    def expected(self, profile_id: str | None) -> Mapping[str, int]:
        if not profile_id:
            return self._none
        if profile_id not in self._expected:
            profile = self.content.job_profiles.get(profile_id)
            self._expected[profile_id] = MappingProxyType(dict(profile.expected) if profile else {})
        return self._expected[profile_id]

    def thresholds(self, parcours_id: str) -> list[int]:
        if parcours_id not in self._thresholds:
            parcours = self.content.parcours.get(parcours_id)
            self._thresholds[parcours_id] = sorted(
                s.threshold for s in (parcours.stages if parcours else ())
            )
        return self._thresholds[parcours_id]

    def __call__(self, group: Sequence[Any]) -> AgentRow:
        latest = group[-1]
        done = None
        for line in reversed(group):
            if line.status == "completed":
                done = line
                break
        shown = done or latest
        started = _aware(shown.started_at)
        finished = _aware(shown.finished_at) if done else None
        last = None
        for line in group:
            for moment in (line.started_at, line.finished_at, line.current_served_at):
                if moment is not None and (last is None or moment > last):
                    last = moment
        key = f"{latest.sub}@{latest.resource_link_pk}" if self.per_activity else latest.sub
        thresholds = self.thresholds(shown.parcours_id) if done else []
        return AgentRow(
            key=key,
            sub=latest.sub,
            name=latest.user_name,
            course=latest.course_title or latest.course_label,
            activity=latest.activity_title,
            status=FINISHED if done else IN_PROGRESS,
            attempts=len(group),
            started_at=started,
            finished_at=finished,
            last_activity=_aware(last),
            duration_seconds=(finished - started).total_seconds() if finished and started else None,
            mastery=shown.mastery if done else None,
            stage=stage_index(thresholds, shown.mastery) if thresholds else None,
            job_family=shown.job_profile_id or latest.job_profile_id,
            category=shown.agent_category or latest.agent_category,
            levels=((shown.result or {}).get("levels") or {}) if done else {},
            expected=self.expected(shown.job_profile_id),
            feelings=shown.self_assessment or {},
            attempt_id=shown.id,
        )


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _failed_skills(session: Session, attempt_ids: Sequence[str]) -> dict[str, set[str]]:
    failed: dict[str, set[str]] = {}
    for chunk in _chunks(attempt_ids):
        for attempt_id, skill_id in session.execute(
            select(AnswerRecord.attempt_id, AnswerRecord.skill_id)
            .where(AnswerRecord.attempt_id.in_(chunk), AnswerRecord.status != PASSED)
            .distinct()
        ):
            failed.setdefault(attempt_id, set()).add(skill_id)
    return failed


def failure_counts(session: Session, scope: Scope) -> dict[str, int]:
    """Skill id -> agents of the scope who failed it at least once (any attempt), counted
    by the database: the organisation view never loads its answers."""
    query = (
        select(AnswerRecord.skill_id, func.count(distinct(Attempt.user_pk)))
        .join(Attempt, Attempt.id == AnswerRecord.attempt_id)
        .where(Attempt.preview.is_(False), Attempt.user_pk.is_not(None))
        .where(AnswerRecord.status != PASSED)
        .group_by(AnswerRecord.skill_id)
    )
    if scope.resource_link_pk is not None:
        query = query.where(Attempt.resource_link_pk == scope.resource_link_pk)
    else:
        query = (
            query.join(ResourceLink, ResourceLink.id == Attempt.resource_link_pk)
            .join(Deployment, Deployment.id == ResourceLink.deployment_pk)
            .where(Deployment.platform_id == scope.platform_id)
        )
    return {skill: int(count) for skill, count in session.execute(query)}


def change_stamp(session: Session, scope: Scope) -> tuple[Any, ...]:
    """What changes whenever a report of ``scope`` could: attempts started or finished,
    answers given (``answer_count``), the latest start and end. One aggregate query."""
    query = select(
        func.count(Attempt.id),
        func.coalesce(func.sum(Attempt.answer_count), 0),
        func.count(Attempt.finished_at),
        func.max(Attempt.started_at),
        func.max(Attempt.finished_at),
    ).where(Attempt.preview.is_(False))
    if scope.resource_link_pk is not None:
        query = query.where(Attempt.resource_link_pk == scope.resource_link_pk)
    else:
        query = (
            query.join(ResourceLink, ResourceLink.id == Attempt.resource_link_pk)
            .join(Deployment, Deployment.id == ResourceLink.deployment_pk)
            .where(Deployment.platform_id == scope.platform_id)
        )
    row = session.execute(query).one()
    return tuple(str(value) for value in row)


def merge_roster(rows: Iterable[AgentRow], roster: Sequence[Member]) -> list[AgentRow]:
    """The rows, named from the roster when it shares names, plus a ``not started`` row for
    each learner of the roster without an attempt. Members who are not learners (teachers)
    and have no attempt are left out."""
    members = {member.sub: member for member in roster}
    merged = []
    seen = set()
    for row in rows:
        member = members.get(row.sub)
        seen.add(row.sub)
        merged.append(_with(row, name=member.name) if member and member.name else row)
    for member in roster:
        if member.sub not in seen and member.learner:
            merged.append(
                AgentRow(key=member.sub, sub=member.sub, status=NOT_STARTED, name=member.name)
            )
    return merged


def attempt_answers(session: Session, attempt_id: str) -> list[Any]:
    """The answers of one attempt, in order: challenge, skill, status."""
    return list(
        session.execute(
            select(
                AnswerRecord.seq,
                AnswerRecord.challenge_id,
                AnswerRecord.skill_id,
                AnswerRecord.status,
            )
            .where(AnswerRecord.attempt_id == attempt_id)
            .order_by(AnswerRecord.seq)
        )
    )
