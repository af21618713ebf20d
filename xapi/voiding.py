"""Voiding statements: how an agent's erasure reaches an LRS that already stored their data.

xAPI statements are immutable; the only way to take one back is a *voiding* statement
(xAPI 1.0.3, Data 2.3.2): verb ``http://adlnet.gov/expapi/verbs/voided``, object a
``StatementRef`` to the statement. An LRS then leaves the voided statement out of every
query except ``voidedStatementId``. The voiding statement names nobody: its actor is the
tool itself (an account on the tool's base URL), never the erased agent, so sending it does
not spread again what is being erased.

Ids are deterministic (uuid5 of the voided id): voiding twice is the same statement, and the
LRS's 409/204 make a resend harmless, as for every statement of the outbox.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

from xapi.builders import STATEMENT_ID_NAMESPACE, format_timestamp

VOIDED: Final = "http://adlnet.gov/expapi/verbs/voided"


def voiding_statement_id(voided_id: str) -> str:
    """The id of the statement that voids ``voided_id``."""
    return str(uuid.uuid5(STATEMENT_ID_NAMESPACE, f"voided|{uuid.UUID(voided_id)}"))


def voiding_statement(voided_id: str, *, tool_base_url: str, timestamp: datetime) -> dict[str, Any]:
    """The statement that voids ``voided_id``, sent by the tool."""
    return {
        "id": voiding_statement_id(voided_id),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": tool_base_url, "name": "socle"},
        },
        "verb": {
            "id": VOIDED,
            "display": {"en-US": "voided", "fr-FR": "a annulé"},
        },
        "object": {"objectType": "StatementRef", "id": str(uuid.UUID(voided_id))},
        "timestamp": format_timestamp(timestamp),
    }
