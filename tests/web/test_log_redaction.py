"""The page token never reaches an access log: werkzeug's server (demo) and gunicorn's."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from flask import Flask
from gunicorn.config import Config
from werkzeug.serving import make_server

from lti_tool.web.logs import GunicornLogger, redact

SECRET = "eyJsIjoiMTIzIn0.SECRET-TOKEN-VALUE"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"GET /play?lt={SECRET} HTTP/1.1", "GET /play?lt=[redacted] HTTP/1.1"),
        (f"GET /play/feedback?seq=2&lt={SECRET}&x=1", "GET /play/feedback?seq=2&lt=[redacted]&x=1"),
        (f"lt={SECRET}&seq=1", "lt=[redacted]&seq=1"),
        (f"/next=%2Fplay%3Flt%3D{SECRET}", "/next=%2Fplay%3Flt%3D[redacted]"),
        ("GET /play?alt=1&salt=2", "GET /play?alt=1&salt=2"),
        (
            f"GET /lti/register?openid_configuration=https://m.example/c&registration_token={SECRET}",
            "GET /lti/register?openid_configuration=https://m.example/c&registration_token=[redacted]",
        ),
    ],
)
def test_redact(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_werkzeug_server_log_has_no_token(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            response = requests.get(
                f"http://127.0.0.1:{server.server_port}/activity",
                params={"lt": SECRET},
                timeout=5,
            )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert response.status_code == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/activity?lt=[redacted]" in line for line in lines), lines
    assert not any(SECRET in line for line in lines)
    assert SECRET not in caplog.text


def test_gunicorn_access_log_has_no_token(tmp_path: Path) -> None:
    log_file = tmp_path / "access.log"
    config = Config()
    config.set("accesslog", str(log_file))
    config.set(
        "access_log_format",
        '%(h)s "%(r)s" %(s)s %(U)s?%(q)s "%(f)s" %({raw_uri}e)s %({referer}i)s',
    )
    logger = GunicornLogger(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/play?lt={SECRET}",
        "PATH_INFO": "/play",
        "QUERY_STRING": f"lt={SECRET}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"http://127.0.0.1/play/feedback?seq=1&lt={SECRET}",
    }
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    logger.access(response, request, environ, timedelta(milliseconds=3))
    for handler in logging.getLogger("gunicorn.access").handlers:
        handler.flush()
    written = log_file.read_text(encoding="utf-8")
    assert "/play?lt=[redacted]" in written
    assert SECRET not in written
    logger.close_on_exec()
    for handler in list(logging.getLogger("gunicorn.access").handlers):
        handler.close()
        logging.getLogger("gunicorn.access").removeHandler(handler)
