"""``/metrics`` under ``socle serve``: one scrape counts the requests of every worker.

Gunicorn's workers are separate processes; without prometheus-client's multiprocess mode a
scrape would see only the worker that answered it. With two workers, the sum of the
request counters must still equal the requests sent, whichever worker took each. The access
log is JSON when ``SOCLE_LOG_FORMAT=json``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from lti_tool.demo_lrs import free_port

REQUESTS = 12


def _healthz_count(body: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if (
                sample.name == "socle_http_request_duration_seconds_count"
                and sample.labels.get("route") == "/healthz"
            ):
                total += sample.value
    return total


def test_one_scrape_counts_every_worker_and_logs_are_json(tmp_path: Path) -> None:
    socle = Path(sys.executable).with_name("socle")
    port = free_port()
    env = {
        **os.environ,
        "SOCLE_INSTANCE_DIR": str(tmp_path / "instance"),
        "SOCLE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "SOCLE_SECRET_KEY": "serve-test-secret",
        "SOCLE_LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(socle), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a bound for a loaded machine, not a speed target
        ready = False
        while not ready and process.poll() is None and time.monotonic() < deadline:
            try:
                ready = requests.get(f"{base}/readyz", timeout=30).status_code == 200
            except requests.RequestException:
                time.sleep(0.2)
        assert ready, log_path.read_text(errors="replace")
        before = _healthz_count(requests.get(f"{base}/metrics", timeout=30).text)
        for _ in range(REQUESTS):
            # a new connection each time: gunicorn's workers take turns accepting them
            with requests.Session() as fresh:
                response = fresh.get(f"{base}/healthz", timeout=30)
                assert response.status_code == 200
        body = requests.get(f"{base}/metrics", timeout=30).text
        assert _healthz_count(body) == before + REQUESTS
        assert "socle_outbox_pending" in body
        workers_seen = {p.name for p in (tmp_path / "metrics").glob("*.db")}
        assert workers_seen  # the files of the multiprocess mode are where they were asked
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    lines = [line for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = [json.loads(line) for line in lines if '"path": "/healthz"' in line]
    assert len(access) >= REQUESTS
    assert {entry["status"] for entry in access} == {200}
    assert all(entry["logger"] == "gunicorn.access" for entry in access)
