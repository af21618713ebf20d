"""The world the fuzzer attacks: one app per module, its database put back before every
test (so no test depends on another), a registered platform and valid launches (learner in
the middle of a parcours, anonymous learner, teacher, deep linking), so that hostile
parameters reach the code behind the page token, not only the "no token" page.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, create_engine, delete, func, insert, select
from sqlalchemy.engine import Engine

from lti_tool.app import create_app
from lti_tool.config import PROJECT_DIR, Settings
from lti_tool.content_store import Catalogue, load_catalogue
from lti_tool.lti.launch import JwksCache
from tests.conftest import TEST_SECRET, _empty_tables
from tests.lti.forge import DL, SigningKey, login, register
from tests.player.agent import Agent
from tests.player.platform import GradebookPlatform


@functools.cache
def _platform_key() -> SigningKey:
    return SigningKey.generate()


@functools.cache
def _private_key(pem: str) -> Any:
    """Parsed once: parsing a PEM key costs more than signing with it."""
    return serialization.load_pem_private_key(pem.encode(), password=None)


@functools.cache
def _catalogue(content_dir: Path) -> Catalogue:
    return load_catalogue(content_dir)


@pytest.fixture(scope="module")
def fuzz_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app per module: building the launches below costs more than the fuzzing itself."""
    _empty_tables(database_url)
    settings = Settings(
        instance_dir=tmp_path_factory.mktemp("fuzz") / "instance",
        database_url=database_url,
        secret_key=TEST_SECRET,
        base_url="http://localhost",
        content_dir=PROJECT_DIR / "content",
        testing=True,
        # One client address makes every launch of the module: the per-address login limit
        # (tests/lti/test_login_limits.py) would refuse them before the fuzz gets anywhere.
        login_rate_limit="1000000 per minute",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("lti_tool.content_store.load_catalogue", _catalogue)
        application = create_app(settings)
    application.extensions["socle"].grades.stop()
    yield application
    application.extensions["socle"].grades.stop()
    application.extensions["socle"].database.dispose()


@pytest.fixture
def app(fuzz_app: Flask) -> Flask:
    return fuzz_app


def _tables(engine: Engine) -> list[Any]:
    """Every table of the migrated schema (models, outbox, LRS settings), from the database,
    parents first: a table added later is watched without a change here."""
    reflected = MetaData()
    reflected.reflect(engine)
    return [t for t in reflected.sorted_tables if t.name != "alembic_version"]


@dataclass(repr=False)
class World:
    """The app in a known state, the valid values the strategies draw from, and the client."""

    app: Flask
    platform: GradebookPlatform
    engine: Engine
    tables: list[Any]
    tokens: list[str]
    seq: int
    challenge_ids: list[str]
    answer_names: list[str]
    parcours_ids: list[str]
    job_profiles: list[str]
    attachments: list[str]
    xapi_paths: list[str]
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    client: FlaskClient | None = None
    state: str = ""
    id_tokens: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"World(platform={self.platform.issuer})"

    def snapshot(self) -> dict[str, tuple[int, list[str]]]:
        """Every table's row count and rows: what a refused request must leave as it was."""
        result: dict[str, tuple[int, list[str]]] = {}
        with self.engine.connect() as connection:
            for table in self.tables:
                count = connection.execute(select(func.count()).select_from(table)).scalar_one()
                rows = sorted(repr(tuple(row)) for row in connection.execute(select(table)))
                result[table.name] = (count, rows)
        return result

    def save(self) -> None:
        with self.engine.connect() as connection:
            self.rows = {
                t.name: [dict(r._mapping) for r in connection.execute(select(t))]
                for t in self.tables
            }

    def restore(self) -> None:
        """Back to the state saved after the launches, so no test sees another's leftovers."""
        with self.engine.begin() as connection:
            for table in reversed(self.tables):
                connection.execute(delete(table))
            for table in self.tables:
                if self.rows[table.name]:
                    connection.execute(insert(table), self.rows[table.name])
        ext = self.app.extensions["socle"]
        ext.jwks = JwksCache(
            ext.jwks.http, ext.settings.http_timeout, ext.settings.jwks_refetch_interval
        )
        ext.framing.invalidate()
        # A new browser that has just been through the OIDC login (state cookie set).
        self.client = self.app.test_client()
        self.state, nonce = login(self.client, self.platform)
        claims = self.platform.claims(nonce, lti_custom={"parcours": "sensibilisation-donnees"})
        key, kid = _private_key(self.platform.key.pem), self.platform.key.kid
        self.id_tokens = [
            jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid}),
            jwt.encode(
                self.platform.claims("another-nonce"), key, algorithm="RS256", headers={"kid": kid}
            ),
            jwt.encode(claims, key, algorithm="RS256", headers={"kid": "unknown-kid"}),
            "e30.e30.",
            "a.b.c",
        ]


@pytest.fixture(scope="module")
def _launched(fuzz_app: Flask) -> Iterator[World]:
    app = fuzz_app
    platform = GradebookPlatform(keys=[_platform_key()])
    platform.start()
    engine = create_engine(app.extensions["socle"].settings.database_url)
    try:
        register(app, platform)
        platform.tool_jwks = app.test_client().get("/lti/jwks").get_json()
        learner = Agent(app, platform)
        learner.launch()
        # One answer given, so that feedback and checkpoint pages have something to show.
        learner.answer(learner.start(), "wrong")
        page = learner.play()
        assert page.challenge_id, page.html
        anonymous = Agent(app, platform, sub=None, resource_link="activity-2")
        anonymous.launch()
        teacher = Agent(app, platform, teacher=True)
        teacher.launch()
        deep_linker = Agent(app, platform, teacher=True)
        deep_linker.launch(
            lti_message_type="LtiDeepLinkingRequest",
            lti_resource_link=None,
            lti_custom=None,
            **{
                DL + "deep_linking_settings": {
                    "deep_link_return_url": f"{platform.issuer}/deep-link/return",
                    "accept_types": ["ltiResourceLink"],
                    "accept_presentation_document_targets": ["iframe", "window"],
                }
            },
        )
        content = app.extensions["socle"].catalogue.content
        current = page.challenge_id or ""
        field_keys = sorted({f.key for c in content.challenges.values() for f in c.fields})
        attachments_dir = app.extensions["socle"].settings.content_dir / "attachments"
        world = World(
            app=app,
            platform=platform,
            engine=engine,
            tables=_tables(engine),
            tokens=[learner.token, anonymous.token, teacher.token, deep_linker.token],
            seq=page.seq,
            challenge_ids=[current, *sorted(content.challenges)[:3]],
            answer_names=[f"answer.{key}" for key in field_keys],
            parcours_ids=sorted(content.parcours),
            job_profiles=sorted(content.job_profiles),
            attachments=sorted(p.name for p in attachments_dir.iterdir())[:5],
            xapi_paths=[
                "activities/parcours/sensibilisation-donnees",
                f"activities/challenge/{current}",
                "activities/competence/1.1",
                "activities/nothing/x",
                "extensions/mastery",
                "profile",
            ],
        )
        world.save()
        yield world
    finally:
        engine.dispose()
        platform.stop()


@pytest.fixture
def world(_launched: World) -> World:
    _launched.restore()
    return _launched
