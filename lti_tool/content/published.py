"""``published.yaml``: what each challenge id was published as, so an id never comes to mean
another question.

An id is in stored answers, in the calibration fitted from them and in the xAPI statements an
LRS holds; once agents have met it, it must keep measuring the same thing
(``docs/item-writing.md``, rule 12). The file records, per published challenge, what a
rewrite into another question changes: its type, its skill, its fields and, for typed
answers, one answer that was right. ``socle content lint`` then refuses a published id that
disappeared (retire it with ``status: archived`` instead), changed type, skill or fields, or
no longer accepts its published answer. Wording, distractors and accepted spellings may
change freely. ``socle content publish`` adds the challenges not recorded yet; it never
rewrites a recorded entry.

The file is optional: a content directory without it is not checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from lti_tool.content.problems import Problems
from lti_tool.domain.checking import check_answer
from lti_tool.domain.framework import (
    Challenge,
    ChallengeType,
    DependentSolution,
    FieldsSolution,
    NumberSolution,
    TextSolution,
)

PUBLISHED_FILE = "published.yaml"
RULE = "docs/item-writing.md, rule 12"

_HEADER = """\
# What each published challenge id measures (written by `socle content publish`, checked by
# `socle content lint`). A published id never comes to mean another question: retire it with
# `status: archived` and give the new question a new id. Never edit an entry by hand.
"""


def record_of(challenge: Challenge) -> dict[str, Any]:
    """What a rewrite into another question would change."""
    record: dict[str, Any] = {"type": challenge.type.value, "skill": challenge.skill_id}
    if challenge.fields:
        record["fields"] = [f.key for f in challenge.fields]
    answer = _published_answer(challenge)
    if answer is not None:
        record["answer"] = answer
    return record


def _published_answer(challenge: Challenge) -> str | dict[str, str] | None:
    solution = challenge.solution
    if isinstance(solution, TextSolution):
        return solution.accepted[0]
    if isinstance(solution, NumberSolution):
        return str(solution.accepted[0])
    if isinstance(solution, FieldsSolution):
        return {key: accepted[0] for key, accepted in solution.accepted}
    if isinstance(solution, DependentSolution):
        keys = [f.key for f in challenge.fields]
        return dict(zip(keys, (group[0] for group in solution.groups), strict=False))
    return None  # qcu / qcm: proposals may be reworded and reordered


def read_published(root: Path, problems: Problems) -> dict[str, dict[str, Any]] | None:
    path = root / PUBLISHED_FILE
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.error(PUBLISHED_FILE, None, f"unreadable: {exc}")
        return None
    entries = data.get("challenges") if isinstance(data, dict) else None
    if not isinstance(entries, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) for k, v in entries.items()
    ):
        problems.error(PUBLISHED_FILE, None, "expected 'challenges:' mapping ids to entries")
        return None
    return entries


def check_published(
    root: Path,
    challenges: Mapping[str, Challenge],
    places: Mapping[str, tuple[str, int | None]],
    problems: Problems,
) -> None:
    """Report every published id that disappeared or came to mean another question."""
    published = read_published(root, problems)
    if published is None:
        return
    for challenge_id, entry in sorted(published.items()):
        challenge = challenges.get(challenge_id)
        if challenge is None:
            problems.error(
                PUBLISHED_FILE,
                None,
                f"published challenge '{challenge_id}' was removed: keep it in its tube with "
                f"'status: archived' ({RULE})",
            )
            continue
        changes = _changes(entry, challenge)
        if changes:
            path, line = places.get(challenge_id, (PUBLISHED_FILE, None))
            problems.error(
                path,
                line,
                f"challenge '{challenge_id}' now asks another question than the one published "
                f"({'; '.join(changes)}): keep the published one with 'status: archived' and "
                f"give this one a new id ({RULE})",
            )


def _changes(entry: Mapping[str, Any], challenge: Challenge) -> list[str]:
    now = record_of(challenge)
    changes = [
        f"{name} {entry.get(name)!r} → {now.get(name)!r}"
        for name in ("type", "skill", "fields")
        if entry.get(name) != now.get(name)
    ]
    answer = entry.get("answer")
    if not changes and answer is not None:
        if challenge.type in (ChallengeType.QROCM_IND, ChallengeType.QROCM_DEP):
            accepted = isinstance(answer, dict) and check_answer(challenge, answer).is_ok
        else:
            accepted = check_answer(challenge, str(answer)).is_ok
        if not accepted:
            changes.append(f"its published answer {answer!r} is no longer right")
    return changes


def publish(root: Path, challenges: Mapping[str, Challenge]) -> list[str]:
    """Record the challenges not recorded yet (served or archived; drafts are not published).
    Returns the ids added; recorded entries are kept as they are."""
    problems = Problems()
    published = dict(read_published(root, problems) or {})
    if problems.errors:
        raise ValueError(str(problems.errors[0]))
    added = [
        challenge_id
        for challenge_id, challenge in sorted(challenges.items())
        if challenge_id not in published and challenge.status.value != "draft"
    ]
    for challenge_id in added:
        published[challenge_id] = record_of(challenges[challenge_id])
    body = yaml.safe_dump(
        {"challenges": dict(sorted(published.items()))},
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=None,
        width=100,
    )
    (root / PUBLISHED_FILE).write_text(_HEADER + body, encoding="utf-8")
    return added
