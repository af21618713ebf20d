"""An agent's export and erasure: everything found, nothing left in any table, voids in the
LRS for what it had already received."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from lti_tool.admin.models import AuditEntry
from lti_tool.cli import main
from lti_tool.db import Base
from lti_tool.models import LtiUser
from tests.admin.helpers import csrf_token, link_sign_in
from tests.player.agent import Agent
from tests.xapi.lrs_peer import HEADERS, LrsProcess
from xapi.delivery import LrsSettings, Worker
from xapi.outbox import metadata as xapi_metadata
from xapi.outbox import outbox_table
from xapi.voiding import VOIDED


def _play(agent: Agent, answers: int) -> None:
    agent.launch()
    agent.start()
    agent.run("right", stop_after=answers)


def _user(app: Flask, sub: str) -> LtiUser:
    with app.extensions["socle"].database.session() as session:
        user = session.scalars(select(LtiUser).where(LtiUser.sub == sub)).one()
        session.expunge(user)
        return user


def _admin(app: Flask) -> FlaskClient:
    client = app.test_client()
    link_sign_in(app, client)
    return client


def _every_row(app: Flask) -> list[tuple[str, dict[str, Any]]]:
    """Every row of every table the tool and the outbox declare (a new table is included)."""
    rows = []
    with app.extensions["socle"].database.session() as session:
        for table in [*Base.metadata.sorted_tables, *xapi_metadata.sorted_tables]:
            for row in session.execute(select(table)).mappings():
                rows.append((table.name, dict(row)))
    return rows


def _identifiers(app: Flask, sub: str) -> dict[str, Any]:
    """What names the agent: their sub, user id, attempts, launches, their statements' ids."""
    from lti_tool.models import Attempt, Launch

    with app.extensions["socle"].database.session() as session:
        user = session.scalars(select(LtiUser).where(LtiUser.sub == sub)).one()
        attempts = list(session.scalars(select(Attempt.id).where(Attempt.user_pk == user.id)))
        launches = list(session.scalars(select(Launch.id).where(Launch.user_pk == user.id)))
        statements = []
        for payload in session.scalars(select(outbox_table.c.payload)):
            statement = json.loads(payload)
            if statement.get("context", {}).get("registration") in attempts:
                statements.append(statement["id"])
    return {
        "sub": sub,
        "user_id": user.id,
        "attempts": attempts,
        "launches": launches,
        "statements": statements,
    }


def _mentions(table: str, row: dict[str, Any], ids: dict[str, Any]) -> list[str]:
    found = []
    for column, value in row.items():
        text = json.dumps(value, default=str, ensure_ascii=False)
        if ids["sub"] in text:
            found.append(f"{table}.{column} holds the sub")
        for key in ("attempts", "launches"):
            found.extend(f"{table}.{column} holds {key} {v}" for v in ids[key] if v in text)
        if column in {"user_pk"} and value == ids["user_id"]:
            found.append(f"{table}.{column} is the user")
        if table == "lti_user" and column == "id" and value == ids["user_id"]:
            found.append("lti_user row")
    return found


def test_the_export_holds_everything_about_the_agent(
    app: Flask, make_agent: Callable[..., Agent]
) -> None:
    _play(make_agent(sub="agent-export"), 3)
    _play(make_agent(sub="someone-else"), 2)
    user = _user(app, "agent-export")
    admin = _admin(app)

    found = admin.get("/admin/agents", query_string={"sub": "agent-export"})
    assert f'data-agent="{user.id}"' in found.get_data(as_text=True)
    document = admin.get(f"/admin/agents/{user.id}/export.json").get_json()

    assert document["agent"]["sub"] == "agent-export"
    assert len(document["attempts"]) == 1
    assert [a["seq"] for a in document["answers"]] == [1, 2, 3]
    assert document["launches"]
    assert {s["status"] for s in document["statements"]} == {"pending"}
    verbs = [s["statement"]["verb"]["id"].rsplit("/", 1)[1] for s in document["statements"]]
    assert verbs.count("answered") == 3
    registrations = {s["statement"]["context"]["registration"] for s in document["statements"]}
    assert registrations == {document["attempts"][0]["id"]}  # nobody else's statements
    assert "gradebook" in document
    table = list(csv.reader(io.StringIO(admin.get(f"/admin/agents/{user.id}/export.csv").text)))
    assert table[0] == ["section", "record", "field", "value"]
    assert ["agent", "1", "sub", "agent-export"] in table
    with app.extensions["socle"].database.session() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry))]
    assert actions.count("agent.export") == 2


