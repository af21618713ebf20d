"""The tool's RSA private keys are stored encrypted, on SQLite and on PostgreSQL.

Migration 0002 encrypts the clear keys of a 0001 database with the secret key; the tool then
reads them back (same ``kid``, same JWKS), and refuses plainly to work with another secret.
"""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lti_tool.db import Database
from lti_tool.lti.keys import (
    KeySecretError,
    KeyService,
    generate_private_pem,
    public_jwk,
    thumbprint,
)
from lti_tool.migrate import downgrade_database, upgrade_database

SECRET = "the-secret-of-this-deployment"


def _backends() -> list[str]:
    """SQLite always; PostgreSQL too when the run has one (CI's PostgreSQL pass)."""
    postgres = os.environ.get("SOCLE_TEST_DATABASE_URL", "").startswith("postgresql")
    return ["sqlite", "postgresql"] if postgres else ["sqlite"]


@pytest.fixture(params=_backends())
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own for each test (migrations go back and forth in it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'keys.sqlite3'}"
        return
    base = os.environ["SOCLE_TEST_DATABASE_URL"]
    name = f"socle_keys_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _insert_clear_key(url: str) -> tuple[str, str]:
    pem = generate_private_pem()
    kid = thumbprint(pem)
    engine = create_engine(url)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO tool_key (kid, private_pem, created_at, not_before) "
                "VALUES (:kid, :pem, :now, :now)"
            ),
            {"kid": kid, "pem": pem, "now": now},
        )
    engine.dispose()
    return kid, pem


def _stored(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as connection:
        value = connection.execute(text("SELECT private_key_encrypted FROM tool_key")).scalar_one()
    engine.dispose()
    return str(value)


def _service(database: Database, secret: str) -> Iterator[KeyService]:
    with database.session() as session, session.begin():
        yield KeyService(session, secret_key=secret, publish_delay=3600, retention=86400)


def test_upgrade_encrypts_a_clear_key_that_the_tool_reads_back(empty_database: str) -> None:
    upgrade_database(empty_database, "0001")
    kid, pem = _insert_clear_key(empty_database)

    upgrade_database(empty_database, secret_key=SECRET)

    stored = _stored(empty_database)
    assert "PRIVATE KEY" not in stored
    assert pem not in stored
    database = Database(empty_database)
    try:
        for keys in _service(database, SECRET):
            key = keys.ensure_key()
            assert key.kid == kid
            assert key.private_pem == pem
            assert keys.jwks()["keys"] == [public_jwk(pem, kid)]
    finally:
        database.dispose()


def test_another_secret_is_refused_with_a_clear_error(empty_database: str) -> None:
    upgrade_database(empty_database, "0001")
    _insert_clear_key(empty_database)
    upgrade_database(empty_database, secret_key=SECRET)

    database = Database(empty_database)
    try:
        with database.session() as session:
            keys = KeyService(
                session, secret_key="another-secret", publish_delay=3600, retention=86400
            )
            with pytest.raises(KeySecretError, match="SOCLE_SECRET_KEY"):
                keys.ensure_key()
    finally:
        database.dispose()
    # Going back needs the secret too; with another one it stops before changing anything.
    with pytest.raises(KeySecretError, match="SOCLE_SECRET_KEY"):
        downgrade_database(empty_database, "0001", secret_key="another-secret")


def test_downgrade_restores_the_clear_key(empty_database: str) -> None:
    upgrade_database(empty_database, "0001")
    kid, pem = _insert_clear_key(empty_database)
    upgrade_database(empty_database, secret_key=SECRET)
    downgrade_database(empty_database, "0001", secret_key=SECRET)
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT kid, private_pem FROM tool_key")).one()
    engine.dispose()
    assert tuple(row) == (kid, pem)


def test_new_keys_are_stored_encrypted(empty_database: str) -> None:
    upgrade_database(empty_database, secret_key=SECRET)
    database = Database(empty_database)
    try:
        for keys in _service(database, SECRET):
            first = keys.ensure_key()
            second = keys.rotate(0)
            pems = {first.private_pem, second.private_pem}
    finally:
        database.dispose()
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        stored = list(
            connection.execute(text("SELECT private_key_encrypted FROM tool_key")).scalars()
        )
    engine.dispose()
    assert len(stored) == 2
    assert not any("PRIVATE KEY" in value for value in stored)
    assert not pems & set(stored)


def test_sqlite_file_and_instance_folder_are_private(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    url = f"sqlite:///{instance / 'socle.sqlite3'}"
    old_umask = os.umask(0o022)
    try:
        upgrade_database(url, secret_key=SECRET)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((instance / "socle.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    for companion in instance.glob("socle.sqlite3-*"):
        assert stat.S_IMODE(companion.stat().st_mode) == 0o600, companion


def test_an_existing_world_readable_sqlite_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    path.touch()
    os.chmod(path, 0o644)
    upgrade_database(f"sqlite:///{path}", secret_key=SECRET)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
