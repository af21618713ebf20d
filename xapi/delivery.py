"""Delivery of the outbox to LRSs: claim a batch, POST it, classify the answer, mark the rows.

Why it is built this way:

* **Claim with a lease, send outside any transaction, mark by claim token.** A worker claims up
  to ``batch_size`` due rows of one LRS by writing a claim token and a lease expiry on them (on
  PostgreSQL the candidate rows are picked with ``SELECT ... FOR UPDATE SKIP LOCKED`` so that
  workers do not queue behind each other; the conditional UPDATE makes the claim exclusive on
  any database). No transaction is open during HTTP. If the process dies (SIGKILL) after the
  claim, the rows become due again when the lease expires; if it dies after the LRS stored the
  batch but before the rows were marked, the batch is sent again, which is harmless: statement
  ids are deterministic and an LRS answers an identical resend with 200 (or 409).
* **SQLite** has a single writer: the claim's UPDATE is serialised by the database lock, so two
  workers on one SQLite file never claim the same row, but they do wait for each other; run one
  worker on SQLite and as many as needed on PostgreSQL.
* **Classification** (per request): 200 with the JSON array of exactly the ids sent delivered
  (any other 2xx — 204, an HTML page, other ids — is retried, then dead-lettered with the body
  kept); 409 on a single statement delivered only when the stored statement, read back, is the
  same statement (:mod:`xapi.comparison`), else a dead letter; 401/403 the credentials are
  wrong: the rows stay pending with backoff and the status says so (a statement is never
  dead-lettered for our own misconfiguration);
  408/429/5xx/network/timeout retry later with exponential backoff and full jitter, capped,
  never sooner than ``Retry-After``; any other 4xx (and 409/413) on several statements splits
  the batch in halves to isolate the culprit; on a single statement it is a dead letter that
  keeps the LRS's answer. Nothing is ever dropped: retryable failures retry forever.
* ``tincan.RemoteLRS`` has no timeout and no retry, hence plain ``requests`` with a
  (connect, read) timeout on every call — and, since the read timeout bounds each read and not
  a trickle, a deadline on the whole answer, checked between streamed reads. A stop request
  (SIGTERM) cuts the request in flight and gives its rows back to pending, unmarked.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import ClassVar, Final, Literal

import requests
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from xapi.comparison import differences
from xapi.outbox import (
    DEAD,
    DELIVERED,
    PENDING,
    LrsSecretError,
    LrsTarget,
    load_lrs,
    outbox_table,
    utcnow,
)

log = logging.getLogger("xapi.delivery")

XAPI_VERSION: Final = "1.0.3"
"""The version spoken unless an LRS is configured for xAPI 2.0 (IEEE 9274.1.1)."""
XAPI_VERSIONS: Final = ("1.0.3", "2.0.0")
VERSION_SETTINGS: Final = "SOCLE_LRS_VERSION / SOCLE_LRS_VERSIONS"
MAX_ANSWER_BYTES: Final = 1_048_576
"""An LRS's answer larger than this is not read further: an id list for a batch is a few KB."""
ERROR_TEXT_LIMIT: Final = 4000
"""How much of an LRS's answer is kept with a row (enough for any validation message)."""
MAX_RETRY_AFTER: Final = 86_400.0
"""A Retry-After beyond a day is treated as a day: we never park statements indefinitely."""


def check_version(version: str, variable: str) -> str:
    """Refuse an xAPI version the worker cannot speak, naming the setting to fix."""
    if version not in XAPI_VERSIONS:
        raise ValueError(f"{variable} must be one of {', '.join(XAPI_VERSIONS)}, got {version!r}")
    return version


