"""An agent's data rights: find them, export what is held about them, erase it.

Who an agent is: the pseudonymous ``sub`` their LMS sends, on one platform registration
(``LtiUser``); the stored email can find them too when the registration keeps personal data.

Export: everything the tool holds about the agent, as one JSON document (and a flat CSV):
the user row, launches (with the stored claims), attempts with their self-assessment,
results and gradebook synchronisation, answers, and the xAPI statements of their attempts
still in the outbox (queued, delivered or refused).

Erasure, in the caller's transaction (all or nothing): answers, attempts, launches, the user
row, and the outbox rows of their statements. Statements that may already be in an LRS
(delivered, or handed to a worker that is sending them) are taken back with xAPI *voiding*
statements queued in the same transaction (:mod:`xapi.voiding`); statements never sent are
simply deleted. Scores already posted to the LMS gradebook (AGS) belong to the LMS: erasing
them is the LMS's part, and the export and the admin page say so.

What finds a statement of the agent: its ``context.registration`` is one of their attempts
(every statement the tool writes has one), or its actor is their account (issuer + sub).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from lti_tool.models import AnswerRecord, Attempt, Launch, LtiUser, Platform, ReportSnapshot
from xapi.outbox import DEAD, DELIVERED, enqueue, outbox_table
from xapi.voiding import voiding_statement

AGS_NOTE = (
    "Scores already sent to the LMS gradebook (LTI Assignment and Grade Services) are kept by "
    "the LMS: ask its administrator to erase them there."
)


class AgentNotFound(LookupError):
    """No agent matches the search."""


def agent_digest(issuer: str, sub: str) -> str:
    """How the audit log names an erased agent: a digest, not the LMS id itself."""
    return hashlib.sha256(f"{issuer}\0{sub}".encode()).hexdigest()[:16]


def find_agents(
    session: Session, *, platform_id: int | None = None, sub: str = "", email: str = ""
) -> list[LtiUser]:
    """Agents by platform + sub (exact), or by stored email (case-insensitive)."""
    query = select(LtiUser).order_by(LtiUser.platform_id, LtiUser.sub)
    sub, email = sub.strip(), email.strip()
    if sub:
        query = query.where(LtiUser.sub == sub)
        if platform_id is not None:
            query = query.where(LtiUser.platform_id == platform_id)
    elif email:
        query = query.where(LtiUser.email.is_not(None)).where(
            LtiUser.email.ilike(
                email.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_"), escape="\\"
            )
        )
        if platform_id is not None:
            query = query.where(LtiUser.platform_id == platform_id)
    else:
        return []
    return list(session.scalars(query.limit(50)))


def find_agent(session: Session, platform_id: int, sub: str) -> LtiUser:
    user = session.scalar(
        select(LtiUser).where(LtiUser.platform_id == platform_id, LtiUser.sub == sub)
    )
    if user is None:
        raise AgentNotFound(f"no agent {sub!r} on platform #{platform_id}")
    return user


def find_agent_by_issuer(session: Session, issuer: str, sub: str, client_id: str = "") -> LtiUser:
    query = (
        select(LtiUser)
        .join(Platform, Platform.id == LtiUser.platform_id)
        .where(Platform.issuer == issuer, LtiUser.sub == sub)
    )
    if client_id:
        query = query.where(Platform.client_id == client_id)
    users = list(session.scalars(query))
    if not users:
        raise AgentNotFound(f"no agent {sub!r} for issuer {issuer!r}")
    if len(users) > 1:
        raise AgentNotFound(f"issuer {issuer!r} has several client ids: give --client-id")
    return users[0]


# --- what belongs to an agent ------------------------------------------------------------
def _attempts(session: Session, user: LtiUser) -> list[Attempt]:
    launch_ids = select(Launch.id).where(Launch.user_pk == user.id)
    return list(
        session.scalars(
            select(Attempt)
            .where(or_(Attempt.user_pk == user.id, Attempt.launch_id.in_(launch_ids)))
            .order_by(Attempt.started_at, Attempt.id)
        )
    )


def _launches(session: Session, user: LtiUser) -> list[Launch]:
    return list(
        session.scalars(select(Launch).where(Launch.user_pk == user.id).order_by(Launch.created_at))
    )


def _statement_rows(
    session: Session, user: LtiUser, attempt_ids: Iterable[str], *, lock: bool = False
) -> list[Any]:
    """Outbox rows whose statement is about one of ``attempt_ids`` or has the agent as actor.

    The LIKE narrows the rows in the database; each candidate is then parsed and checked, so
    a sub that happens to appear in another statement's text does not match."""
    ids = set(attempt_ids)
    patterns = [f'%"registration":"{attempt_id}"%' for attempt_id in ids]
    patterns.append("%" + json.dumps(user.sub, ensure_ascii=False)[1:-1] + "%")
    condition = or_(*(outbox_table.c.payload.like(pattern) for pattern in patterns))
    query = select(outbox_table).where(condition).order_by(outbox_table.c.id)
    if lock:
        query = query.with_for_update()
    issuer = user_issuer(session, user)
    rows = []
    for row in session.execute(query):
        statement = json.loads(row.payload)
        registration = (statement.get("context") or {}).get("registration")
        account = (statement.get("actor") or {}).get("account") or {}
        if registration in ids or (
            account.get("name") == user.sub and account.get("homePage") == issuer
        ):
            rows.append(row)
    return rows


