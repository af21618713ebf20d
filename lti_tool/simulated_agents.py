"""Simulated agents taking attempts through the real player, for calibration proofs.

Each agent of a simulated world (``lti_tool.domain.simulation``) is registered as an LTI user
of one platform, starts an attempt with ``Player.start``, is served challenges by
``Player.serve`` and answers them with ``Player.submit`` — a right or a wrong form, drawn from
the world's hidden parameters, graded by the same checking code as a browser's form. The
answers end up in the ``answer`` table exactly as real ones, where ``socle calibrate`` reads
them. Used by ``benchmarks/calibration.py`` and its test; never by the tool itself.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from lti_tool.domain.answers import AnswerStatus
from lti_tool.domain.framework import (
    Challenge,
    ChallengeType,
    Content,
    DependentSolution,
    FieldsSolution,
    MultipleChoiceSolution,
    NumberSolution,
    SingleChoiceSolution,
    TextSolution,
)
from lti_tool.domain.scoring import AssessmentResult
from lti_tool.domain.simulation import SimulatedLearner, World, simulated_answer
from lti_tool.domain.target import parcours_view
from lti_tool.models import (
    AnswerRecord,
    Attempt,
    Deployment,
    Launch,
    LtiUser,
    Platform,
    ResourceLink,
)
from lti_tool.player.service import Player


class SilentEvents:
    """Attempt events that go nowhere (no LRS in a proof by simulation)."""

    def started(self, session: Session, attempt: Attempt, launch: Launch) -> None:
        return None

    def answered(
        self,
        session: Session,
        attempt: Attempt,
        launch: Launch,
        record: AnswerRecord,
        challenge: Challenge,
    ) -> None:
        return None

    def progressed(self, session: Session, attempt: Attempt, launch: Launch, progress: int) -> None:
        return None

    def completed(
        self, session: Session, attempt: Attempt, launch: Launch, result: AssessmentResult
    ) -> None:
        return None

    def activity(self, session: Session, attempt: Attempt, launch: Launch, now: datetime) -> None:
        return None


def form_for(challenge: Challenge, right: bool) -> dict[str, str | list[str]]:
    """Form fields a browser would post to answer ``challenge`` right or wrong."""
    solution = challenge.solution
    if isinstance(solution, SingleChoiceSolution):
        if right:
            return {"answer": str(solution.index)}
        wrong = next(i for i in range(1, len(challenge.proposals) + 1) if i != solution.index)
        return {"answer": str(wrong)}
    if isinstance(solution, MultipleChoiceSolution):
        if right:
            return {"answer": [str(i) for i in sorted(solution.indexes)]}
        others = [
            str(i) for i in range(1, len(challenge.proposals) + 1) if i not in solution.indexes
        ]
        return {"answer": others or ["1"]}
    if not right:
        if challenge.fields:
            return {f"answer.{f.key}": "zzz-faux" for f in challenge.fields}
        return {"answer": "zzz-faux-9999"}
    if isinstance(solution, TextSolution):
        return {"answer": solution.accepted[0]}
    if isinstance(solution, NumberSolution):
        return {"answer": str(solution.accepted[0]).replace(".", ",")}
    if isinstance(solution, FieldsSolution):
        return {f"answer.{f.key}": solution.for_field(f.key)[0] for f in challenge.fields}
    if isinstance(solution, DependentSolution):
        values = [group[0] for group in solution.groups]
        return {
            f"answer.{f.key}": values[i] if i < len(values) else ""
            for i, f in enumerate(challenge.fields)
        }
    raise ValueError(f"no form for {challenge.id}")


def submitted(challenge: Challenge, form: dict[str, str | list[str]]) -> object:
    """The answer ``Player.submit`` receives for ``form``, shaped as the player's view does
    (``_answer_from_form``): one value, a list for a ``qcm``, a dict per field for ``qrocm``."""
    if challenge.type in (ChallengeType.QROCM_IND, ChallengeType.QROCM_DEP):
        return {name.removeprefix("answer."): value for name, value in form.items()}
    if challenge.type is ChallengeType.QCM:
        value = form["answer"]
        return value if isinstance(value, list) else [value]
    return form["answer"]


@dataclass
class Classroom:
    """One platform, one resource link of ``parcours_id``, and the agents that launched it."""

    platform: Platform
    deployment: Deployment
    link: ResourceLink
    agents: int = 0
    launches: list[Launch] = field(default_factory=list)


def open_classroom(session: Session, parcours_id: str, issuer: str) -> Classroom:
    platform = Platform(
        name="simulation",
        issuer=issuer,
        client_id="simulation",
        auth_login_url=f"{issuer}/auth",
        auth_token_url=f"{issuer}/token",
        key_set_url=f"{issuer}/jwks",
    )
    session.add(platform)
    session.flush()
    deployment = Deployment(platform_id=platform.id, deployment_id="1")
    session.add(deployment)
    session.flush()
    link = ResourceLink(
        deployment_pk=deployment.id, resource_link_id="simulated", parcours_id=parcours_id
    )
    session.add(link)
    session.flush()
    return Classroom(platform, deployment, link)


def new_launch(session: Session, classroom: Classroom) -> Launch:
    """A learner launch of the classroom's link by a new pseudonymous agent."""
    classroom.agents += 1
    user = LtiUser(platform_id=classroom.platform.id, sub=f"agent-{classroom.agents}")
    session.add(user)
    session.flush()
    launch = Launch(
        platform_id=classroom.platform.id,
        deployment_pk=classroom.deployment.id,
        user_pk=user.id,
        resource_link_pk=classroom.link.id,
        message_type="LtiResourceLinkRequest",
        role="learner",
        claims={},
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    session.add(launch)
    session.flush()
    return launch


def take_attempt(
    session: Session,
    player: Player,
    launch: Launch,
    learner: SimulatedLearner,
    *,
    world: World,
    rng: random.Random,
    new_attempt: bool = False,
    on_answer: Callable[[Challenge, AnswerStatus], None] | None = None,
) -> Attempt:
    """One whole attempt of ``learner``, through ``Player.start``/``serve``/``submit``."""
    content: Content = player.content
    attempt = player.start(session, launch, new_attempt=new_attempt)
    view = parcours_view(content, attempt.parcours_id)
    while True:
        served = player.serve(session, attempt, launch)
        if served is None:
            return attempt
        challenge = served.challenge
        status = simulated_answer(challenge, learner, world, view, rng)
        if challenge.timer:
            player.start_timer(attempt, challenge.id)
        record = player.submit(
            session,
            attempt,
            launch,
            challenge_id=challenge.id,
            seq=served.seq,
            skipped=False,
            answer=submitted(challenge, form_for(challenge, status is AnswerStatus.OK)),
        )
        if on_answer is not None:
            on_answer(challenge, AnswerStatus(record.status))
