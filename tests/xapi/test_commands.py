"""The click commands, built by the factory as the app's CLI will build them."""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.engine import Engine

from tests.xapi import samples
from tests.xapi.conftest import settings_for
from tests.xapi.lrs_peer import LrsProcess
from xapi import reports
from xapi.builders import StatementBuilder
from xapi.commands import create_commands
from xapi.delivery import LrsSettings, Worker
from xapi.outbox import enqueue, outbox_table


def _groups(
    engine: Engine, settings: LrsSettings, base_url: str | None = samples.BASE_URL
) -> tuple[click.Group, click.Group]:
    return create_commands(
        lambda: engine,
        lambda: settings,
        get_secret=lambda: "cli-secret",
        get_base_url=lambda: base_url,
    )


def _invoke(group: click.Group, *args: str) -> Any:
    return CliRunner().invoke(group, list(args), catch_exceptions=False)


def test_status_without_lrs_says_the_outbox_just_fills(engine: Engine) -> None:
    with engine.begin() as conn:
        enqueue(conn, samples.full_attempt()[:3])
    xapi_group, _ = _groups(engine, LrsSettings())
    result = _invoke(xapi_group, "status")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "lrs",
        "endpoint",
        "pending",
        "in-flight",
        "retrying",
        "delivered",
        "dead",
        "oldest",
        "pending",
    ]
    assert lines[1].split()[:6] == ["default", "(not", "configured)", "3", "0", "0"]
    assert "hint: No default LRS is configured" in result.output
    once = _invoke(xapi_group, "worker", "--once")
    assert "3 waiting for an LRS to be configured" in once.output


@pytest.mark.lrs
def test_worker_once_status_and_retry_of_a_dead_letter(engine: Engine, lrs: LrsProcess) -> None:
    statements = samples.full_attempt(StatementBuilder(samples.BASE_URL), uuid.uuid4())
    bad = json.loads(json.dumps(statements[2]))
    bad["actor"] = {"objectType": "Agent", "mbox": "not-an-email"}
    statements[2] = bad
    with engine.begin() as conn:
        enqueue(conn, statements)
    xapi_group, _ = _groups(engine, settings_for(lrs.endpoint))
    once = _invoke(xapi_group, "worker", "--once")
    assert once.exit_code == 0
    assert once.output.startswith("11 delivered, 0 to retry, 1 dead letters")
    status = _invoke(xapi_group, "status").output
    assert status.splitlines()[1].split()[1:] == [lrs.endpoint, "0", "0", "0", "11", "1", "-"]
    assert f"statement {bad['id']} → default, 1 attempt(s): HTTP 400" in status
    assert "actor.mbox" in status
    with engine.connect() as conn:
        dead_id = conn.execute(
            select(outbox_table.c.id).where(outbox_table.c.status == "dead")
        ).scalar_one()
    retried = _invoke(xapi_group, "retry", "--id", str(dead_id))
    assert (retried.exit_code, retried.output) == (0, "1 statement(s) re-queued\n")
    wrong = CliRunner().invoke(xapi_group, ["retry", "--id", "999999"])
    assert wrong.exit_code == 1
    assert wrong.output == "Error: re-queued 0 of 1: the others are not dead letters\n"


def test_lrs_add_and_list_never_show_the_password(engine: Engine) -> None:
    xapi_group, _ = _groups(engine, LrsSettings())
    added = _invoke(
        xapi_group,
        "lrs",
        "add",
        "region",
        "--endpoint",
        "https://lrs.example.fr/xAPI/",
        "--username",
        "socle",
        "--password",
        "s3cret-pw",
    )
    assert added.output == "LRS 'region' registered with id 1\n"
    listed = _invoke(xapi_group, "lrs", "list").output
    assert "#1 region  https://lrs.example.fr/xAPI/  user socle" in listed
    assert "s3cret-pw" not in listed
    again = CliRunner().invoke(
        xapi_group,
        [
            "lrs",
            "add",
            "region",
            "--endpoint",
            "https://x.fr/",
            "--username",
            "u",
            "--password",
            "p",
        ],
    )
    assert (again.exit_code, again.output) == (1, "Error: an LRS named 'region' already exists\n")