# --- Settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LrsSettings:
    """Delivery settings, read from ``SOCLE_LRS_<FIELD>`` variables (pydantic-settings style).

    ``endpoint`` is the default LRS's xAPI base (``.../xAPI/`` or ``.../data/xAPI``); empty means
    no default LRS: statements for it wait in the outbox until one is configured.
    """

    endpoint: str | None = None
    username: str = ""
    password: str = ""
    batch_size: int = 50
    connect_timeout: float = 3.05
    read_timeout: float = 15.0
    backoff_base: float = 1.0
    backoff_max: float = 600.0
    lease_seconds: float = 120.0
    poll_interval: float = 2.0
    request_deadline: float = 60.0
    """Seconds a whole request may take, answer body included (the read timeout is per read)."""
    invalid_answer_limit: int = 5
    """Attempts answered with a 2xx that is not an xAPI answer before the rows are dead letters."""
    version: str = XAPI_VERSION
    """``X-Experience-API-Version`` sent to the default LRS: ``1.0.3`` or ``2.0.0``."""
    versions: str = ""
    """The version of named LRSs, ``name=2.0.0,other=1.0.3`` (unlisted ones: ``1.0.3``)."""

    ENV_PREFIX: ClassVar[str] = "SOCLE_LRS_"

    def __post_init__(self) -> None:
        """Refuse values that would make the worker misbehave, naming the variable to fix."""
        if self.endpoint is not None and not self.endpoint.startswith(("http://", "https://")):
            raise ValueError(
                f"{self.ENV_PREFIX}ENDPOINT must be an http(s) URL, got {self.endpoint!r}"
            )
        if self.batch_size < 1:
            raise ValueError(f"{self.ENV_PREFIX}BATCH_SIZE must be at least 1")
        for name in (
            "connect_timeout",
            "read_timeout",
            "backoff_base",
            "lease_seconds",
            "request_deadline",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{self.ENV_PREFIX}{name.upper()} must be positive")
        if self.backoff_max < self.backoff_base:
            raise ValueError(f"{self.ENV_PREFIX}BACKOFF_MAX must be ≥ BACKOFF_BASE")
        if self.poll_interval < 0:
            raise ValueError(f"{self.ENV_PREFIX}POLL_INTERVAL cannot be negative")
        if self.invalid_answer_limit < 1:
            raise ValueError(f"{self.ENV_PREFIX}INVALID_ANSWER_LIMIT must be at least 1")
        check_version(self.version, f"{self.ENV_PREFIX}VERSION")
        self.named_versions()  # refuses a malformed SOCLE_LRS_VERSIONS at start

    def named_versions(self) -> dict[str, str]:
        """``SOCLE_LRS_VERSIONS`` as a mapping from LRS name to xAPI version."""
        variable = f"{self.ENV_PREFIX}VERSIONS"
        mapping: dict[str, str] = {}
        for part in self.versions.split(","):
            if not part.strip():
                continue
            name, equals, version = part.partition("=")
            if not equals or not name.strip():
                raise ValueError(f"{variable} must read name=version[,name=version…], got {part!r}")
            mapping[name.strip()] = check_version(version.strip(), variable)
        return mapping

    def version_of(self, target: LrsTarget) -> str:
        """The xAPI version to speak with ``target`` (the default LRS or a named one)."""
        if target.lrs_id is None:
            return self.version
        return self.named_versions().get(target.name, XAPI_VERSION)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LrsSettings:
        """Read ``SOCLE_LRS_*`` from the environment; unset or empty variables keep defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for spec in fields(cls):
            variable = f"{cls.ENV_PREFIX}{spec.name.upper()}"
            raw = env.get(variable, "").strip()
            if not raw:
                continue
            kind = str(spec.type)
            try:
                if kind == "int":
                    values[spec.name] = int(raw)
                elif kind == "float":
                    values[spec.name] = float(raw)
                else:
                    values[spec.name] = raw
            except ValueError as exc:
                raise ValueError(f"{variable} must be a number, got {raw!r}") from exc
        return cls(**values)  # type: ignore[arg-type]

    @property
    def timeouts(self) -> tuple[float, float]:
        """The (connect, read) timeout pair given to ``requests``."""
        return (self.connect_timeout, self.read_timeout)

    def default_target(self) -> LrsTarget | None:
        """The default LRS, or None when no endpoint is configured."""
        if not self.endpoint:
            return None
        return LrsTarget(None, "default", self.endpoint, self.username, self.password)


# --- Classification of an LRS answer ----------------------------------------------------------


class Verdict(Enum):
    """What to do with the statements of one request after the LRS answered."""

    DELIVERED = "delivered"
    SPLIT = "split"
    DEAD = "dead"
    RETRY = "retry"
    CREDENTIALS = "credentials"
    CONFLICT = "conflict"
    """409 on one statement: delivered only if the LRS holds the same statement."""
    INVALID = "invalid"
    """A 2xx that is not an xAPI answer (not the ids sent): retried, then dead letters."""
    STOPPED = "stopped"
    """The worker was told to stop mid-request: the rows go back to pending untouched."""


@dataclass(frozen=True)
class Answer:
    """The LRS's answer to one POST, reduced to what the outbox keeps."""

    verdict: Verdict
    status_code: int | None
    message: str
    retry_after: float | None = None


def classify(status_code: int, size: int) -> Verdict:
    """Map an HTTP status to a verdict for a request carrying ``size`` statements.

    A 2xx is only a candidate: :func:`check_post_answer` decides whether its body is the
    xAPI answer that makes the statements delivered.
    """
    if 200 <= status_code < 300:
        return Verdict.DELIVERED
    if status_code in (401, 403):
        return Verdict.CREDENTIALS
    if status_code in (408, 429) or status_code >= 500 or status_code < 400:
        # 3xx too: a redirect means a wrong endpoint, which is ours to fix, not the statements'
        return Verdict.RETRY
    # 409 on one statement: a statement with this id is already stored (our ids are
    # deterministic, so it is ours). On a batch the LRS refuses the whole batch, new
    # statements included, so the batch must be split to deliver the others.
    if status_code == 409 and size == 1:
        return Verdict.CONFLICT
    return Verdict.SPLIT if size > 1 else Verdict.DEAD


def check_post_answer(status_code: int, body: str, sent_ids: Sequence[str]) -> str | None:
    """Why a 2xx answer to ``POST /statements`` is not the xAPI answer; None when it is.

    xAPI (1.0.3 and 2.0, "POST Statements"): the LRS answers 200 with the array of the ids of
    the statements, in the order sent. Anything else — 204, an HTML page with a JSON content
    type (a captive portal, a misconfigured proxy), other ids — proves nothing was stored.
    """
    if status_code != 200:
        return f"HTTP {status_code} is not the answer to POST /statements (200 and the ids)"
    try:
        answer = json.loads(body)
    except ValueError:
        return "the answer is not JSON"
    if not isinstance(answer, list) or not all(isinstance(item, str) for item in answer):
        return "the answer is not a JSON array of statement ids"
    if [item.lower() for item in answer] != [item.lower() for item in sent_ids]:
        return f"the answer holds other ids than the {len(sent_ids)} sent"
    return None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER)


