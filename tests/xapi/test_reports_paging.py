"""Reports read the LRS's pages defensively: repeats, loops, foreign ``more`` links, no end.

The real LRS pages with small limits; the faulty pages come from a real HTTP server on
127.0.0.1 that serves scripted pages.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from tests.xapi import samples
from tests.xapi.conftest import settings_for
from tests.xapi.lrs_peer import HEADERS, LrsProcess
from xapi import reports
from xapi.builders import StatementBuilder
from xapi.delivery import LrsSettings


class ScriptedLrs:
    """Answers ``GET /xAPI/statements`` with ``pages[<page query value>]``."""

    def __init__(self) -> None:
        self.pages: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                owner.requests.append(self.path)
                key = self.path.partition("page=")[2] or "first"
                body = json.dumps(owner.pages[key]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/xAPI/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted() -> Iterator[ScriptedLrs]:
    server = ScriptedLrs()
    yield server
    server.stop()


def _statement(number: int) -> dict[str, Any]:
    return {"id": str(uuid.UUID(int=number)), "verb": {"id": "http://example.org/v"}}


def _ids(settings: LrsSettings, **kwargs: Any) -> list[str]:
    target = settings.default_target()
    assert target is not None
    found = reports.query_statements(target, {"verb": "v"}, settings=settings, **kwargs)
    return [item["id"] for item in found]


def test_repeated_statements_across_pages_are_reported_once(scripted: ScriptedLrs) -> None:
    scripted.pages = {
        "first": {"statements": [_statement(1), _statement(2)], "more": "/xAPI/s?page=2"},
        "2": {"statements": [_statement(2), _statement(3)], "more": "/xAPI/s?page=3"},
        "3": {"statements": [_statement(3)], "more": ""},
    }
    ids = _ids(settings_for(scripted.endpoint))
    assert ids == [str(uuid.UUID(int=n)) for n in (1, 2, 3)]


def test_a_more_loop_is_detected(scripted: ScriptedLrs) -> None:
    scripted.pages = {
        "first": {"statements": [_statement(1)], "more": "/xAPI/s?page=2"},
        "2": {"statements": [_statement(2)], "more": "/xAPI/s?page=3"},
        "3": {"statements": [_statement(3)], "more": "/xAPI/s?page=2"},
    }
    with pytest.raises(reports.LrsQueryError, match="loop"):
        _ids(settings_for(scripted.endpoint))
    assert len(scripted.requests) == 3


def test_a_more_link_to_another_origin_is_not_followed(scripted: ScriptedLrs) -> None:
    other = ScriptedLrs()
    try:
        other.pages = {"2": {"statements": [_statement(9)], "more": ""}}
        scripted.pages = {
            "first": {"statements": [_statement(1)], "more": f"{other.endpoint}s?page=2"},
        }
        with pytest.raises(reports.LrsQueryError, match="leaves the LRS"):
            _ids(settings_for(scripted.endpoint))
        assert other.requests == []  # our credentials never went there
    finally:
        other.stop()


def test_the_number_of_pages_is_bounded(scripted: ScriptedLrs) -> None:
    scripted.pages = {
        "first": {"statements": [], "more": "/xAPI/s?page=1"},
        **{str(n): {"statements": [], "more": f"/xAPI/s?page={n + 1}"} for n in range(1, 10)},
    }
    with pytest.raises(reports.LrsQueryError, match="more than 4 pages"):
        _ids(settings_for(scripted.endpoint), max_pages=4)
    assert len(scripted.requests) == 4


def test_a_page_that_is_not_json_is_an_error(scripted: ScriptedLrs) -> None:
    scripted.pages = {"first": {"no": "statements"}}
    with pytest.raises(reports.LrsQueryError, match="no statement list"):
        _ids(settings_for(scripted.endpoint))


@pytest.mark.lrs
@pytest.mark.parametrize("ascending", ["true", "false"])
def test_small_pages_of_the_real_lrs_give_every_statement_once(
    lrs: LrsProcess, ascending: str
) -> None:
    registration = uuid.uuid4()
    statements = samples.full_attempt(StatementBuilder(samples.BASE_URL), registration)
    response = requests.post(
        f"{lrs.endpoint}statements",
        json=statements,
        headers=HEADERS,
        auth=("socle", "secret"),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    settings = settings_for(lrs.endpoint)
    target = settings.default_target()
    assert target is not None
    params = {"registration": str(registration), "limit": "2", "ascending": ascending}
    found = [item["id"] for item in reports.query_statements(target, params, settings=settings)]
    assert sorted(found) == sorted(item["id"] for item in statements)