def test_bad_settings_are_one_clear_line(engine: Engine) -> None:
    def broken() -> LrsSettings:
        return LrsSettings.from_env({"SOCLE_LRS_READ_TIMEOUT": "soon"})

    xapi_group, _report_group = create_commands(lambda: engine, broken)
    result = CliRunner().invoke(xapi_group, ["status"])
    assert (result.exit_code, result.output) == (
        1,
        "Error: SOCLE_LRS_READ_TIMEOUT must be a number, got 'soon'\n",
    )
    missing = CliRunner().invoke(
        create_commands(lambda: engine, LrsSettings, get_base_url=lambda: None)[1],
        ["completions", "--parcours", "p"],
    )
    assert missing.output == "Error: give --base-url or set SOCLE_BASE_URL\n"


@pytest.mark.lrs
def test_report_completions_reads_the_lrs_as_table_and_csv(
    engine: Engine, lrs: LrsProcess, tmp_path: Path
) -> None:
    base_url = f"https://socle-{uuid.uuid4().hex[:8]}.example.fr"  # this test's own IRIs
    builder = StatementBuilder(base_url, share_identity=True)
    with engine.begin() as conn:
        for index in range(3):
            enqueue(conn, samples.full_attempt(builder, uuid.uuid4(), sub=f"agent-{index}"))
    settings = settings_for(lrs.endpoint)
    with Worker(engine, settings) as worker:
        assert worker.run_once().delivered == 36
    _, report_group = _groups(engine, settings, base_url)

    table = _invoke(report_group, "completions", "--parcours", "socle-commun")
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0].split() == ["account", "platform", "completed", "at", "score", "levels"]
    assert len(lines) == 5
    assert lines[1].startswith("agent-0 (Camille Agent)")
    assert lines[1].split()[-4:] == ["62", "%", "2.1:3", "4.1:2"]
    assert lines[-1] == "3 completion(s)"

    out = tmp_path / "completions.csv"
    written = _invoke(report_group, "completions", "--parcours", "socle-commun", "--csv", str(out))
    assert written.output == f"3 completion(s) written to {out}\n"
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["account"] for row in rows] == ["agent-0", "agent-1", "agent-2"]
    assert {(row["mastery"], row["2.1"], row["4.1"], row["pix"]) for row in rows} == {
        ("0.62", "3", "2", "57")
    }
    assert all(row["platform"] == samples.ISSUER for row in rows)
    assert all(row["completed_at"] == "2026-03-02T09:53:05.500Z" for row in rows)

    paged = reports.completions(
        settings.default_target(),  # type: ignore[arg-type]
        base_url,
        "socle-commun",
        settings=settings,
        page_size=1,
    )
    assert [row.account for row in paged] == ["agent-0", "agent-1", "agent-2"]
    none = _invoke(report_group, "completions", "--parcours", "autre-parcours")
    assert none.output.splitlines()[-1] == "0 completion(s)"
    assert "warning: LRS default holds no completion of" in none.output


@pytest.mark.lrs
def test_report_completions_finds_content_under_the_stable_iri_base(
    engine: Engine, lrs: LrsProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two deployments share content IRIs: the report looks under SOCLE_XAPI_IRI_BASE."""
    base_url = f"https://socle-{uuid.uuid4().hex[:8]}.example.fr"
    iri_base = f"https://contenu-{uuid.uuid4().hex[:8]}.example.fr"
    builder = StatementBuilder(base_url, share_identity=True, iri_base=iri_base)
    with engine.begin() as conn:
        enqueue(conn, samples.full_attempt(builder, uuid.uuid4(), sub="agent-stable"))
    settings = settings_for(lrs.endpoint)
    with Worker(engine, settings) as worker:
        assert worker.run_once().delivered > 0
    _, report_group = _groups(engine, settings, base_url)

    missed = _invoke(report_group, "completions", "--parcours", "socle-commun")
    assert missed.output.splitlines()[-1] == "0 completion(s)"
    assert f"no completion of {base_url}/" in missed.output
    assert "SOCLE_XAPI_IRI_BASE" in missed.output

    monkeypatch.setenv("SOCLE_XAPI_IRI_BASE", iri_base)
    found = _invoke(report_group, "completions", "--parcours", "socle-commun")
    assert found.output.splitlines()[-1] == "1 completion(s)"
    assert "warning" not in found.output
    explicit = _invoke(
        report_group, "completions", "--parcours", "socle-commun", "--iri-base", iri_base
    )
    assert explicit.output.splitlines()[-1] == "1 completion(s)"
