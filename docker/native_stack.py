"""``make stack``: the services of ``docker/compose.yaml``, started natively on this machine.

Same roles, same commands, no Docker:

* ``socle db upgrade`` once (the ``migrate`` service), then
* two tool nodes, ``socle serve`` on 127.0.0.1:8001 and :8002 (the ``tool`` replicas),
* ``socle worker``, the one background process (xAPI delivery, grade sync, purges),
* PostgreSQL: the local server (``SOCLE_STACK_SERVER``, default 127.0.0.1:5432, user
  postgres), database ``socle_stack`` created if missing (kept between runs),
* the LRS: Learning Locker's statement service from ``tests/lrs`` (``make lrs``) on
  127.0.0.1:8100 — Ralph, the compose file's LRS, wants MongoDB or Elasticsearch, which this
  script does not start; statements live in the LRS's memory,
* Caddy on https://localhost:8443 with its internal CA, when ``caddy`` is installed
  (Debian: ``apt-get install caddy``); without it the nodes are used directly.

Logs go to ``instance/stack/*.log``. Ctrl-C (or SIGTERM) stops everything gracefully.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NODES = ("127.0.0.1:8001", "127.0.0.1:8002")
LRS_PORT = 8100
PROXY = "localhost:8443"


def main() -> int:
    import psycopg
    import requests

    from lti_tool.demo_lrs import LocalLrs, why_unavailable

    server = os.environ.get("SOCLE_STACK_SERVER", "postgresql://postgres@127.0.0.1:5432")
    database = os.environ.get("SOCLE_STACK_DATABASE", "socle_stack")
    logs = ROOT / "instance" / "stack"
    logs.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{database}"')  # type: ignore[arg-type]
    socle = str(Path(sys.executable).with_name("socle"))
    public = f"https://{PROXY}" if shutil.which("caddy") else f"http://{NODES[0]}"
    env = {
        **os.environ,
        "SOCLE_DATABASE_URL": f"{server.replace('postgresql://', 'postgresql+psycopg://')}"
        f"/{database}",
        "SOCLE_BASE_URL": os.environ.get("SOCLE_BASE_URL", public),
        "SOCLE_INSTANCE_DIR": str(ROOT / "instance"),
        "SOCLE_LOG_FORMAT": os.environ.get("SOCLE_LOG_FORMAT", "json"),
    }
    lrs = None
    missing = why_unavailable()
    if missing is None:
        lrs = LocalLrs(logs / "lrs", port=LRS_PORT)
        lrs.start()
        env.update(
            SOCLE_LRS_ENDPOINT=lrs.endpoint,
            SOCLE_LRS_USERNAME="socle",
            SOCLE_LRS_PASSWORD="stack-secret",  # noqa: S106 - the local LRS takes any
        )
    else:
        print(f"no LRS ({missing}): statements wait in the outbox", flush=True)
    subprocess.run([socle, "db", "upgrade"], env=env, check=True)  # noqa: S603
    processes: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(name: str, argv: list[str]) -> None:
        log = (logs / f"{name}.log").open("ab")
        processes[name] = subprocess.Popen(  # noqa: S603
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    for index, bind in enumerate(NODES, start=1):
        spawn(f"tool{index}", [socle, "serve", "--bind", bind, "--workers", "2"])
    spawn("worker", [socle, "worker"])
    if shutil.which("caddy"):
        caddyfile = logs / "Caddyfile"
        caddyfile.write_text(
            f"{PROXY} {{\n\ttls internal\n\treverse_proxy {' '.join(NODES)} {{\n"
            "\t\tlb_policy round_robin\n\t\thealth_uri /readyz\n"
            "\t\ttransport http {\n\t\t\tkeepalive 60s\n\t\t}\n\t}\n}\n"
        )
        spawn("caddy", ["caddy", "run", "--config", str(caddyfile), "--adapter", "caddyfile"])
    else:
        print("caddy is not installed: no TLS proxy (Debian: apt-get install caddy)")
    for bind in NODES:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://{bind}/readyz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            print(f"the node on {bind} is not ready: see {logs}/", file=sys.stderr)
    print(
        f"Socle stack up: {env['SOCLE_BASE_URL']} (nodes {', '.join(NODES)}), metrics at "
        f"http://{NODES[0]}/metrics, logs in {logs}/. Ctrl-C stops it.",
        flush=True,
    )
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not stopping:
            ended = [name for name, p in processes.items() if p.poll() is not None]
            if ended:
                print(f"{', '.join(ended)} stopped: see {logs}/", file=sys.stderr)
                break
            time.sleep(1)
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        if lrs is not None:
            lrs.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