def test_erasure_leaves_nothing_of_the_agent_in_any_table(
    app: Flask, make_agent: Callable[..., Agent]
) -> None:
    _play(make_agent(sub="agent-erased"), 4)
    _play(make_agent(sub="agent-kept"), 2)
    erased, kept = _identifiers(app, "agent-erased"), _identifiers(app, "agent-kept")
    delivered = erased["statements"][:3]  # three of them already reached the LRS
    with app.extensions["socle"].database.session() as session, session.begin():
        session.execute(
            update(outbox_table)
            .where(outbox_table.c.statement_id.in_(delivered))
            .values(status="delivered", delivered_at=datetime.now(UTC))
        )
    before = [m for table, row in _every_row(app) for m in _mentions(table, row, erased)]
    assert before  # the check below can fail: the agent is everywhere before
    admin = _admin(app)
    page = admin.get(f"/admin/agents/{erased['user_id']}")
    assert "LTI AGS" in page.get_data(as_text=True)  # the gradebook stays with the LMS: said

    done = admin.post(
        f"/admin/agents/{erased['user_id']}/erase",
        data={"csrf_token": csrf_token(page), "confirm": "on"},
    )

    assert done.status_code == 200
    assert 'data-voids="3"' in done.get_data(as_text=True)
    after = [m for table, row in _every_row(app) for m in _mentions(table, row, erased)]
    assert after == []
    still = [m for table, row in _every_row(app) for m in _mentions(table, row, kept)]
    assert any("lti_user row" in m for m in still)  # the other agent is untouched
    with app.extensions["socle"].database.session() as session:
        voids = [json.loads(p) for p in session.scalars(select(outbox_table.c.payload))]
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "agent.erase")).one()
    voided = {s["object"]["id"] for s in voids if s["verb"]["id"] == VOIDED}
    assert voided == set(delivered)
    assert audit.after is not None
    assert audit.after["voids_queued"] == 3


def test_erasure_needs_the_confirmation(app: Flask, make_agent: Callable[..., Agent]) -> None:
    _play(make_agent(sub="agent-careful"), 1)
    user = _user(app, "agent-careful")
    admin = _admin(app)
    page = admin.get(f"/admin/agents/{user.id}")

    answer = admin.post(f"/admin/agents/{user.id}/erase", data={"csrf_token": csrf_token(page)})

    assert answer.status_code == 302
    assert _user(app, "agent-careful").id == user.id