def user_issuer(session: Session, user: LtiUser) -> str:
    platform = session.get(Platform, user.platform_id)
    return platform.issuer if platform is not None else ""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_agent(session: Session, user: LtiUser) -> dict[str, Any]:
    """Everything held about the agent, as plain JSON values."""
    platform = session.get(Platform, user.platform_id)
    attempts = _attempts(session, user)
    launches = _launches(session, user)
    answers = (
        list(
            session.scalars(
                select(AnswerRecord)
                .where(AnswerRecord.attempt_id.in_([a.id for a in attempts]))
                .order_by(AnswerRecord.attempt_id, AnswerRecord.seq)
            )
        )
        if attempts
        else []
    )
    statements = _statement_rows(session, user, [a.id for a in attempts])
    return {
        "agent": {
            "platform": platform.name if platform else None,
            "issuer": platform.issuer if platform else None,
            "client_id": platform.client_id if platform else None,
            "sub": user.sub,
            "name": user.name,
            "email": user.email,
            "first_seen": _iso(user.created_at),
        },
        "launches": [
            {
                "id": launch.id,
                "message_type": launch.message_type,
                "role": launch.role,
                "locale": launch.locale,
                "created_at": _iso(launch.created_at),
                "expires_at": _iso(launch.expires_at),
                "claims": launch.claims,
            }
            for launch in launches
        ],
        "attempts": [
            {
                "id": attempt.id,
                "parcours": attempt.parcours_id,
                "number": attempt.number,
                "preview": attempt.preview,
                "status": attempt.status,
                "locale": attempt.locale,
                "job_profile": attempt.job_profile_id,
                "self_assessment": attempt.self_assessment,
                "answer_count": attempt.answer_count,
                "started_at": _iso(attempt.started_at),
                "finished_at": _iso(attempt.finished_at),
                "mastery": attempt.mastery,
                "result": attempt.result,
                "grade_sync": {
                    "status": attempt.grade_status,
                    "tries": attempt.grade_tries,
                    "sent_at": _iso(attempt.grade_sent_at),
                    "error": attempt.grade_error,
                },
            }
            for attempt in attempts
        ],
        "answers": [
            {
                "attempt": answer.attempt_id,
                "seq": answer.seq,
                "challenge": answer.challenge_id,
                "skill": answer.skill_id,
                "status": answer.status,
                "response": answer.response,
                "served_at": _iso(answer.served_at),
                "answered_at": _iso(answer.answered_at),
            }
            for answer in answers
        ],
        "statements": [
            {
                "id": row.statement_id,
                "status": row.status,
                "created_at": _iso(row.created_at),
                "delivered_at": _iso(row.delivered_at),
                "statement": json.loads(row.payload),
            }
            for row in statements
        ],
        "gradebook": AGS_NOTE,
    }


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), item)
    elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        for index, item in enumerate(value):
            yield from _flatten(f"{prefix}[{index}]", item)
    elif isinstance(value, list):
        yield prefix, json.dumps(value, ensure_ascii=False)
    else:
        yield prefix, "" if value is None else str(value)


def export_csv(document: dict[str, Any]) -> str:
    """The export as one CSV (``section,record,field,value``): every value of the JSON, so a
    spreadsheet opens it; the JSON stays the reference."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "record", "field", "value"])
    for section, content in document.items():
        records = content if isinstance(content, list) else [content]
        for number, record in enumerate(records, start=1):
            for field, value in _flatten("", record):
                writer.writerow([section, number, field, _spreadsheet_safe(value)])
    return out.getvalue()


def _spreadsheet_safe(value: str) -> str:
    """Values a spreadsheet would run as a formula get a leading quote (CSV injection)."""
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


# --- erasure ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ErasureReport:
    attempts: int
    answers: int
    launches: int
    statements_deleted: int
    voids_queued: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _may_be_in_lrs(row: Any, now: datetime) -> bool:
    """Delivered, or claimed by a worker (it may be posting it right now): void it."""
    if row.status == DELIVERED:
        return True
    return row.status != DEAD and row.claim_token is not None


def erase_agent(
    session: Session, user: LtiUser, *, tool_base_url: str, now: datetime
) -> ErasureReport:
    """Erase the agent in the caller's transaction; queue voids for what an LRS may hold."""
    attempts = _attempts(session, user)
    attempt_ids = [attempt.id for attempt in attempts]
    launches = _launches(session, user)
    rows = _statement_rows(session, user, attempt_ids, lock=True)
    voids: dict[int | None, list[dict[str, Any]]] = {}
    for row in rows:
        if _may_be_in_lrs(row, now):
            voids.setdefault(row.lrs_id, []).append(
                voiding_statement(row.statement_id, tool_base_url=tool_base_url, timestamp=now)
            )
    answers = 0
    if rows:
        session.execute(delete(outbox_table).where(outbox_table.c.id.in_([r.id for r in rows])))
    if attempt_ids:
        answers = len(
            list(
                session.scalars(
                    select(AnswerRecord.id).where(AnswerRecord.attempt_id.in_(attempt_ids))
                )
            )
        )
        session.execute(delete(AnswerRecord).where(AnswerRecord.attempt_id.in_(attempt_ids)))
        session.execute(delete(Attempt).where(Attempt.id.in_(attempt_ids)))
    if launches:
        session.execute(delete(Launch).where(Launch.id.in_([launch.id for launch in launches])))
    session.execute(delete(LtiUser).where(LtiUser.id == user.id))
    # The platform's kept organisation figures counted the agent: the next view recomputes
    # them without (they hold aggregates only, but erased means out of every figure).
    session.execute(delete(ReportSnapshot).where(ReportSnapshot.platform_id == user.platform_id))
    queued = 0
    for lrs_id, statements in voids.items():
        queued += enqueue(session, statements, lrs_id, now=now)
    session.expire_all()
    return ErasureReport(
        attempts=len(attempt_ids),
        answers=int(answers),
        launches=len(launches),
        statements_deleted=len(rows),
        voids_queued=queued,
    )
