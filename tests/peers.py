"""Skipping, or failing in CI, when a real peer (Node LRS, Chromium, PostgreSQL) is absent."""

from __future__ import annotations

import os

import pytest


def peers_required() -> bool:
    return os.environ.get("SOCLE_REQUIRE_PEERS", "") in {"1", "true", "yes"}


def missing_peer(reason: str) -> None:
    """Skip with ``reason``; with ``SOCLE_REQUIRE_PEERS=1`` (CI) fail instead."""
    if peers_required():
        pytest.fail(f"required peer missing: {reason}")
    pytest.skip(reason)