def _cli_env(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = app.extensions["socle"].settings
    monkeypatch.setenv("SOCLE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SOCLE_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("SOCLE_BASE_URL", settings.base_url)
    monkeypatch.setenv("SOCLE_INSTANCE_DIR", str(settings.instance_dir))


def test_the_cli_exports_and_erases(
    app: Flask, make_agent: Callable[..., Agent], monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = make_agent(sub="agent-cli")
    _play(agent, 2)
    _cli_env(app, monkeypatch)
    issuer = agent.platform.issuer
    runner = CliRunner()

    exported = runner.invoke(main, ["privacy", "export", "--issuer", issuer, "--sub", "agent-cli"])
    as_csv = runner.invoke(
        main, ["privacy", "export", "--issuer", issuer, "--sub", "agent-cli", "--format", "csv"]
    )
    erased = runner.invoke(
        main, ["privacy", "erase", "--issuer", issuer, "--sub", "agent-cli", "--yes"]
    )
    missing = runner.invoke(main, ["privacy", "export", "--issuer", issuer, "--sub", "agent-cli"])

    assert exported.exit_code == 0, exported.output
    assert len(json.loads(exported.stdout)["answers"]) == 2
    assert as_csv.stdout.startswith("section,record,field,value")
    assert erased.exit_code == 0, erased.output
    assert "erased: 1 attempts, 2 answers" in erased.stdout
    assert "gradebook" in erased.stdout
    assert missing.exit_code != 0
    assert "no agent" in missing.output


@pytest.mark.lrs
def test_the_lrs_shows_the_voids_after_erasure(
    app: Flask, make_agent: Callable[..., Agent], lrs: LrsProcess
) -> None:
    _play(make_agent(sub="agent-lrs"), 3)
    ids = _identifiers(app, "agent-lrs")
    registration = ids["attempts"][0]
    database_url = app.extensions["socle"].settings.database_url
    settings = LrsSettings(endpoint=lrs.endpoint, username="socle", password="secret")
    from lti_tool.db import make_engine

    engine = make_engine(database_url)
    try:
        with Worker(engine, settings) as worker:
            assert worker.run_once().delivered == len(ids["statements"])
        assert sorted(lrs.registration_ids(registration)) == sorted(ids["statements"])
        admin = _admin(app)
        page = admin.get(f"/admin/agents/{ids['user_id']}")
        admin.post(
            f"/admin/agents/{ids['user_id']}/erase",
            data={"csrf_token": csrf_token(page), "confirm": "on"},
        )
        later = lambda: datetime.now(UTC) + timedelta(seconds=1)  # noqa: E731
        with Worker(engine, settings, clock=later) as worker:
            assert worker.run_once().delivered == len(ids["statements"])
    finally:
        engine.dispose()

    # The agent's statements are voided: a query by their registration returns only the
    # voiding statements (xAPI includes statements that reference a match), none of theirs.
    found = lrs.statements(registration=registration)
    assert {s["verb"]["id"] for s in found} == {VOIDED}
    assert {s["object"]["id"] for s in found} == set(ids["statements"])
    for statement_id in ids["statements"]:
        assert _lrs_get(lrs, statementId=statement_id).status_code == 404
        assert _lrs_get(lrs, voidedStatementId=statement_id).status_code == 200
    voids = lrs.statements(verb=VOIDED)
    assert {s["object"]["id"] for s in voids} >= set(ids["statements"])
    assert all("agent-lrs" not in json.dumps(s) for s in voids)  # the voids name nobody


def _lrs_get(lrs: LrsProcess, **params: str) -> requests.Response:
    return requests.get(
        f"{lrs.endpoint}statements",
        params=params,
        headers=HEADERS,
        auth=("socle", "secret"),
        timeout=10,
    )


def test_a_statement_a_worker_is_sending_is_voided_too(
    app: Flask, make_agent: Callable[..., Agent]
) -> None:
    """A row claimed by a worker may reach the LRS after the erasure deleted it: void it."""
    from lti_tool.privacy.agents import erase_agent

    _play(make_agent(sub="agent-in-flight"), 1)
    ids = _identifiers(app, "agent-in-flight")
    in_flight, dead = ids["statements"][0], ids["statements"][1]
    database = app.extensions["socle"].database
    with database.session() as session, session.begin():
        session.execute(
            update(outbox_table)
            .where(outbox_table.c.statement_id == in_flight)
            .values(
                claim_token="a-worker", lease_expires_at=datetime.now(UTC) + timedelta(minutes=1)
            )
        )
        session.execute(
            update(outbox_table).where(outbox_table.c.statement_id == dead).values(status="dead")
        )
    with database.session() as session, session.begin():
        user = session.get(LtiUser, ids["user_id"])
        assert user is not None
        report = erase_agent(session, user, tool_base_url="http://localhost", now=datetime.now(UTC))

    assert report.voids_queued == 1  # the refused (dead) and unsent rows need none
    assert report.statements_deleted == len(ids["statements"])
    with database.session() as session:
        payloads = [json.loads(p) for p in session.scalars(select(outbox_table.c.payload))]
    assert [p["object"]["id"] for p in payloads] == [in_flight]
