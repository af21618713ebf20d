"""Fixtures of the admin console tests: the real OpenID provider and signed-in clients."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.app import create_app
from tests.admin.oidc_peer import (
    CLIENT_ID,
    CLIENT_SECRET,
    OIDC_DIR,
    PACKAGE,
    OidcProvider,
)
from tests.peers import missing_peer

ADMIN_EMAIL = "alice.martin@lille.fr"


@pytest.fixture(scope="session")
def oidc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    node = shutil.which("node")
    if node is None:
        missing_peer("Node.js is not installed: the OpenID provider (oidc-provider) cannot run")
    if not PACKAGE.exists():
        missing_peer(f"oidc-provider is not installed: run `npm ci` in {OIDC_DIR} (or `make lrs`)")
    server = OidcProvider(str(node), tmp_path_factory.mktemp("oidc"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def oidc(oidc_server: OidcProvider) -> Iterator[OidcProvider]:
    oidc_server.reset()
    yield oidc_server
    oidc_server.reset()


def oidc_extra(provider: OidcProvider, **more: str) -> dict[str, str]:
    return {
        "SOCLE_OIDC_ISSUER": provider.issuer,
        "SOCLE_OIDC_CLIENT_ID": CLIENT_ID,
        "SOCLE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "SOCLE_ADMIN_EMAILS": ADMIN_EMAIL,
        **more,
    }


@pytest.fixture
def oidc_app(make_settings: Any, oidc: OidcProvider) -> Iterator[Flask]:
    application = create_app(make_settings(extra=oidc_extra(oidc)))
    yield application
    application.extensions["socle"].database.dispose()


@pytest.fixture
def oidc_client(oidc_app: Flask) -> FlaskClient:
    return oidc_app.test_client()
