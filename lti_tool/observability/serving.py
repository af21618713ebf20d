"""Process set-up of ``socle serve`` for the metrics (before gunicorn replaces the process)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lti_tool.observability.metrics import MULTIPROC_ENV


def prepare_metrics_dir() -> Path:
    """An empty directory for prometheus-client's multiprocess files, named in the environment
    gunicorn and its workers inherit.

    An operator's ``PROMETHEUS_MULTIPROC_DIR`` is emptied (files of a previous run would add
    old counts to the new one); without it, a fresh private temporary directory is used, so
    two nodes on one host never share files.
    """
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        path = Path(configured)
        if path.exists():
            for child in path.iterdir():
                if child.is_file() and child.suffix == ".db":
                    child.unlink()
        path.mkdir(parents=True, exist_ok=True)
    else:
        path = Path(tempfile.mkdtemp(prefix="socle-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)
    return path


__all__ = ["prepare_metrics_dir"]
