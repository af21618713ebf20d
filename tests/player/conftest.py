"""Fixtures of the player tests: the app (from ``tests/conftest.py``), a registered platform
that can also play the gradebook, and agents that launch from it.

The ``app`` fixture is the one of ``tests/conftest.py`` with settings a test can change by
parametrizing ``settings_overrides`` (``retry_delay``, ``http_timeout``). The background
grade sender is stopped in every test: tests call ``GradeSync.run_once`` themselves, so what
reaches the gradebook never depends on thread timing. The one test about the background
sender builds its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lti_tool.app import create_app
from lti_tool.content_store import Catalogue, load_catalogue
from lti_tool.player.grades import CachingServiceConnector
from tests.lti.forge import SigningKey, register
from tests.player.agent import Agent
from tests.player.platform import GradebookPlatform


@functools.cache
def _platform_key() -> SigningKey:
    """One RSA key for every test platform: generating one per test costs more than the test."""
    return SigningKey.generate()


class PlayerClock:
    """The player's clock, started at the test's start and moved by the test, not by the
    machine: each reading is one millisecond after the previous one.

    Times a test writes (a timer started, an attempt finished) are set relative to it, and the
    player judges answers and retries on it: a margin of two seconds stays two seconds however
    long the requests take on a loaded machine, and two events still happen in order.
    """

    TICK = timedelta(milliseconds=1)

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        self.now += self.TICK
        return self.now


@pytest.fixture
def player_clock(monkeypatch: pytest.MonkeyPatch) -> PlayerClock:
    clock = PlayerClock()
    monkeypatch.setattr("lti_tool.player.service.utcnow", clock)
    return clock


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Settings a test changes, by parametrizing this name (``retry_delay``, timeouts)."""
    return {}


@functools.cache
def _catalogue(content_dir: Path) -> Catalogue:
    return load_catalogue(content_dir)


@pytest.fixture
def app(
    make_settings: Callable[..., Any],
    settings_overrides: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Flask]:
    # The content is immutable once loaded: reading and validating its files once for all
    # these tests, instead of once per app, takes a third off their running time.
    monkeypatch.setattr("lti_tool.content_store.load_catalogue", _catalogue)
    application = create_app(make_settings(**settings_overrides))
    yield application
    application.extensions["socle"].grades.stop()
    application.extensions["socle"].database.dispose()


@pytest.fixture
def platform(app: Flask) -> Iterator[GradebookPlatform]:
    app.extensions["socle"].grades.stop()
    # Access tokens are cached per (issuer, client id) for the process; a new test server may
    # reuse a port of an earlier one, and must not be handed a token it never issued.
    CachingServiceConnector._tokens.clear()
    test_platform = GradebookPlatform(keys=[_platform_key()])
    test_platform.start()
    try:
        register(app, test_platform)
        test_platform.tool_jwks = app.test_client().get("/lti/jwks").get_json()
        yield test_platform
    finally:
        test_platform.stop()


@pytest.fixture
def make_agent(app: Flask, platform: GradebookPlatform) -> Callable[..., Agent]:
    def _make(**options: Any) -> Agent:
        return Agent(app, platform, **options)

    return _make


@pytest.fixture
def agent(make_agent: Callable[..., Agent]) -> Agent:
    return make_agent()
