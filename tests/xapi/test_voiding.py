"""Voiding statements: valid xAPI (Ralph's strict model), deterministic ids, naming nobody."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from ralph.models.xapi.base.statements import BaseXapiStatement

from xapi.voiding import VOIDED, voiding_statement, voiding_statement_id

VOIDED_ID = "10402cd1-761b-544a-9668-30fcc791910e"


def test_a_voiding_statement_is_valid_xapi_and_names_the_tool_only() -> None:
    statement = voiding_statement(
        VOIDED_ID,
        tool_base_url="https://socle.lille.fr",
        timestamp=datetime(2026, 12, 7, tzinfo=UTC),
    )

    BaseXapiStatement.model_validate(statement)
    assert statement["verb"]["id"] == VOIDED
    assert statement["object"] == {"objectType": "StatementRef", "id": VOIDED_ID}
    assert statement["actor"]["account"] == {"homePage": "https://socle.lille.fr", "name": "socle"}
    assert statement["timestamp"] == "2026-12-07T00:00:00.000Z"


def test_voiding_ids_are_deterministic_and_distinct() -> None:
    other = str(uuid.uuid4())
    assert voiding_statement_id(VOIDED_ID) == voiding_statement_id(VOIDED_ID.upper())
    assert voiding_statement_id(VOIDED_ID) != voiding_statement_id(other)
    assert voiding_statement_id(VOIDED_ID) != VOIDED_ID
