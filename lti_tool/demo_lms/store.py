"""Persistent state of the demo LMS: activities, line items, scores, used one-time values.

A JSON file is enough for one course on one machine, and it lets a newcomer read what the tool
sent back. Every change is applied to a copy, written to a temporary file and renamed over the
old one, and only then made visible: a crash never leaves a half-written file, and a failed
write never leaves memory ahead of the disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

STATE_FILENAME = "demo-lms-state.json"
STATE_VERSION = 1


class DemoLmsStateError(Exception):
    """The state file cannot be read; the message says how to recover."""


class NotFoundError(KeyError):
    """The line item or activity named does not exist (any more)."""


class AlreadyUsedError(Exception):
    """A one-time value (nonce, jti, deep-linking request) was presented a second time."""


@dataclass(frozen=True)
class Activity:
    """A Socle activity placed in the course by a Deep Linking response."""

    id: str
    resource_link_id: str
    title: str
    created_at: str
    text: str | None = None
    url: str | None = None
    custom: dict[str, str] = field(default_factory=dict)
    line_item_id: str | None = None
    document_target: str = "iframe"


@dataclass(frozen=True)
class LineItem:
    """An AGS line item (a gradebook column)."""

    id: str
    label: str
    score_maximum: float
    resource_link_id: str | None = None
    resource_id: str | None = None
    tag: str | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None
    grades_released: bool | None = None


@dataclass(frozen=True)
class Score:
    """The latest AGS score received for one user on one line item."""

    user_id: str
    activity_progress: str
    grading_progress: str
    timestamp: str
    received_at: str
    score_given: float | None = None
    score_maximum: float | None = None
    comment: str | None = None


ScoreOutcome = Literal["created", "updated", "stale"]

_T = TypeVar("_T")


def _from_dict(cls: type[_T], data: Mapping[str, Any]) -> _T:
    """Build a record from JSON, ignoring keys written by a later version of the demo."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{key: value for key, value in data.items() if key in names})


