"""The ``socle`` command as an administrator uses it: registrations and keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from lti_tool.cli import main


@pytest.fixture
def cli(clean_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SOCLE_DATABASE_URL", clean_database)
    monkeypatch.setenv("SOCLE_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("SOCLE_SECRET_KEY", "cli-test-secret")
    return CliRunner()


MOODLE = [
    "platform",
    "add",
    "--issuer",
    "https://moodle.example.org",
    "--client-id",
    "abc123",
    "--deployment-id",
    "1",
    "--auth-login-url",
    "https://moodle.example.org/mod/lti/auth.php",
    "--auth-token-url",
    "https://moodle.example.org/mod/lti/token.php",
    "--key-set-url",
    "https://moodle.example.org/mod/lti/certs.php",
]


def test_platform_add_list_remove(cli: CliRunner) -> None:
    result = cli.invoke(main, MOODLE)
    assert result.exit_code == 0, result.output
    assert "registered https://moodle.example.org client abc123" in result.output
    # same issuer, a second client id; and one more deployment for the first
    second = [*MOODLE]
    second[second.index("abc123")] = "def456"
    assert cli.invoke(main, second).exit_code == 0
    more = [*MOODLE]
    more[more.index("1")] = "2"
    assert cli.invoke(main, more).exit_code == 0

    listing = cli.invoke(main, ["platform", "list"])
    assert listing.exit_code == 0
    assert listing.output.count("issuer: https://moodle.example.org") == 2
    assert "deployments: 1, 2" in listing.output
    assert "deployments: 1\n" in listing.output

    ambiguous = cli.invoke(main, ["platform", "remove", "--issuer", "https://moodle.example.org"])
    assert ambiguous.exit_code == 1
    assert "several client ids" in ambiguous.output
    removed = cli.invoke(
        main,
        ["platform", "remove", "--issuer", "https://moodle.example.org", "--client-id", "def456"],
    )
    assert removed.exit_code == 0, removed.output
    one = cli.invoke(
        main,
        [
            "platform",
            "remove",
            "--issuer",
            "https://moodle.example.org",
            "--client-id",
            "abc123",
            "--deployment-id",
            "2",
        ],
    )
    assert one.exit_code == 0
    listing = cli.invoke(main, ["platform", "list"])
    assert listing.output.count("issuer:") == 1
    assert "deployments: 1\n" in listing.output


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "--key-set-url",
            "http://moodle.example.org/certs.php",
            "key set URL must be an https URL",
        ),
        ("--issuer", "moodle", "issuer must be an https URL"),
        ("--client-id", "  ", "client id must not be empty"),
    ],
)
def test_platform_add_refuses_bad_input_with_one_clear_line(
    cli: CliRunner, option: str, value: str, message: str
) -> None:
    args = [*MOODLE]
    args[args.index(option) + 1] = value
    result = cli.invoke(main, args)
    assert result.exit_code == 1
    assert f"Error: {message}" in result.output
    assert "Traceback" not in result.output
    assert "no platform registered" in cli.invoke(main, ["platform", "list"]).output


def test_keys_list_and_rotate(cli: CliRunner) -> None:
    first = cli.invoke(main, ["keys", "list"])
    assert first.exit_code == 0
    assert first.output.count("active") == 1
    rotated = cli.invoke(main, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    listing = cli.invoke(main, ["keys", "list"]).output
    assert listing.count("active") == 1
    assert listing.count("next") == 1
    assert listing.count("published") == 2
    now = cli.invoke(main, ["keys", "rotate", "--delay", "0"])
    assert now.exit_code == 0
    listing = cli.invoke(main, ["keys", "list"]).output
    assert listing.count("active") == 1
    assert listing.count("retired") == 1  # the first key, still published for retention


def test_keys_rotate_refuses_a_negative_delay(cli: CliRunner) -> None:
    result = cli.invoke(main, ["keys", "rotate", "--delay", "-5"])
    assert result.exit_code == 1
    assert "--delay must be zero or more seconds" in result.output
