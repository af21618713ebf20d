"""``socle report competences`` from the LRS alone gives the same per-competence table as
the database, on the same attempts: agents play through HTTP, the worker delivers their
statements to the real LRS (Learning Locker's statement service), then both paths compute.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy.orm import Session

from lti_tool.db import make_engine
from lti_tool.reports.analysis import competence_table
from lti_tool.reports.commands import competences_command, read_statements
from lti_tool.reports.lrs import rows_from_statements
from lti_tool.reports.queries import Scope, load_scope, scope_codes
from tests.player.agent import Agent
from tests.xapi.conftest import lrs, lrs_server  # noqa: F401 - the real LRS fixtures
from tests.xapi.lrs_peer import LrsProcess
from xapi.delivery import LrsSettings, Worker

BASE_URL = "http://localhost"  # the tests' app
IRI_BASE = f"https://contenu-{uuid.uuid4().hex[:8]}.example.fr"  # this module's own IRIs
PARCOURS = "sensibilisation-donnees"
PROFILE = "referents-numeriques"


@pytest.fixture
def iri_base(monkeypatch: pytest.MonkeyPatch) -> str:
    """Content IRIs no other test of the session's LRS uses (read when the app is made)."""
    monkeypatch.setenv("SOCLE_XAPI_IRI_BASE", IRI_BASE)
    return IRI_BASE


@pytest.mark.lrs
def test_lrs_and_database_give_the_same_competence_table(
    iri_base: str,
    app: Flask,
    make_agent: Callable[..., Agent],
    lrs: LrsProcess,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policies = ["right", "wrong", lambda i, _c: "right" if i % 3 else "wrong", "skip"]
    for index, policy in enumerate(policies):
        agent = make_agent(sub=f"lrs-agent-{index}")
        agent.launch()
        agent.start()
        agent.run(policy)
    midway = make_agent(sub="lrs-agent-midway")
    midway.launch()
    midway.start()
    midway.run("wrong", stop_after=2)

    socle = app.extensions["socle"]
    content = socle.catalogue.content
    settings = LrsSettings(endpoint=lrs.endpoint, username="socle", password="secret")
    engine = make_engine(socle.settings.database_url)
    try:
        with Worker(engine, settings) as worker:
            delivery = worker.run_once()
    finally:
        engine.dispose()
    assert delivery.delivered > 0
    assert (delivery.retried, delivery.dead) == (0, 0)

    expected = dict(content.job_profiles[PROFILE].expected)
    with socle.database.session() as session:
        assert isinstance(session, Session)
        from lti_tool.models import ResourceLink

        link = session.query(ResourceLink).one()
        rows = load_scope(session, content, Scope(resource_link_pk=link.id)).rows
    codes = scope_codes(content, [PARCOURS])
    from_database = competence_table(rows, codes, content, expected=expected)

    target = settings.default_target()
    assert target is not None
    completed, answered = read_statements(
        target, settings, base_url=BASE_URL, parcours_id=PARCOURS, iri_base=iri_base
    )
    lrs_rows = rows_from_statements(
        completed, answered, base_url=BASE_URL, iri_base=iri_base, expected=expected
    )
    from_lrs = competence_table(lrs_rows, codes, content, expected=expected)

    assert len([r for r in lrs_rows if r.status == "finished"]) == 4
    assert from_lrs == from_database
    assert any(line.below for line in from_lrs)
    assert any(line.failed for line in from_lrs)

    # The command prints the same table (CSV), reading the LRS of the environment.
    monkeypatch.setenv("SOCLE_LRS_ENDPOINT", lrs.endpoint)
    monkeypatch.setenv("SOCLE_LRS_USERNAME", "socle")
    monkeypatch.setenv("SOCLE_LRS_PASSWORD", "secret")
    command = competences_command(lambda: content, lambda: None, lambda: None, lambda: BASE_URL)
    result = CliRunner().invoke(
        command, ["--parcours", PARCOURS, "--job-profile", PROFILE, "--csv", "-"]
    )
    assert result.exit_code == 0, result.output
    printed = {row["competence"]: row for row in csv.DictReader(io.StringIO(result.output))}
    for line in from_database:
        assert int(printed[line.code]["agents"]) == line.assessed
        assert int(printed[line.code]["below_expected"]) == line.below

    unknown = CliRunner().invoke(command, ["--parcours", PARCOURS, "--job-profile", "nope"])
    assert unknown.exit_code == 1
    assert "no job profile 'nope'" in unknown.output
