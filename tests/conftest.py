"""Fixtures around the app factory (``app``, ``client``, ``runner``) and the database.

SQLite always; PostgreSQL when ``SOCLE_TEST_DATABASE_URL`` is set (CI). The schema is built
by the real migrations once per session; each test starts from empty tables.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import MetaData, create_engine, text

from lti_tool.app import create_app
from lti_tool.config import PROJECT_DIR, Settings
from lti_tool.migrate import upgrade_database
from tests.peers import missing_peer

TEST_SECRET = "test-secret-key-not-for-production"


def _share_the_repository_content() -> None:
    """Load the repository's own ``content/`` once per test process, not once per app.

    Hundreds of tests build an app on the real content (about a second of loading each, most
    of a CI pass's time otherwise). The loaded ``Content`` is immutable, so every app of the
    process may share one. Only the repository's directory is shared, and only while none of
    its files changed (their sizes and modification times are the key): content trees the
    tests copy and edit are loaded afresh every time.
    """
    import lti_tool.content.loader as loader

    load = loader.load_content
    root = (PROJECT_DIR / "content").resolve()
    loaded: dict[tuple[tuple[str, int, int], ...], Any] = {}

    def fingerprint() -> tuple[tuple[str, int, int], ...]:
        return tuple(
            (str(path), path.stat().st_mtime_ns, path.stat().st_size)
            for path in sorted(root.rglob("*"))
            if path.is_file()
        )

    def shared(content_dir: Path, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or Path(content_dir).resolve() != root:
            return load(content_dir, *args, **kwargs)
        key = fingerprint()
        if key not in loaded:
            loaded.clear()
            loaded[key] = load(content_dir)
        return loaded[key]

    loader.load_content = shared  # type: ignore[assignment]


_share_the_repository_content()


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, launched once for the whole session.

    One Playwright instance per process: its sync API cannot be started twice at once, so
    every browser test shares this fixture.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_peer("Playwright for Python is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        missing_peer(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(autouse=True)
def attempt_seeds(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attempts started in a test draw their challenges from seeds fixed by the test's name:
    what a test meets (a timed challenge first, say) is the same on every run, in any order
    and on any database, instead of left to chance."""
    seeds = random.Random(request.node.nodeid)
    monkeypatch.setattr(
        "lti_tool.player.service.new_attempt_seed", lambda: seeds.randrange(2**31 - 1)
    )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("SOCLE_TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'socle-test.sqlite3'}"
    upgrade_database(url)
    return url


def _empty_tables(url: str) -> None:
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    tables = [t for t in reversed(meta.sorted_tables) if t.name != "alembic_version"]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            if names:
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())
    engine.dispose()


@pytest.fixture
def clean_database(database_url: str) -> str:
    _empty_tables(database_url)
    return database_url


@pytest.fixture
def make_settings(clean_database: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    def _make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "instance_dir": tmp_path / "instance",
            "database_url": clean_database,
            "secret_key": TEST_SECRET,
            "base_url": "http://localhost",
            "content_dir": PROJECT_DIR / "content",
            "testing": True,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return _make


@pytest.fixture
def make_app() -> Iterator[Callable[[Settings], Flask]]:
    """``create_app`` for tests that need their own settings: every app made is disposed at
    the end of the test, so no pooled database connection is left to the garbage collector."""
    made: list[Flask] = []

    def _make(settings: Settings) -> Flask:
        application = create_app(settings)
        made.append(application)
        return application

    yield _make
    for application in made:
        # The grade-sync thread may be in a round (an attempt finished in the test): it ends
        # before the pool goes, or its connection would be returned to a pool no one closes.
        application.extensions["socle"].grades.stop()
        application.extensions["socle"].database.dispose()


@pytest.fixture
def app(make_settings, make_app) -> Flask:  # type: ignore[no-untyped-def]
    return make_app(make_settings())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()
