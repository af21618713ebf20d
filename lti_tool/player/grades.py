"""Posting mastery scores to the LMS gradebook (LTI Assignment and Grade Services).

A finished attempt is marked ``grade_status = pending`` in the same transaction that
finishes it; sending happens afterwards, in the background, so a slow or refusing platform
never blocks the agent. Failures are logged and retried with exponential backoff. A retry's
score is posted only when it improves on the best score already posted.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, cast

import requests
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.service_connector import ServiceConnector
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lti_tool.config import Settings
from lti_tool.db import Database
from lti_tool.lti.keys import KeyService
from lti_tool.lti.launch import AGS_CLAIM
from lti_tool.lti.registrations import to_registration
from lti_tool.models import Attempt, Launch

log = logging.getLogger(__name__)

LINEITEM_TAG = "socle-mastery"
MAX_TRIES = 12
CLAIM_LEASE = timedelta(minutes=5)


class TimeoutSession(requests.Session):
    """pylti1p3 makes its requests without a timeout; this session adds one to each."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = "Socle LTI tool"

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


class CachingServiceConnector(ServiceConnector):
    """pylti1p3next leaves the access-token cache to the tool: keep tokens in memory until
    shortly before they expire, shared by the threads of this process."""

    _tokens: ClassVar[dict[tuple[str, str, str], tuple[str, float]]] = {}
    _tokens_lock = threading.Lock()

    def _key(self, scope_key: str) -> tuple[str, str, str]:
        registration = self._registration
        return (registration.get_issuer() or "", registration.get_client_id() or "", scope_key)

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        with self._tokens_lock:
            cached = self._tokens.get(self._key(scope_key))
        if cached and cached[1] > time.monotonic():
            return cached[0]
        return None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        lifetime = max(0.0, float(expires_in or 0) - 30.0)
        with self._tokens_lock:
            self._tokens[self._key(scope_key)] = (access_token, time.monotonic() + lifetime)

    @classmethod
    def forget(cls, issuer: str, client_id: str) -> None:
        """Drop the cached tokens of a registration: the platform refused one (a restart
        or a revocation), and reusing it until it expires would fail every try for an hour."""
        with cls._tokens_lock:
            for key in [k for k in cls._tokens if k[:2] == (issuer, client_id)]:
                del cls._tokens[key]


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _timestamp(value: datetime) -> str:
    """ISO 8601 with ``+00:00`` (pylti1p3 writes ``+0000``, which strict platforms refuse)."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


class GradeSync:
    """Sends pending scores; one background thread per process, woken by ``kick()``."""

    def __init__(self, database: Database, settings: Settings, interval: float = 30.0) -> None:
        self.database = database
        self.settings = settings
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def kick(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="grade-sync", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop the background thread, and wait up to ``timeout`` seconds for a round in
        progress to end: its session then gives its connection back before the caller
        disposes of the database (a connection returned afterwards would go to a pool no
        one closes)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.run_once()
            except Exception:  # keep the loop alive; the rows stay pending
                log.exception("grade sync round failed")

    def run_once(self, now: datetime | None = None, limit: int = 20) -> dict[str, int]:
        """Try every due pending score once; returns counts per outcome."""
        now = now or datetime.now(UTC)
        counts = {"sent": 0, "retry": 0, "failed": 0, "not_improved": 0}
        with self.database.session() as session:
            ids = list(
                session.scalars(
                    select(Attempt.id)
                    .where(Attempt.grade_status == "pending", Attempt.grade_next_try_at <= now)
                    .order_by(Attempt.grade_next_try_at)
                    .limit(limit)
                )
            )
        for attempt_id in ids:
            if not self._claim(attempt_id, now):
                continue  # another worker took it
            # The platform is called outside any write transaction: agents' answers never
            # wait behind a slow gradebook (SQLite has a single writer).
            with self.database.session() as session:
                attempt = session.get(Attempt, attempt_id)
                if attempt is None:
                    continue
                outcome = self._send(session, attempt, now)
                session.commit()
                counts[outcome] += 1
        return counts

    def _claim(self, attempt_id: str, now: datetime) -> bool:
        """Take one pending score for ``CLAIM_LEASE``: a crashed sender's claim expires."""
        with self.database.session() as session, session.begin():
            result = session.execute(
                update(Attempt)
                .where(
                    Attempt.id == attempt_id,
                    Attempt.grade_status == "pending",
                    Attempt.grade_next_try_at <= now,
                )
                .values(grade_next_try_at=now + CLAIM_LEASE)
            )
            return bool(getattr(result, "rowcount", 0) == 1)

    def _send(self, session: Session, attempt: Attempt, now: datetime) -> str:
        launch = session.get(Launch, attempt.launch_id) if attempt.launch_id else None
        if launch is None or attempt.user is None or attempt.mastery is None:
            attempt.grade_status = "failed"
            attempt.grade_error = "the launch that offered the gradebook is gone"
            return "failed"
        best = session.scalar(
            select(func.max(Attempt.mastery)).where(
                Attempt.user_pk == attempt.user_pk,
                Attempt.resource_link_pk == attempt.resource_link_pk,
                Attempt.grade_status == "sent",
                Attempt.id != attempt.id,
            )
        )
        if best is not None and attempt.mastery <= best:
            attempt.grade_status = "not_improved"
            return "not_improved"
        last_sent = session.scalar(
            select(func.max(Attempt.grade_sent_at)).where(
                Attempt.user_pk == attempt.user_pk,
                Attempt.resource_link_pk == attempt.resource_link_pk,
            )
        )
        stamp = now.replace(microsecond=0)
        last = _aware(last_sent)
        if last is not None and stamp <= last:
            stamp = last + timedelta(seconds=1)  # platforms want strictly later timestamps
        try:
            self._post(session, attempt, launch, stamp)
        except Exception as exc:  # whatever the platform answers, the score waits and retries
            if isinstance(exc, LtiServiceException) and exc.response.status_code == 401:
                CachingServiceConnector.forget(launch.platform.issuer, launch.platform.client_id)
            expected = isinstance(exc, LtiException | requests.RequestException)
            attempt.grade_tries += 1
            attempt.grade_error = str(exc)[:2000]
            if attempt.grade_tries >= MAX_TRIES:
                attempt.grade_status = "failed"
                log.error("score of attempt %s not posted, giving up: %s", attempt.id, exc)
                return "failed"
            backoff = min(3600.0, 30.0 * 2 ** (attempt.grade_tries - 1))
            attempt.grade_next_try_at = now + timedelta(seconds=random.uniform(0, backoff))
            # A body of the wrong shape makes pylti1p3 fail with TypeError, KeyError...: keep
            # the traceback of such unexpected failures for whoever reads the log.
            log.warning(
                "score of attempt %s not posted (try %s): %s", attempt.id, attempt.grade_tries,
                exc, exc_info=not expected,
            )
            return "retry"
        attempt.grade_status = "sent"
        attempt.grade_sent_at = stamp
        attempt.grade_error = None
        return "sent"

    def _post(self, session: Session, attempt: Attempt, launch: Launch, stamp: datetime) -> None:
        keys = KeyService.from_settings(session, self.settings)
        registration = to_registration(launch.platform, keys.ensure_key())
        ags_claim = dict(launch.claims.get(AGS_CLAIM) or {})
        link = attempt.resource_link
        if link.lineitem_url and not ags_claim.get("lineitem"):
            ags_claim["lineitem"] = link.lineitem_url
        connector = CachingServiceConnector(
            registration, TimeoutSession(self.settings.http_timeout)
        )
        service = AssignmentsGradesService(connector, cast(Any, ags_claim))
        lineitem = None
        if not ags_claim.get("lineitem"):
            parcours_title = link.title or attempt.parcours_id
            wanted = (
                LineItem()
                .set_label(parcours_title)
                .set_score_maximum(100)
                .set_tag(LINEITEM_TAG)
                .set_resource_id(attempt.parcours_id)
                .set_resource_link_id(link.resource_link_id)
            )
            lineitem = service.find_or_create_lineitem(
                wanted,
                condition=lambda item: (
                    item.get("tag") == LINEITEM_TAG
                    and item.get("resourceLinkId") == link.resource_link_id
                ),
            )
            link.lineitem_url = lineitem.get_id()
        assert attempt.mastery is not None
        assert attempt.user is not None
        grade = (
            Grade()
            .set_score_given(round(attempt.mastery * 100, 2))
            .set_score_maximum(100)
            .set_activity_progress("Completed")
            .set_grading_progress("FullyGraded")
            .set_timestamp(_timestamp(stamp))
            .set_user_id(attempt.user.sub)
        )
        service.put_grade(grade, lineitem)
