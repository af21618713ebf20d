"""``/metrics``, ``/readyz`` and the JSON log format, as an operator's tools read them."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text, update

from lti_tool.observability.logs import SocleJsonFormatter
from lti_tool.observability.metrics import DatabaseCollector
from lti_tool.observability.readiness import check
from xapi.outbox import enqueue, outbox_table


def _samples(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def _value(body: str, name: str, **labels: str) -> float | None:
    return _samples(body).get((name, frozenset(labels.items())))


def test_request_latency_is_labelled_by_route_never_by_url(client: FlaskClient) -> None:
    before = _value(
        client.get("/metrics").get_data(as_text=True),
        "socle_http_request_duration_seconds_count",
        route="/healthz",
        method="GET",
        status="2xx",
    )
    client.get("/healthz")
    client.get("/play", query_string={"lt": "a-page-token-value"})
    body = client.get("/metrics").get_data(as_text=True)
    after = _value(
        body,
        "socle_http_request_duration_seconds_count",
        route="/healthz",
        method="GET",
        status="2xx",
    )
    assert after == (before or 0) + 1
    assert "a-page-token-value" not in body
    assert _value(
        body,
        "socle_http_request_duration_seconds_count",
        route="/play",
        method="GET",
        status="4xx",
    )


def test_outbox_and_gradebook_backlogs_come_from_the_database(app: Flask) -> None:
    database = app.extensions["socle"].database
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    statements = [
        {"id": f"00000000-0000-4000-8000-00000000000{i}", "verb": {"id": "x"}} for i in range(3)
    ]
    with database.engine.begin() as conn:
        enqueue(conn, statements, now=now - timedelta(seconds=90))
        conn.execute(
            update(outbox_table)
            .where(outbox_table.c.statement_id == statements[0]["id"])
            .values(status="dead")
        )
    collector = DatabaseCollector(database.sessions, clock=lambda: now)
    values = {family.name: family.samples[0].value for family in collector.collect()}
    assert values["socle_metrics_database_up"] == 1
    assert values["socle_outbox_pending"] == 2
    assert values["socle_outbox_oldest_pending_age_seconds"] == 90
    assert values["socle_outbox_dead_letters"] == 1
    assert values["socle_grade_sync_failures"] == 0


def test_metrics_need_the_token_when_one_is_set(
    make_settings,  # type: ignore[no-untyped-def]
    make_app,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCLE_METRICS_TOKEN", "s3cret-scrape")
    app = make_app(make_settings())
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
    assert right.status_code == 200
    assert "socle_outbox_pending" in right.get_data(as_text=True)


def test_ready_when_database_migrations_and_content_are(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "migrations": "ok",
        "content": "ok",
    }


def test_not_ready_while_the_schema_is_behind_the_code(app: Flask, client: FlaskClient) -> None:
    engine = app.extensions["socle"].database.engine
    with engine.begin() as conn:
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "unavailable"
        assert body["migrations"].startswith("at 0001, head is ")
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})


def test_not_ready_without_a_parcours(app: Flask) -> None:
    """The loader refuses content without a framework; content without any parcours loads,
    and would answer every launch with "no parcours": such a node is not ready."""
    with app.extensions["socle"].database.session() as session:
        readiness = check(session, parcours_count=0)
    assert not readiness.ready
    assert readiness.as_dict()["content"] == "no parcours loaded"


def test_json_log_lines_carry_level_logger_time_and_access_fields() -> None:
    formatter = SocleJsonFormatter()
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, "GET %s 200", ("/play",), None
    )
    record.access = {"method": "GET", "path": "/play", "status": 200, "duration_ms": 12.5}
    line = formatter.format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "INFO"
    assert data["logger"] == "gunicorn.access"
    assert data["message"] == "GET /play 200"
    assert data["status"] == 200
    assert data["duration_ms"] == 12.5
    assert datetime.fromisoformat(data["time"]).tzinfo is not None
