"""A local LRS for ``socle demo``: Learning Locker's statement service (``xapi-statements``),
run with Node from ``tests/lrs`` when Node and that package are installed (``make lrs``).

Without them the demo still runs: statements wait in the outbox and ``socle xapi status``
says so. The same class starts the LRS peer of the tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import requests

from lti_tool.config import PROJECT_DIR

LRS_SERVER = (
    PROJECT_DIR / "tests" / "lrs" / "node_modules" / "xapi-statements" / "dist" / "server.js"
)
LRS_USERNAME = "socle"
LRS_PASSWORD = "demo-secret"  # noqa: S105 - the local LRS's test auth accepts any credentials


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def why_unavailable() -> str | None:
    """None when a local LRS can start; otherwise what is missing, in one line."""
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if not LRS_SERVER.exists():
        return "the LRS package is not installed (run `make lrs`)"
    return None


class LocalLrs:
    """The Node LRS as a child process, with its data in memory; can be stopped and restarted."""

    def __init__(self, workdir: Path, port: int | None = None, node: str | None = None) -> None:
        self.node = node or shutil.which("node") or "node"
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "lrs.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI/"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 60.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "AUTH_REPO": "test",
            "EVENTS_REPO": "test",
            "MODELS_REPO": "memory",
            "STORAGE_REPO": "local",
            "EXPRESS_PORT": str(self.port),
            "FS_LOCAL_STORAGE_DIR": str(self.workdir / "storage"),
            "EXPRESS_MORGAN_DIRECTORY": str(self.workdir / "access-logs"),
            "WINSTON_CONSOLE_LEVEL": "error",
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
                [self.node, str(LRS_SERVER)],
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the LRS exited: {self.log_path.read_text()[-2000:]}")
            try:
                with requests.get(f"{self.endpoint}about", timeout=1) as response:
                    if response.status_code == 200:
                        return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the LRS did not answer within {timeout}s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
