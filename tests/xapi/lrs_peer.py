"""The LRS peer: Learning Locker's statement service (xapi-statements 5.0.1) as a child process.

Shared by the test fixtures (``conftest.py``) and ``benchmarks/xapi_delivery.py``.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

from lti_tool.config import PROJECT_DIR as REPO
from lti_tool.demo_lrs import LRS_SERVER, LocalLrs, free_port

__all__ = ["HEADERS", "LRS_DIR", "LRS_SERVER", "REPO", "LrsProcess", "free_port"]

LRS_DIR = LRS_SERVER.parents[3]
HEADERS = {"X-Experience-API-Version": "1.0.3"}


class LrsProcess(LocalLrs):
    """The Node LRS as a child process that tests can stop and start again (outages), and
    query as an LRS consumer would."""

    def __init__(self, node: str, workdir: Path) -> None:
        super().__init__(workdir, node=node)

    def statements(self, **params: str) -> list[dict[str, Any]]:
        """Query the LRS as a consumer would, following ``more``."""
        found: list[dict[str, Any]] = []
        url: str | None = f"{self.endpoint}statements"
        query: dict[str, str] | None = params
        with requests.Session() as session:
            while url:
                response = session.get(
                    url, params=query, headers=HEADERS, auth=("socle", "secret"), timeout=10
                )
                assert response.status_code == 200, response.text
                page = response.json()
                found.extend(page["statements"])
                url = urljoin(url, page["more"]) if page.get("more") else None
                query = None
        return found

    def statement(self, statement_id: str) -> dict[str, Any]:
        """One stored statement by id (the LRS answers 404 if it has none)."""
        response = requests.get(
            f"{self.endpoint}statements",
            params={"statementId": statement_id},
            headers=HEADERS,
            auth=("socle", "secret"),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def registration_ids(self, registration: uuid.UUID | str) -> list[str]:
        return [item["id"] for item in self.statements(registration=str(registration))]
