"""Prometheus metrics of the tool at ``GET /metrics``.

What is measured, and where it comes from:

* request latency by route (``socle_http_request_duration_seconds``, labelled with the URL
  rule, never the URL: page tokens and ids would make one series per agent);
* answers recorded (``socle_answers_total`` by status) and JWKS fetches
  (``socle_jwks_fetches_total`` by outcome): counters kept by the process that did the work;
* the outbox (pending depth, age of the oldest pending statement, dead letters) and the
  gradebook (scores pending, scores given up): read from the database when scraped, because
  the background worker does that work in another process and the database is the truth
  every node shares. A scrape costs a handful of indexed counts.

Under gunicorn each worker is a process of its own: counters and histograms use
prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by ``socle serve``
before gunicorn starts; ``lti_tool.gunicorn_conf`` marks dead workers), so one scrape of any
worker reports the whole node. Without that variable (the demo, tests) the process's own
registry is used.

``/metrics`` is meant for the operator's network: the TLS proxy of ``docker/compose.yaml``
does not forward it, and ``SOCLE_METRICS_TOKEN``, when set, is required as a bearer token.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
TOKEN_ENV = "SOCLE_METRICS_TOKEN"  # noqa: S105 - the variable's name, not a secret

# Player pages answer in tens of milliseconds; launches call the platform's JWKS (up to the
# HTTP timeout, 5 s): buckets from 5 ms to 10 s cover both without a series per millisecond.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_LATENCY = Histogram(
    "socle_http_request_duration_seconds",
    "Time to answer a request, by route (URL rule), method and status class.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
ANSWERS = Counter("socle_answers_total", "Answers recorded by the player, by status.", ["status"])
JWKS_FETCHES = Counter(
    "socle_jwks_fetches_total", "Fetches of platforms' key sets, by outcome.", ["outcome"]
)


def count_answer(status: str) -> None:
    ANSWERS.labels(status=status).inc()


def count_jwks_fetch(outcome: str) -> None:
    JWKS_FETCHES.labels(outcome=outcome).inc()


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time: outbox and gradebook backlogs."""

    def __init__(
        self, sessions: Callable[[], Session], clock: Callable[[], datetime] | None = None
    ) -> None:
        self.sessions = sessions
        self.clock = clock or (lambda: datetime.now(UTC))

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from lti_tool.models import Attempt
        from xapi.outbox import outbox_table

        outbox = outbox_table.c
        up = GaugeMetricFamily(
            "socle_metrics_database_up", "1 when the database answered this scrape's queries."
        )
        try:
            with self.sessions() as session:
                pending, oldest = session.execute(
                    select(func.count(), func.min(outbox.created_at)).where(
                        outbox.status == "pending"
                    )
                ).one()
                dead = session.scalar(
                    select(func.count()).select_from(outbox_table).where(outbox.status == "dead")
                )
                grades = dict(
                    session.execute(
                        select(Attempt.grade_status, func.count())
                        .where(Attempt.grade_status.in_(("pending", "failed")))
                        .group_by(Attempt.grade_status)
                    ).all()
                )
        except Exception:
            log.warning("metrics: the database did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        age = 0.0
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
            age = max(0.0, (self.clock() - oldest).total_seconds())
        yield _gauge("socle_outbox_pending", "xAPI statements waiting for delivery.", pending)
        yield _gauge(
            "socle_outbox_oldest_pending_age_seconds",
            "Age of the oldest statement waiting for delivery (0 when none).",
            age,
        )
        yield _gauge(
            "socle_outbox_dead_letters",
            "Statements an LRS refused for good (see `socle xapi status`).",
            dead or 0,
        )
        yield _gauge(
            "socle_grade_sync_pending",
            "Scores waiting to reach LMS gradebooks.",
            grades.get("pending", 0),
        )
        yield _gauge(
            "socle_grade_sync_failures",
            "Scores given up after their retries (attempts with grade status 'failed').",
            grades.get("failed", 0),
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], float(value))
    return family


def registry_for_scrape(database_collector: Collector) -> CollectorRegistry:
    """The registry one scrape renders: every process's series in multiprocess mode (a fresh
    registry per scrape, as prometheus-client requires), else this process's own."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for collector in (REQUEST_LATENCY, ANSWERS, JWKS_FETCHES):
            registry.register(collector)
    registry.register(database_collector)
    return registry


def init_app(app: Flask, sessions: Callable[[], Session]) -> None:
    """Time every request and serve ``GET /metrics``."""
    collector = DatabaseCollector(sessions)
    token = os.environ.get(TOKEN_ENV, "")

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Any) -> Any:
        started = g.pop("metrics_started", None)
        if started is not None:
            rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
            REQUEST_LATENCY.labels(
                route=rule, method=request.method, status=f"{response.status_code // 100}xx"
            ).observe(time.perf_counter() - started)
        return response

    def metrics() -> Response | tuple[str, int]:
        if token:
            sent = request.headers.get("Authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
                return "a bearer token is required (SOCLE_METRICS_TOKEN)", 401
        body = generate_latest(registry_for_scrape(collector))
        return Response(body, mimetype=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
