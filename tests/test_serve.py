"""``socle serve`` as an operator runs it: the installed script, without an activated venv."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from lti_tool.demo_lrs import free_port


def test_serve_starts_gunicorn_without_the_venv_on_path(tmp_path: Path) -> None:
    """The script is called by its path, with a PATH that has no ``gunicorn``: the server must
    come from the interpreter running ``socle``, not from whatever PATH finds."""
    socle = Path(sys.executable).with_name("socle")
    assert socle.exists(), f"{socle}: the package is not installed in this interpreter's env"
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "SOCLE_INSTANCE_DIR": str(tmp_path / "instance"),
        "SOCLE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "SOCLE_SECRET_KEY": "serve-test-secret",
    }
    process = subprocess.Popen(
        [str(socle), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        answer = None
        deadline = time.monotonic() + 120  # a bound for a loaded machine, not a speed target
        while answer is None and process.poll() is None and time.monotonic() < deadline:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
            except (requests.ConnectionError, requests.Timeout):
                # Refused before gunicorn listens; accepted but unanswered while its worker
                # still loads the content on a busy machine: both mean « not yet ».
                time.sleep(0.2)
        if answer is None:
            process.kill()
            output = process.communicate(timeout=30)[0].decode(errors="replace")
            code = process.returncode
            raise AssertionError(f"socle serve did not answer (exit {code}):\n{output}")
        assert answer.status_code == 200
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.communicate(timeout=60)