def backoff_delay(attempts: int, settings: LrsSettings, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform(0, min(max, base·2^(attempts-1)))."""
    exponent = min(max(attempts - 1, 0), 60)
    ceiling = min(settings.backoff_max, settings.backoff_base * (2.0**exponent))
    return rng.uniform(0.0, ceiling)


def _truncate(text: str) -> str:
    return text if len(text) <= ERROR_TEXT_LIMIT else text[:ERROR_TEXT_LIMIT] + "…"


# --- Worker -----------------------------------------------------------------------------------


@dataclass
class PassReport:
    """What one :meth:`Worker.run_once` did, for logs, tests and ``xapi worker --once``."""

    requests: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    credentials_rejected: list[str] = field(default_factory=list)
    unconfigured: int = 0

    def __str__(self) -> str:
        text = (
            f"{self.delivered} delivered, {self.retried} to retry, {self.dead} dead letters, "
            f"{self.requests} requests"
        )
        if self.credentials_rejected:
            text += f"; credentials rejected by: {', '.join(self.credentials_rejected)}"
        if self.unconfigured:
            text += f"; {self.unconfigured} waiting for an LRS to be configured"
        return text


@dataclass
class _Item:
    """One statement to send, standing for every outbox row that carries the same id."""

    statement_id: str
    payload: str
    row_ids: list[int]
    attempts: int


@dataclass
class _Claim:
    token: str
    lrs_id: int | None
    items: list[_Item]
    lease_expires_at: datetime


class Worker:
    """Delivers the outbox: :meth:`run_once` for tests and cron, :meth:`run_forever` for a thread.

    ``secret`` decrypts the passwords of named LRSs; ``clock`` and ``rng`` are injectable so
    tests can move time forward instead of sleeping.
    """

    def __init__(
        self,
        engine: Engine,
        settings: LrsSettings,
        *,
        secret: str | None = None,
        http: requests.Session | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        worker_id: str | None = None,
        max_batches_per_pass: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.secret = secret
        self.http = http or requests.Session()
        self.clock = clock
        self.rng = rng or random.Random()
        self.worker_id = worker_id or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.max_batches_per_pass = max_batches_per_pass
        self._warned_unconfigured = False
        self.monotonic = monotonic
        self._stop_event: threading.Event | None = None
        self._interrupted = threading.Event()
        self._in_flight: requests.Response | None = None

    @property
    def stopping(self) -> bool:
        """True once :meth:`interrupt` was called or the loop's stop event is set."""
        stop_event = self._stop_event
        return self._interrupted.is_set() or (stop_event is not None and stop_event.is_set())

    def interrupt(self) -> None:
        """Stop as soon as possible: safe from a signal handler or another thread.

        The request in flight is cut (its socket shut down), its rows go back to pending
        without counting an attempt; nothing is marked delivered that the LRS did not confirm.
        """
        self._interrupted.set()
        response = self._in_flight
        if response is not None:
            with contextlib.suppress(Exception):
                response.raw.shutdown()

    def close(self) -> None:
        """Close the HTTP session (its pooled connections to the LRS)."""
        self.http.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- loop ---------------------------------------------------------------------------
    def run_forever(self, stop_event: threading.Event) -> None:
        """Deliver until ``stop_event`` is set; database or LRS trouble never ends the loop."""
        log.info("xAPI worker %s started", self.worker_id)
        self._stop_event = stop_event
        while not self.stopping:
            try:
                report = self.run_once()
                if report.requests:
                    log.info("xAPI delivery pass: %s", report)
            except Exception:  # the loop must survive anything; the next pass tries again
                log.exception(
                    "xAPI delivery pass failed; retrying in %ss", self.settings.poll_interval
                )
            stop_event.wait(self.settings.poll_interval)
        log.info("xAPI worker %s stopped", self.worker_id)

    def run_once(self) -> PassReport:
        """One pass: for each LRS with due rows, claim and send batches until none is due."""
        report = PassReport()
        for lrs_id in self._due_lrs_ids():
            target = self._resolve(lrs_id, report)
            if target is None:
                continue
            for _ in range(self.max_batches_per_pass):
                if self.stopping:
                    return report
                claim = self._claim(lrs_id)
                if claim is None:
                    break
                if self._deliver(target, claim, report):
                    break  # the LRS is down or refuses us: leave it alone until backoff
        return report

    # --- selection and claim ------------------------------------------------------------
    @staticmethod
    def _lrs_filter(lrs_id: int | None) -> ColumnElement[bool]:
        column = outbox_table.c.lrs_id
        return column.is_(None) if lrs_id is None else column == lrs_id

    @staticmethod
    def _due(now: datetime) -> ColumnElement[bool]:
        table = outbox_table.c
        return and_(
            table.status == PENDING,
            table.next_attempt_at <= now,
            or_(table.lease_expires_at.is_(None), table.lease_expires_at < now),
        )

    def _due_lrs_ids(self) -> list[int | None]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox_table.c.lrs_id).where(self._due(self.clock())).distinct()
            ).all()
        return sorted(
            (row.lrs_id for row in rows), key=lambda value: (value is not None, value or 0)
        )

    def _resolve(self, lrs_id: int | None, report: PassReport) -> LrsTarget | None:
        if lrs_id is None:
            target = self.settings.default_target()
            if target is None:
                report.unconfigured += self._count_due(None)
                if not self._warned_unconfigured:
                    log.warning(
                        "no default LRS (SOCLE_LRS_ENDPOINT is empty): statements stay in the "
                        "outbox until one is configured"
                    )
                    self._warned_unconfigured = True
            return target
        try:
            with self.engine.connect() as conn:
                target = load_lrs(conn, lrs_id, self.secret)
        except LrsSecretError as exc:
            log.error("LRS #%s: %s", lrs_id, exc)
            report.unconfigured += self._count_due(lrs_id)
            return None
        if target is None:
            log.error("outbox rows point to LRS #%s, which no longer exists", lrs_id)
            report.unconfigured += self._count_due(lrs_id)
        return target

    def _count_due(self, lrs_id: int | None) -> int:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox_table.c.id).where(self._due(self.clock()), self._lrs_filter(lrs_id))
            ).all()
        return len(rows)

    def _claim(self, lrs_id: int | None) -> _Claim | None:
        """Claim up to ``batch_size`` due rows of one LRS; None when none is due.

        When another worker claimed our candidates between our SELECT and our UPDATE (possible
        on SQLite, which has no SKIP LOCKED), look again rather than end the pass early.
        """
        for _ in range(5):
            outcome = self._try_claim(lrs_id)
            if outcome is not False:
                return outcome
        return None

    def _try_claim(self, lrs_id: int | None) -> _Claim | Literal[False] | None:
        """One claim attempt: a claim, None (nothing due), or False (lost a race, retry)."""
        now = self.clock()
        token = str(uuid.uuid4())
        lease = now + timedelta(seconds=self.settings.lease_seconds)
        table = outbox_table.c
        try:
            with self.engine.begin() as conn:
                candidates = (
                    select(table.id)
                    .where(self._due(now), self._lrs_filter(lrs_id))
                    .order_by(table.id)
                    .limit(self.settings.batch_size)
                )
                if conn.dialect.name == "postgresql":
                    candidates = candidates.with_for_update(skip_locked=True)
                ids = list(conn.execute(candidates).scalars())
                if not ids:
                    return None
                conn.execute(
                    update(outbox_table)
                    .where(table.id.in_(ids), self._due(now))
                    .values(claim_token=token, lease_expires_at=lease)
                )
                rows = conn.execute(
                    select(table.id, table.statement_id, table.payload, table.attempts)
                    .where(table.claim_token == token)
                    .order_by(table.id)
                ).all()
        except OperationalError as exc:  # SQLite busy: another writer holds the lock
            log.warning("could not claim outbox rows this time: %s", exc.orig)
            return False
        if not rows:
            return False
        items: dict[str, _Item] = {}
        for row in rows:
            item = items.get(row.statement_id)
            if item is None:
                items[row.statement_id] = _Item(
                    row.statement_id, row.payload, [row.id], row.attempts
                )
            else:  # the same statement enqueued twice: send it once, mark both rows
                item.row_ids.append(row.id)
                item.attempts = max(item.attempts, row.attempts)
        return _Claim(token, lrs_id, list(items.values()), lease)

    # --- sending ------------------------------------------------------------------------
    def _deliver(self, target: LrsTarget, claim: _Claim, report: PassReport) -> bool:
        """Send a claimed batch, splitting it when the LRS rejects it; True if the LRS failed."""
        groups: list[list[_Item]] = [claim.items]
        while groups:
            group = groups.pop(0)
            rest_of = [item for g in groups for item in g]
            if self.stopping:
                self._release(claim, [*group, *rest_of])
                return True
            self._renew_lease_if_needed(claim, [*group, *rest_of])
            answer = self._post(target, group)
            report.requests += 1
            if answer.verdict is Verdict.CONFLICT:
                answer = self._resolve_conflict(target, group[0], answer)
            if answer.verdict is Verdict.INVALID:
                answer = self._invalid(group, answer)
            if answer.verdict is Verdict.DELIVERED:
                self._mark_delivered(claim, group, answer)
                report.delivered += len(group)
            elif answer.verdict is Verdict.SPLIT:
                middle = len(group) // 2
                groups[:0] = [group[:middle], group[middle:]]
            elif answer.verdict is Verdict.DEAD:
                self._mark_dead(claim, group, answer)
                report.dead += len(group)
                log.warning(
                    "LRS %s: %d statement(s) dead-lettered (first %s): %s",
                    target.name,
                    len(group),
                    group[0].statement_id,
                    answer.message,
                )
            elif answer.verdict is Verdict.STOPPED:
                self._release(claim, [*group, *rest_of])
                log.warning(
                    "LRS %s: worker stopping mid-request, %d statement(s) released to pending",
                    target.name,
                    len(group) + len(rest_of),
                )
                return True
            else:
                self._mark_retry(claim, group, rest_of, answer)
                report.retried += len(group) + len(rest_of)
                if answer.verdict is Verdict.CREDENTIALS:
                    report.credentials_rejected.append(target.name)
                    log.error("LRS %s refused our credentials: %s", target.name, answer.message)
                else:
                    log.warning("LRS %s unavailable: %s", target.name, answer.message)
                return True
        return False

    def _invalid(self, group: Sequence[_Item], answer: Answer) -> Answer:
        """A 2xx that is not an xAPI answer: retry, until the limit makes it a dead letter."""
        attempts = max(item.attempts for item in group) + 1
        if attempts >= self.settings.invalid_answer_limit:
            message = f"{answer.message} (after {attempts} attempts)"
            return Answer(Verdict.DEAD, answer.status_code, _truncate(message))
        return Answer(Verdict.RETRY, answer.status_code, answer.message, answer.retry_after)

    def _headers(self, target: LrsTarget) -> dict[str, str]:
        return {"X-Experience-API-Version": self.settings.version_of(target)}

    def _request(
        self, method: str, url: str, target: LrsTarget, **kwargs: object
    ) -> tuple[requests.Response, str] | Answer:
        """One HTTP exchange bounded as a whole: the response and its body, or a failed Answer.

        ``requests``' read timeout bounds each wait for bytes, so an LRS that trickles its
        answer would hold the worker (and its lease) forever: the body is streamed and the
        deadline (``request_deadline``) and the stop request are checked between reads; the
        body is bounded (``MAX_ANSWER_BYTES``). :meth:`interrupt` shuts the socket down, so a
        read blocked on a silent LRS returns at once.
        """
        deadline = self.monotonic() + self.settings.request_deadline
        read_timeout = min(self.settings.read_timeout, self.settings.request_deadline)
        try:
            response = self.http.request(
                method,
                url,
                auth=(target.username, target.password),
                timeout=(self.settings.connect_timeout, read_timeout),
                allow_redirects=False,
                stream=True,
                **kwargs,  # type: ignore[arg-type]
            )
        except requests.Timeout as exc:
            return Answer(Verdict.RETRY, None, _truncate(f"timeout ({exc.__class__.__name__})"))
        except requests.RequestException as exc:
            if self.stopping:
                return Answer(Verdict.STOPPED, None, "the worker stopped mid-request")
            return Answer(Verdict.RETRY, None, _truncate(f"network error: {exc}"))
        self._in_flight = response
        body: str | Answer = Answer(Verdict.RETRY, response.status_code, "answer not read")
        try:
            body = self._read_body(response, deadline)
        finally:
            self._in_flight = None
            if isinstance(body, str):
                response.raw.release_conn()  # read to the end: the connection is reusable
            else:
                response.close()  # cut short: this connection must not be reused
        if isinstance(body, Answer):
            return body
        return response, body

    def _read_body(self, response: requests.Response, deadline: float) -> str | Answer:
        code = response.status_code
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                if self.stopping:
                    return Answer(Verdict.STOPPED, code, "the worker stopped mid-request")
                if self.monotonic() > deadline:
                    return Answer(
                        Verdict.RETRY,
                        code,
                        f"HTTP {code}: no complete answer within "
                        f"{self.settings.request_deadline:g} s (SOCLE_LRS_REQUEST_DEADLINE), "
                        f"{size} bytes received",
                    )
                chunk = response.raw.read1(8192, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    return Answer(
                        Verdict.RETRY, code, f"HTTP {code}: answer larger than {size} bytes"
                    )
                chunks.append(chunk)
        except Exception as exc:  # urllib3 errors, a socket shut down by interrupt()
            if self.stopping:
                return Answer(Verdict.STOPPED, code, "the worker stopped mid-request")
            return Answer(Verdict.RETRY, code, _truncate(f"HTTP {code}: answer cut short: {exc}"))
        if self.stopping:
            return Answer(Verdict.STOPPED, code, "the worker stopped mid-request")
        return b"".join(chunks).decode(response.encoding or "utf-8", errors="replace")

    def _post(self, target: LrsTarget, items: Sequence[_Item]) -> Answer:
        """POST the statements as one JSON array and classify the LRS's answer."""
        body = ("[" + ",".join(item.payload for item in items) + "]").encode("utf-8")
        headers = {**self._headers(target), "Content-Type": "application/json; charset=utf-8"}
        exchange = self._request("POST", target.statements_url, target, data=body, headers=headers)
        if isinstance(exchange, Answer):
            return exchange
        response, raw_text = exchange
        code = response.status_code
        verdict = classify(code, len(items))
        text = raw_text.strip()
        if 300 <= code < 400:
            text = f"redirected to {response.headers.get('Location')!r}: fix the LRS endpoint"
        message = _truncate(f"HTTP {code}: {text}" if text else f"HTTP {code}")
        if code == 400 and "x-experience-api-version" in text.lower():
            # our configuration, not the statements: keep them pending, like refused credentials
            version = self.settings.version_of(target)
            verdict = Verdict.RETRY
            message = _truncate(
                f"the LRS refuses xAPI version {version} ({VERSION_SETTINGS}): {message}"
            )
        if verdict is Verdict.DELIVERED:
            problem = check_post_answer(code, raw_text, [item.statement_id for item in items])
            if problem is not None:
                verdict = Verdict.INVALID
                message = _truncate(f"HTTP {code} but not an xAPI answer: {problem}: {text}")
        retry_after = parse_retry_after(response.headers.get("Retry-After"), self.clock())
        return Answer(verdict, code, message, retry_after)

    def _resolve_conflict(self, target: LrsTarget, item: _Item, conflict: Answer) -> Answer:
        """409 on one statement: delivered if the LRS holds the same statement, else dead."""
        exchange = self._request(
            "GET",
            target.statements_url,
            target,
            params={"statementId": item.statement_id},
            headers=self._headers(target),
        )
        if isinstance(exchange, Answer):
            return exchange
        response, text = exchange
        code = response.status_code
        if code in (401, 403):
            return Answer(Verdict.CREDENTIALS, code, _truncate(f"HTTP {code}: {text.strip()}"))
        try:
            stored = json.loads(text) if code == 200 else None
        except ValueError:
            stored = None
        if not isinstance(stored, dict):
            reason = f"409, then HTTP {code} when reading the stored statement back"
            return Answer(Verdict.RETRY, code, _truncate(f"{reason}: {text.strip()}"))
        differing = differences(json.loads(item.payload), stored)
        if not differing:
            return Answer(Verdict.DELIVERED, 409, conflict.message)
        reason = (
            "the LRS holds a different statement with this id (differs in "
            f"{', '.join(differing)}): it was not delivered — {conflict.message}"
        )
        return Answer(Verdict.DEAD, 409, _truncate(reason))

    # --- marking ------------------------------------------------------------------------
    def _renew_lease_if_needed(self, claim: _Claim, items: Sequence[_Item]) -> None:
        """Push the lease forward before a request when half of it is gone (long splits)."""
        now = self.clock()
        half = timedelta(seconds=self.settings.lease_seconds / 2)
        if claim.lease_expires_at - now > half:
            return
        claim.lease_expires_at = now + timedelta(seconds=self.settings.lease_seconds)
        self._update(claim, items, lease_expires_at=claim.lease_expires_at)

    def _update(self, claim: _Claim, items: Sequence[_Item], **values: object) -> None:
        """Update the rows of ``items`` still held by this claim, in one short transaction.

        Only rows with our claim token: a row whose lease expired and that another worker
        re-claimed is that worker's to mark.
        """
        ids = [row_id for item in items for row_id in item.row_ids]
        if not ids:
            return
        table = outbox_table.c
        statement = (
            update(outbox_table)
            .where(table.id.in_(ids), table.claim_token == claim.token)
            .values(**values)
        )
        for attempt in range(5):
            try:
                with self.engine.begin() as conn:
                    conn.execute(statement)
                return
            except OperationalError:
                if attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))  # SQLite busy: the other writer is brief

    def _mark_delivered(self, claim: _Claim, items: Sequence[_Item], answer: Answer) -> None:
        self._update(
            claim,
            items,
            status=DELIVERED,
            delivered_at=self.clock(),
            attempts=outbox_table.c.attempts + 1,
            claim_token=None,
            lease_expires_at=None,
            last_status_code=answer.status_code,
            last_error=answer.message if answer.status_code == 409 else None,
        )

    def _mark_dead(self, claim: _Claim, items: Sequence[_Item], answer: Answer) -> None:
        self._update(
            claim,
            items,
            status=DEAD,
            attempts=outbox_table.c.attempts + 1,
            claim_token=None,
            lease_expires_at=None,
            last_status_code=answer.status_code,
            last_error=answer.message,
        )

    def _release(self, claim: _Claim, items: Sequence[_Item]) -> None:
        """Give claimed rows back to pending as they were: sent again by the next pass."""
        self._update(claim, items, claim_token=None, lease_expires_at=None)

    def _mark_retry(
        self, claim: _Claim, sent: Sequence[_Item], unsent: Sequence[_Item], answer: Answer
    ) -> None:
        """Put the rows back to pending with backoff; those not yet sent keep their count."""
        now = self.clock()
        attempts = max(item.attempts for item in sent) + 1
        delay = backoff_delay(attempts, self.settings, self.rng)
        if answer.retry_after is not None:
            delay = max(delay, answer.retry_after)
        next_attempt_at = now + timedelta(seconds=delay)
        message = answer.message
        if answer.verdict is Verdict.CREDENTIALS:
            message = f"the LRS refused the credentials — {message}"
        self._update(
            claim,
            sent,
            attempts=outbox_table.c.attempts + 1,
            next_attempt_at=next_attempt_at,
            claim_token=None,
            lease_expires_at=None,
            last_status_code=answer.status_code,
            last_error=message,
        )
        self._update(
            claim, unsent, next_attempt_at=next_attempt_at, claim_token=None, lease_expires_at=None
        )
