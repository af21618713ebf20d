"""Gunicorn settings that ``socle serve`` loads (``--config python:lti_tool.gunicorn_conf``).

* ``child_exit``: a worker that ends (restart, crash, scale-down) is marked dead for
  prometheus-client's multiprocess mode, so its gauges leave ``/metrics`` while its
  counters are kept (the mode merges the files of dead workers into the totals).
* ``graceful_timeout``: on SIGTERM (a deploy, ``docker stop``) gunicorn stops accepting
  connections and gives requests in flight this long to finish. Each answer is one
  transaction, so a request cut after it is simply not recorded (the agent's form is
  still there); 30 s is far above a page's worst time.
* ``keepalive``: how long an idle keep-alive connection stays open (gunicorn's default is
  2 s). A client — the reverse proxy above all — that sends its next request on a
  connection the server is closing gets « connection reset »; a proxy does not retry a POST
  then, and the agent's answer fails. The server must therefore keep idle connections
  longer than any client keeps them: 75 s, above the 60 s the Caddyfile gives its upstream
  connections. The threaded workers hold idle connections in their poller, not in a thread.
  (Found by ``benchmarks/load.py``: agents with 1–3 s between pages met resets at 50 and
  200 concurrent agents with the default.)
"""

from __future__ import annotations

import os
from typing import Any

graceful_timeout = int(os.environ.get("SOCLE_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("SOCLE_KEEPALIVE", "75"))


def child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
