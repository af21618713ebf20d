"""The player's state changes as xAPI statements, written to the outbox in the caller's
transaction (``xapi.outbox.enqueue`` only INSERTs): an answer and its statement exist
together or not at all.

Sessions without JavaScript: the tool only sees requests, so "the agent left" is read from
the recorded moments of the attempt (start, each challenge served and answered, the end).
A gap longer than ``SOCLE_XAPI_IDLE_SECONDS`` between two moments is a suspension: the next
request after such a gap emits ``suspended`` (stamped just after the last moment) and
``resumed`` (now); :meth:`XapiEvents.sweep`, which the background worker calls, emits
``suspended`` for attempts idle past the limit and ``abandoned`` past
``SOCLE_XAPI_ABANDON_SECONDS``. Time on task is the sum of the gaps that are not suspensions
(:func:`time_on_task`). Everything is computed from existing columns: the outbox's
``statement_id`` (deterministic) tells whether a session statement was already written.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import itertools
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from markdown_it import MarkdownIt
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lti_tool.domain.adaptive import get_algorithm
from lti_tool.domain.answers import Answer, AnswerStatus, KnowledgeElement
from lti_tool.domain.framework import (
    Challenge,
    ChallengeType,
    Content,
    FieldsSolution,
    MultipleChoiceSolution,
    NumberSolution,
    SingleChoiceSolution,
    TextSolution,
)
from lti_tool.domain.framework import Text as ContentText
from lti_tool.domain.scoring import AssessmentResult
from lti_tool.domain.target import parcours_view
from lti_tool.models import AnswerRecord, Attempt, Launch
from lti_tool.player.service import answer_rows
from xapi import builders as xb
from xapi.outbox import enqueue, outbox_table

DEFAULT_IDLE_SECONDS = 15 * 60
"""A gap longer than this between two recorded moments is a pause, not time on task: long
enough for the slowest challenge with a timer (they are at most a few minutes) and a reading
of its tutorial, short enough that a lunch break never counts."""
DEFAULT_ABANDON_SECONDS = 7 * 24 * 3600
"""An unfinished attempt idle this long is reported ``abandoned`` (it can still be resumed)."""
SHORT_NAME_LENGTH = 80
MAX_CORRECT_PATTERNS = 20
"""qrocm-ind: one pattern per combination of accepted spellings, up to this many."""


@dataclass(frozen=True)
class XapiOptions:
    """The statement options of a deployment, from ``SOCLE_XAPI_*`` variables."""

    iri_base: str | None = None
    send_solutions: bool = False
    idle_seconds: int = DEFAULT_IDLE_SECONDS
    abandon_seconds: int = DEFAULT_ABANDON_SECONDS
    content_version: str | None = None
    software_version: str | None = None

    @classmethod
    def from_env(cls, content_dir: Path | None = None) -> XapiOptions:
        def seconds(name: str, default: int) -> int:
            raw = os.environ.get(name, "").strip()
            try:
                value = int(raw) if raw else default
            except ValueError as exc:
                raise ValueError(f"{name} must be a whole number of seconds, got {raw!r}") from exc
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
            return value

        return cls(
            iri_base=os.environ.get("SOCLE_XAPI_IRI_BASE", "").strip() or None,
            send_solutions=os.environ.get("SOCLE_XAPI_SEND_SOLUTIONS", "").lower()
            in {"1", "true", "yes"},
            idle_seconds=seconds("SOCLE_XAPI_IDLE_SECONDS", DEFAULT_IDLE_SECONDS),
            abandon_seconds=seconds("SOCLE_XAPI_ABANDON_SECONDS", DEFAULT_ABANDON_SECONDS),
            content_version=content_version(content_dir) if content_dir else None,
            software_version=software_version(),
        )


def software_version() -> str | None:
    try:
        return importlib.metadata.version("socle-lti")
    except importlib.metadata.PackageNotFoundError:
        return None


def content_version(content_dir: Path) -> str | None:
    """A short digest of every file of the content: same files, same version, anywhere."""
    if not content_dir.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in content_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(content_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return f"sha256:{digest.hexdigest()[:12]}"


def _text(value: ContentText | None) -> xb.Text | None:
    if value is None:
        return None
    return xb.Text(fr=value.fr, en=value.en)


def _utc(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_PLAIN = MarkdownIt("commonmark", {"html": False})


def plain_text(markdown: str) -> str:
    """Markdown as plain text (xAPI names and descriptions are not rendered by consumers)."""
    words: list[str] = []
    for block in _PLAIN.parse(markdown):
        if block.type == "inline" and block.children:
            for token in block.children:
                if token.type in ("text", "code_inline"):
                    words.append(token.content)
                elif token.type in ("softbreak", "hardbreak"):
                    words.append(" ")
            words.append("\n")
        elif block.type in ("code_block", "fence"):
            words.append(block.content.strip() + "\n")
    lines = ("".join(words)).splitlines()
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())


def short_name(text: str) -> str:
    """The first line of a plain text, cut at a word under :data:`SHORT_NAME_LENGTH`."""
    first = text.strip().split("\n", 1)[0]
    if len(first) <= SHORT_NAME_LENGTH:
        return first
    cut = first[: SHORT_NAME_LENGTH - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


def _plain(value: ContentText | None) -> xb.Text | None:
    if value is None:
        return None
    return xb.Text(fr=plain_text(value.fr), en=plain_text(value.en) if value.en else None)


def correct_responses(challenge: Challenge) -> tuple[str, ...]:
    """The challenge's solution as xAPI response patterns, when the format can say it.

    qrocm-dep (each field a *different* group of synonyms) has no faithful pattern: none.
    """
    solution = challenge.solution
    if isinstance(solution, SingleChoiceSolution):
        return (str(solution.index),)
    if isinstance(solution, MultipleChoiceSolution):
        return ("[,]".join(str(i) for i in sorted(solution.indexes)),)
    if isinstance(solution, TextSolution):
        return tuple(dict.fromkeys(a for a in solution.accepted if a))
    if isinstance(solution, NumberSolution):
        return tuple(dict.fromkeys(str(a) for a in solution.accepted))
    if isinstance(solution, FieldsSolution):
        keys = sorted(key for key, _ in solution.accepted)
        combos = itertools.product(*(solution.for_field(key) for key in keys))
        return tuple(
            "[,]".join(f"{key}[:]{value}" for key, value in zip(keys, combo, strict=True))
            for combo in itertools.islice(combos, MAX_CORRECT_PATTERNS)
        )
    return ()


def time_on_task(moments: Iterable[datetime], idle: timedelta) -> timedelta:
    """The sum of the gaps between consecutive moments that are not longer than ``idle``."""
    ordered = sorted(_utc(moment) for moment in moments)
    total = timedelta(0)
    for before, after in itertools.pairwise(ordered):
        if after - before <= idle:
            total += after - before
    return total


def moments(attempt: Attempt) -> list[datetime]:
    """Every recorded moment of an attempt: start, each challenge served and answered, the
    challenge on screen (served, timer started), the end."""
    found = [_utc(attempt.started_at)]
    for record in answer_rows(attempt):
        found.extend((_utc(record.served_at), _utc(record.answered_at)))
    for extra in (attempt.current_served_at, attempt.timer_started_at, attempt.finished_at):
        if extra is not None:
            found.append(_utc(extra))
    return sorted(found)


def _response(record: AnswerRecord, challenge: Challenge) -> xb.ResponseValue | None:
    """The stored answer in the shape of the challenge's xAPI interaction, or ``None``.

    A tampered form can store any shape (several values for a qcu, unknown keys for a
    qroc). It was graded ``ko`` and stays in the database, but it has no faithful xAPI
    ``response``: the statement leaves the response out rather than failing the answer's
    transaction (the xAPI formatter refuses a shape that does not fit the type).
    """
    raw = record.response
    if challenge.type in (ChallengeType.QCU, ChallengeType.QROC):
        return raw if isinstance(raw, str) else None
    if challenge.type is ChallengeType.QCM:
        if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
            return tuple(raw)
        return raw if isinstance(raw, str) else None
    if isinstance(raw, dict):
        return tuple((str(k), str(v)) for k, v in raw.items())
    return None


class XapiEvents:
    """Implements the player's ``AttemptEvents`` with the xAPI profile's statements."""

    def __init__(self, base_url: str, content: Content, options: XapiOptions | None = None) -> None:
        self.base_url = base_url
        self.content = content
        self.options = options or XapiOptions()
        self.idle = timedelta(seconds=self.options.idle_seconds)
        self.abandon = timedelta(seconds=self.options.abandon_seconds)
        # challenge id -> (the content's challenge, its xAPI value); dict writes are atomic
        self._challenges: dict[str, tuple[Challenge, xb.Challenge]] = {}

    def _builder(self, launch: Launch) -> xb.StatementBuilder:
        return xb.StatementBuilder(
            self.base_url,
            iri_base=self.options.iri_base,
            share_identity=launch.platform.store_personal_data,
            include_solutions=self.options.send_solutions,
            software_version=self.options.software_version,
        )

    def _attempt(self, attempt: Attempt, launch: Launch) -> xb.Attempt:
        assert attempt.user is not None
        parcours = self.content.parcours[attempt.parcours_id]
        link = attempt.resource_link
        user = attempt.user
        context = launch.claims.get("https://purl.imsglobal.org/spec/lti/claim/context") or {}
        share = launch.platform.store_personal_data
        return xb.Attempt(
            id=uuid.UUID(attempt.id),
            learner=xb.Learner(
                issuer=launch.platform.issuer,
                sub=user.sub,
                name=user.name if share else None,
                email=user.email if share else None,
            ),
            lti=xb.LtiContext(
                issuer=launch.platform.issuer,
                deployment_id=launch.deployment.deployment_id,
                context_id=context.get("id"),
                context_title=context.get("title"),
                resource_link_id=link.resource_link_id,
            ),
            parcours=xb.Parcours(
                id=parcours.id,
                title=cast(xb.Text, _text(parcours.title)),
                description=_text(parcours.description),
                mastery_threshold=(
                    parcours.mastery_threshold / 100
                    if parcours.mastery_threshold is not None
                    else None
                ),
            ),
            locale=attempt.locale,
            content_version=self.options.content_version,
        )

    def _competence(self, code: str) -> xb.Competence:
        competence = self.content.competences[code]
        return xb.Competence(code=code, title=cast(xb.Text, _text(competence.title)))

    def challenge(self, challenge: Challenge) -> xb.Challenge:
        """A content challenge as the builders' plain value: short name, plain instruction.

        Built once per challenge (Markdown parsed to plain text: a tenth of an answer's
        time otherwise); the content does not change while the tool runs."""
        found = self._challenges.get(challenge.id)
        if found is None or found[0] is not challenge:
            found = (challenge, self._build_challenge(challenge))
            self._challenges[challenge.id] = found
        return found[1]

    def _build_challenge(self, challenge: Challenge) -> xb.Challenge:
        instruction = cast(xb.Text, _plain(challenge.instruction))
        name = xb.Text(
            short_name(instruction.fr), short_name(instruction.en) if instruction.en else None
        )
        return xb.Challenge(
            id=challenge.id,
            type=cast(Any, challenge.type.value),
            instruction=instruction,
            name=name if name.fr else None,
            choices=tuple(
                xb.Choice(id=str(index), text=cast(xb.Text, _plain(text)))
                for index, text in enumerate(challenge.proposals, start=1)
            ),
            steps=tuple(
                xb.Choice(id=field.key, text=cast(xb.Text, _plain(field.label)))
                for field in challenge.fields
            ),
            correct_responses=correct_responses(challenge),
        )

    def challenge_definition(self, challenge_id: str) -> dict[str, Any] | None:
        """The activity metadata of a challenge, as statements carry it (never the solution)."""
        challenge = self.content.challenges.get(challenge_id)
        if challenge is None:
            return None
        builder = xb.StatementBuilder(self.base_url, iri_base=self.options.iri_base)
        activity = builder.challenge_activity(self.challenge(challenge))
        definition: dict[str, Any] = activity.definition.as_version()
        return definition

    def _lrs(self, launch: Launch) -> int | None:
        return launch.platform.lrs_id

    def started(self, session: Session, attempt: Attempt, launch: Launch) -> None:
        statement = self._builder(launch).attempt_started(
            self._attempt(attempt, launch), _utc(attempt.started_at)
        )
        enqueue(session, [statement], self._lrs(launch))

    def answered(
        self,
        session: Session,
        attempt: Attempt,
        launch: Launch,
        record: AnswerRecord,
        challenge: Challenge,
    ) -> None:
        skill = self.content.skills[record.skill_id]
        tube = self.content.tubes[skill.tube_id]
        served, answered = _utc(record.served_at), _utc(record.answered_at)
        answer = xb.Answer(
            sequence=record.seq,
            challenge=self.challenge(challenge),
            competence=self._competence(skill.competence_code),
            tube=xb.Tube(id=tube.id, title=cast(xb.Text, _text(tube.title))),
            skill=xb.Skill(id=skill.id, level=skill.level, description=_text(skill.description)),
            status=cast(Any, record.status),
            response=_response(record, challenge),
            duration=time_on_task((served, answered), self.idle),
            timestamp=answered,
        )
        statement = self._builder(launch).challenge_answered(self._attempt(attempt, launch), answer)
        enqueue(session, [statement], self._lrs(launch))

    def progressed(self, session: Session, attempt: Attempt, launch: Launch, progress: int) -> None:
        last = max((_utc(r.answered_at) for r in answer_rows(attempt)), default=None)
        statement = self._builder(launch).progressed(
            self._attempt(attempt, launch),
            answers_count=attempt.answer_count,
            progress=progress,
            timestamp=last + xb.TICK if last is not None else datetime.now(UTC),
        )
        enqueue(session, [statement], self._lrs(launch))

    def completed(
        self, session: Session, attempt: Attempt, launch: Launch, result: AssessmentResult
    ) -> None:
        finished = _utc(attempt.finished_at)
        last = max((_utc(r.answered_at) for r in answer_rows(attempt)), default=finished)
        outcome = xb.Outcome(
            mastery=float(result.mastery),
            duration=time_on_task(moments(attempt), self.idle),
            levels=tuple(
                xb.CompetenceLevel(self._competence(c.code), c.level) for c in result.competences
            ),
            pix=result.total_score,
            timestamp=max(finished, last + 2 * xb.TICK),  # after the last answer's checkpoint
            knowledge_elements=self._knowledge_elements(attempt),
        )
        statements = self._builder(launch).attempt_ended(self._attempt(attempt, launch), outcome)
        enqueue(session, statements, self._lrs(launch))

    def _knowledge_elements(self, attempt: Attempt) -> tuple[xb.KnowledgeElement, ...]:
        """The attempt's knowledge elements, the latest per skill of the parcours, as scoring
        reads them (the same call as ``Player.assess``)."""
        view = parcours_view(self.content, attempt.parcours_id)
        answers = [
            Answer(r.challenge_id, r.skill_id, AnswerStatus(r.status)) for r in answer_rows(attempt)
        ]
        elements = get_algorithm(attempt.algorithm).knowledge_elements(view, answers)
        latest: dict[str, KnowledgeElement] = {}
        for element in elements:
            if element.skill_id in view.skills:
                latest[element.skill_id] = element
        found = []
        for element in latest.values():
            skill = self.content.skills[element.skill_id]
            found.append(
                xb.KnowledgeElement(
                    skill_id=skill.id,
                    competence_code=skill.competence_code,
                    tube_id=skill.tube_id,
                    level=skill.level,
                    status=cast(Any, element.status.value),
                    source=cast(Any, element.source.value),
                )
            )
        return tuple(found)

    # --- sessions ----------------------------------------------------------------------
    def _written(self, session: Session, statements: Sequence[dict[str, Any]]) -> set[str]:
        ids = [statement["id"] for statement in statements]
        rows = session.execute(
            select(outbox_table.c.statement_id).where(outbox_table.c.statement_id.in_(ids))
        )
        return {row[0] for row in rows}

    def _enqueue_new(
        self, session: Session, launch: Launch, statements: Sequence[dict[str, Any]]
    ) -> int:
        written = self._written(session, statements)
        fresh = [statement for statement in statements if statement["id"] not in written]
        if fresh:
            enqueue(session, fresh, self._lrs(launch))
        return len(fresh)

    def activity(self, session: Session, attempt: Attempt, launch: Launch, now: datetime) -> None:
        """A request on a started attempt: after an idle gap, ``suspended`` then ``resumed``."""
        if attempt.status != "started":
            return
        last = moments(attempt)[-1]
        if now - last <= self.idle:
            return
        builder = self._builder(launch)
        values = self._attempt(attempt, launch)
        statements = [builder.suspended(values, last), builder.resumed(values, last, now)]
        self._enqueue_new(session, launch, statements)

    def sweep(self, session: Session, now: datetime) -> int:
        """Report attempts idle past the limits: ``suspended``, then ``abandoned``.

        Called by the background worker in its own transaction; returns how many statements
        it wrote. Running it twice writes nothing new (ids are deterministic).
        """
        query = (
            select(Attempt)
            .where(
                Attempt.status == "started",
                Attempt.preview.is_(False),
                Attempt.user_pk.is_not(None),
                Attempt.started_at < now - self.idle,
            )
            .options(selectinload(Attempt.answers), selectinload(Attempt.user))
        )
        written = 0
        for attempt in session.scalars(query):
            launch = session.get(Launch, attempt.launch_id) if attempt.launch_id else None
            if launch is None or attempt.parcours_id not in self.content.parcours:
                continue
            found = moments(attempt)
            last = found[-1]
            if now - last <= self.idle:
                continue
            builder = self._builder(launch)
            values = self._attempt(attempt, launch)
            statements = [builder.suspended(values, last)]
            if now - last > self.abandon:
                statements.append(builder.abandoned(values, last, time_on_task(found, self.idle)))
            written += self._enqueue_new(session, launch, statements)
        return written
