"""Fixtures for the demo LMS tests: a test tool served over HTTP, and the LMS around it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import flask
import pytest
from demo_lms_peer import LMS_BASE_URL, TestTool, ToolKey, add_activity
from flask.testing import FlaskClient

from lti_tool.demo_lms import create_demo_lms
from lti_tool.demo_lms.keys import KEY_FILENAME, load_or_create_platform_key


@pytest.fixture(scope="session")
def tool_key() -> ToolKey:
    """Generated once: RSA key generation is the slowest step of these tests."""
    return ToolKey("test-tool-key-1")


@pytest.fixture(scope="session")
def other_key() -> ToolKey:
    return ToolKey("test-tool-key-2")


@pytest.fixture(scope="session")
def _tool_server(tool_key: ToolKey) -> Iterator[TestTool]:
    with TestTool(tool_key).serving() as tool:
        yield tool


@pytest.fixture
def tool(_tool_server: TestTool, tool_key: ToolKey) -> TestTool:
    """The test tool, reset to its first key before each test."""
    _tool_server.key = tool_key
    _tool_server.published = [tool_key]
    _tool_server.jwks_fetches = 0
    return _tool_server


@pytest.fixture(scope="session")
def lms_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One LMS key for the whole session; `test_demo_lms_state` checks key generation itself."""
    directory = tmp_path_factory.mktemp("lms-key")
    load_or_create_platform_key(directory)
    return directory / KEY_FILENAME


@pytest.fixture
def data_dir(tmp_path: Path, lms_key_file: Path) -> Path:
    """A fresh data directory holding a copy of the session's LMS key (saves a key generation
    per test)."""
    directory = tmp_path / "demo-lms"
    directory.mkdir()
    shutil.copy(lms_key_file, directory / KEY_FILENAME)
    return directory


@pytest.fixture
def app(tool: TestTool, data_dir: Path) -> flask.Flask:
    return create_demo_lms(LMS_BASE_URL, tool.endpoints, data_dir)


@pytest.fixture
def client(app: flask.Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def activity_id(client: FlaskClient, tool: TestTool) -> str:
    """One activity added by the teacher through a real Deep Linking round trip."""
    return add_activity(client, tool, LMS_BASE_URL)
