"""The review list for content authors: challenges whose answers say something is wrong.

Built from a calibration (``lti_tool.domain.calibration``). Each check looks at one challenge
and may raise one flag; the checks are a plain tuple (``REVIEW_CHECKS``) so that a new source
of evidence is one function more. Problems reported by agents (« Signaler un problème »,
``challenge_report``) come in through ``ReviewInput.reports`` (a count per challenge) and the
``reported_problems`` check reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lti_tool.domain.calibration import AnswerCounts, CalibrationResult, ItemFit
from lti_tool.domain.framework import Content


@dataclass(frozen=True, slots=True)
class ReviewThresholds:
    """When a challenge is worth an author's look (documented in docs/adaptive-algorithm.md)."""

    #: Fitted difficulty this many levels (or more) away from the skill's level.
    difficulty_gap: float = 1.0
    #: Fitted discrimination under this (the engine assumes 1.7).
    min_discrimination: float = 0.6
    #: Correlation of right answers with the agents' ability under this (negative: the better
    #: agents fail it more often).
    min_ability_correlation: float = 0.1
    max_skip_rate: float = 0.15
    max_timeout_rate: float = 0.15
    #: Rates are judged only from this many answers on.
    min_answers: int = 30
    #: Reported problems from this many reports on.
    min_reports: int = 1


@dataclass(frozen=True, slots=True)
class ReviewInput:
    """What the checks know about one challenge."""

    challenge_id: str
    skill_id: str
    level: int
    counts: AnswerCounts
    #: ``None`` when the challenge had too few answers to be fitted.
    fit: ItemFit | None
    #: Problems reported by agents about this challenge.
    reports: int
    thresholds: ReviewThresholds


@dataclass(frozen=True, slots=True)
class ReviewFlag:
    """One reason to review one challenge."""

    challenge_id: str
    skill_id: str
    reason: str
    detail: str


Check = Callable[[ReviewInput], str | None]


def difficulty_off_level(item: ReviewInput) -> str | None:
    fit = item.fit
    if fit is None or abs(fit.difficulty - item.level) < item.thresholds.difficulty_gap:
        return None
    return (
        f"fitted difficulty {fit.difficulty:.2f} ± {fit.difficulty_se:.2f} "
        f"for a level-{item.level} skill"
    )


def low_discrimination(item: ReviewInput) -> str | None:
    fit = item.fit
    if fit is None:
        return None
    correlation = fit.ability_correlation
    if correlation is not None and correlation < item.thresholds.min_ability_correlation:
        return (
            f"right answers barely follow ability (correlation {correlation:+.2f}; "
            f"discrimination {fit.discrimination:.2f})"
        )
    if fit.discrimination < item.thresholds.min_discrimination:
        return f"discrimination {fit.discrimination:.2f} ± {fit.discrimination_se:.2f}"
    return None


def _rate(item: ReviewInput, value: int, limit: float, what: str) -> str | None:
    answers = item.counts.answers
    if answers < item.thresholds.min_answers or value / answers <= limit:
        return None
    return f"{what} {100 * value / answers:.0f} % of {answers} answers"


def often_skipped(item: ReviewInput) -> str | None:
    return _rate(item, item.counts.skipped, item.thresholds.max_skip_rate, "skipped")


def often_timed_out(item: ReviewInput) -> str | None:
    return _rate(item, item.counts.timed_out, item.thresholds.max_timeout_rate, "timed out")


def reported_problems(item: ReviewInput) -> str | None:
    if item.reports < item.thresholds.min_reports:
        return None
    return f"{item.reports} problem report(s)"


#: ``(reason, check)``: add a check here to add a reason to the review list.
REVIEW_CHECKS: tuple[tuple[str, Check], ...] = (
    ("difficulty-off-level", difficulty_off_level),
    ("low-discrimination", low_discrimination),
    ("often-skipped", often_skipped),
    ("often-timed-out", often_timed_out),
    ("reported-problems", reported_problems),
)


def review_list(
    content: Content,
    result: CalibrationResult,
    *,
    thresholds: ReviewThresholds | None = None,
    reports: Mapping[str, int] | None = None,
    checks: tuple[tuple[str, Check], ...] = REVIEW_CHECKS,
) -> list[ReviewFlag]:
    """Every flag raised on a challenge of ``content``, by challenge id then reason order."""
    thresholds = thresholds or ReviewThresholds()
    reports = reports or {}
    flags: list[ReviewFlag] = []
    ids = sorted(set(result.counts) | {cid for cid in reports if cid in content.challenges})
    for challenge_id in ids:
        challenge = content.challenges.get(challenge_id)
        if challenge is None:
            continue
        item = ReviewInput(
            challenge_id=challenge_id,
            skill_id=challenge.skill_id,
            level=content.skills[challenge.skill_id].level,
            counts=result.counts.get(challenge_id, AnswerCounts(0, 0, 0, 0)),
            fit=result.fits.get(challenge_id),
            reports=reports.get(challenge_id, 0),
            thresholds=thresholds,
        )
        for reason, check in checks:
            detail = check(item)
            if detail is not None:
                flags.append(ReviewFlag(challenge_id, challenge.skill_id, reason, detail))
    return flags