@dataclass
class _State:
    activities: list[Activity] = field(default_factory=list)
    line_items: dict[str, LineItem] = field(default_factory=dict)
    scores: dict[str, dict[str, Score]] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)

    def copy(self) -> _State:
        return _State(
            activities=list(self.activities),
            line_items=dict(self.line_items),
            scores={key: dict(value) for key, value in self.scores.items()},
            used=dict(self.used),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "activities": [asdict(activity) for activity in self.activities],
            "line_items": {key: asdict(item) for key, item in self.line_items.items()},
            "scores": {
                item: {user: asdict(score) for user, score in by_user.items()}
                for item, by_user in self.scores.items()
            },
            "used": self.used,
        }

    @classmethod
    def from_json(cls, data: Any) -> _State:
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise ValueError(f"expected a JSON object with version {STATE_VERSION}")
        return cls(
            activities=[_from_dict(Activity, item) for item in data.get("activities", [])],
            line_items={
                key: _from_dict(LineItem, item) for key, item in data.get("line_items", {}).items()
            },
            scores={
                item: {user: _from_dict(Score, score) for user, score in by_user.items()}
                for item, by_user in data.get("scores", {}).items()
            },
            used={str(key): float(value) for key, value in data.get("used", {}).items()},
        )


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO 8601 timestamp that carries a UTC offset.

    Accepts `Z`, `+00:00` and the `+0000` form pylti1p3 writes; a timestamp without an offset
    is ambiguous, so it is refused.
    """
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("timestamp has no UTC offset")
    return parsed


class DemoLmsStore:
    """Thread-safe access to the state file of one demo LMS."""

    def __init__(self, data_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self._path = data_dir / STATE_FILENAME
        self._clock = clock
        self._lock = threading.Lock()
        self._state = self._load()

    @property
    def path(self) -> Path:
        return self._path

    def _load(self) -> _State:
        if not self._path.exists():
            return _State()
        try:
            return _State.from_json(json.loads(self._path.read_text(encoding="utf-8")))
        except (ValueError, TypeError, AttributeError) as exc:
            raise DemoLmsStateError(
                f"{self._path} is not a demo LMS state file ({exc}); "
                "delete it to start with an empty course"
            ) from exc

    def _write(self, state: _State) -> None:
        payload = json.dumps(state.to_json(), ensure_ascii=False, indent=2, sort_keys=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".demo-lms-state-", dir=self._path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, self._path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[_State]:
        """Yield a copy to change; it replaces the state only once it is on disk."""
        with self._lock:
            draft = self._state.copy()
            now = self._clock()
            draft.used = {key: until for key, until in draft.used.items() if until > now}
            yield draft
            self._write(draft)
            self._state = draft

    def _claim(self, draft: _State, once: Mapping[str, float]) -> None:
        now = self._clock()
        for key in once:
            if draft.used.get(key, 0.0) > now:
                raise AlreadyUsedError(key)
        draft.used.update(once)

    # --- one-time values -------------------------------------------------------------------

    def use_once(self, once: Mapping[str, float]) -> None:
        """Record one-time values, each until its epoch time; raise if one is already recorded.

        All or nothing: when one value was already used, none is recorded.
        """
        with self._transaction() as draft:
            self._claim(draft, once)

    # --- activities ------------------------------------------------------------------------

    def activities(self) -> list[Activity]:
        with self._lock:
            return list(self._state.activities)

    def activity(self, activity_id: str) -> Activity | None:
        with self._lock:
            return next((a for a in self._state.activities if a.id == activity_id), None)

    def activity_by_resource_link(self, resource_link_id: str) -> Activity | None:
        with self._lock:
            return next(
                (a for a in self._state.activities if a.resource_link_id == resource_link_id),
                None,
            )

    def add_activity(
        self,
        activity: Activity,
        line_item: LineItem | None,
        once: Mapping[str, float],
    ) -> None:
        """Store a deep-linked activity and its line item, consuming the response's one-time
        values in the same write, so a replayed response can never add a second copy."""
        with self._transaction() as draft:
            self._claim(draft, once)
            draft.activities.append(activity)
            if line_item is not None:
                draft.line_items[line_item.id] = line_item

    # --- line items ------------------------------------------------------------------------

    def line_items(self) -> list[LineItem]:
        with self._lock:
            return list(self._state.line_items.values())

    def line_item(self, line_item_id: str) -> LineItem:
        with self._lock:
            try:
                return self._state.line_items[line_item_id]
            except KeyError:
                raise NotFoundError(line_item_id) from None

    def save_line_item(self, line_item: LineItem, *, must_exist: bool) -> LineItem:
        with self._transaction() as draft:
            if must_exist and line_item.id not in draft.line_items:
                raise NotFoundError(line_item.id)
            draft.line_items[line_item.id] = line_item
        return line_item

    def delete_line_item(self, line_item_id: str) -> None:
        """Remove a line item with its scores, and unlink it from its activity."""
        with self._transaction() as draft:
            if draft.line_items.pop(line_item_id, None) is None:
                raise NotFoundError(line_item_id)
            draft.scores.pop(line_item_id, None)
            draft.activities = [
                Activity(**{**asdict(a), "line_item_id": None})
                if a.line_item_id == line_item_id
                else a
                for a in draft.activities
            ]

    # --- scores ----------------------------------------------------------------------------

    def record_score(self, line_item_id: str, score: Score) -> ScoreOutcome:
        """Keep the score unless an already stored one is later (AGS 2.0 §3.4.1).

        A score with the same timestamp replaces the stored one: the specification only forbids
        going back in time (Moodle is stricter and refuses equal timestamps).
        """
        with self._transaction() as draft:
            if line_item_id not in draft.line_items:
                raise NotFoundError(line_item_id)
            by_user = draft.scores.setdefault(line_item_id, {})
            previous = by_user.get(score.user_id)
            if previous is not None and parse_timestamp(previous.timestamp) > parse_timestamp(
                score.timestamp
            ):
                return "stale"
            by_user[score.user_id] = score
        return "created" if previous is None else "updated"

    def scores(self, line_item_id: str) -> dict[str, Score]:
        with self._lock:
            return dict(self._state.scores.get(line_item_id, {}))
