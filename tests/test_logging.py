"""No log line can be forged: control characters in logged values come out escaped.

The app factory installs the escaping; the tests read what a real handler writes.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.logging_setup import EscapingFilter, escape

HOSTILE = "boom\r\n2026-01-01 INFO lti_tool: launch accepted: admin\x1b[2J\x00\u2028end"


@pytest.fixture
def written(app: Flask) -> Iterator[io.StringIO]:
    """What a plain stream handler on the root logger writes while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_a_platform_error_description_cannot_forge_log_lines(
    client: FlaskClient, written: io.StringIO
) -> None:
    response = client.post(
        "/lti/launch", data={"error": "login_required", "error_description": HOSTILE}
    )
    assert response.status_code == 400
    lines = written.getvalue().splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert "platform_error" in line
    assert "boom\\r\\n2026-01-01 INFO" in line
    assert "\\x1b[2J\\x00\\u2028end" in line
    assert not any(c in line for c in "\r\x1b\x00\u2028")


def test_every_logger_and_argument_kind_is_escaped(app: Flask, written: io.StringIO) -> None:
    log = logging.getLogger("some.library")
    log.warning("value %s, repr %r, count %d, ratio %.1f", "a\nb", "c\rd", 3, 0.5)
    log.warning("mapping %(x)s", {"x": "e\nf"})
    log.warning(f"f-string {'g' + chr(10) + 'h'}")
    log.warning(ValueError("i\nj"))
    app.logger.warning("object %s", ValueError("k\nl"))
    assert written.getvalue().splitlines() == [
        "WARNING some.library: value a\\nb, repr 'c\\rd', count 3, ratio 0.5",
        "WARNING some.library: mapping e\\nf",
        "WARNING some.library: f-string g\\nh",
        "WARNING some.library: i\\nj",
        "WARNING lti_tool.app: object k\\nl",
    ]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("tab\there", "tab\\there"),
        ("nul\x00", "nul\\x00"),
        ("del\x7f", "del\\x7f"),
        ("c1\x85", "c1\\x85"),
        ("bidi\u202e", "bidi\\u202e"),
        ("plain é ü 中", "plain é ü 中"),
    ],
)
def test_escape(raw: str, shown: str) -> None:
    assert escape(raw) == shown


def test_the_filter_can_be_used_in_a_logging_configuration() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "a %s", ("b\nc",), None)
    assert EscapingFilter().filter(record)
    assert record.getMessage() == "a b\\nc"
