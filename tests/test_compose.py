"""``docker/compose.yaml`` holds together (Docker cannot run here: the file is read, not run).

What an operator would otherwise discover at ``docker compose up``: a dependency on a service
that does not exist, a ``socle`` command that is not one, a proxy pointing at the wrong port,
a volume used but not declared, a periodic job left as a shell loop.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from lti_tool.cli import main as socle_cli

DOCKER = Path(__file__).resolve().parents[1] / "docker"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    assert isinstance(document, dict)
    return document


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return command if isinstance(command, list) else command.split()


def test_every_dependency_names_a_service_with_a_usable_condition(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name, service in services.items():
        for needed, spec in (service.get("depends_on") or {}).items():
            assert needed in services, f"{name} depends on unknown service {needed}"
            condition = spec["condition"]
            if condition == "service_healthy":
                check = services[needed].get("healthcheck", {})
                assert check, f"{needed} has no healthcheck"
                assert not check.get("disable"), f"{needed} has its healthcheck disabled"
            elif condition == "service_completed_successfully":
                assert services[needed].get("restart") == "no", f"{needed} is not one-shot"


def test_the_tool_runs_replicated_behind_the_tls_proxy(compose: dict[str, Any]) -> None:
    services = compose["services"]
    tool = services["tool"]
    replicas = str(tool["deploy"]["replicas"])
    assert re.fullmatch(r"\$\{SOCLE_TOOL_REPLICAS:-([2-9]|\d\d)\}|[2-9]|\d\d", replicas)
    assert "ports" not in tool  # only the proxy faces the network
    bind = _command(tool)[_command(tool).index("--bind") + 1]
    port = bind.rsplit(":", 1)[1]
    assert port in [str(p) for p in tool["expose"]]
    caddyfile = (DOCKER / "caddy" / "Caddyfile").read_text()
    assert re.search(rf"name tool\s+port {port}\b", caddyfile)
    assert "health_uri /readyz" in caddyfile
    caddy = services["caddy"]
    assert "./caddy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert {"80:80", "443:443"} <= set(caddy["ports"])


def test_one_background_process_and_one_migration(compose: dict[str, Any]) -> None:
    services = compose["services"]
    socle_services = {
        name: _command(service)
        for name, service in services.items()
        if _command(service)[:1] == ["socle"]
    }
    assert socle_services["migrate"] == ["socle", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    background = [name for name, argv in socle_services.items() if argv[1:2] == ["worker"]]
    assert background == ["worker"]
    for name, service in services.items():
        text = " ".join(_command(service))
        assert "while true" not in text, f"{name} is a shell loop"
        assert "sleep" not in text, f"{name} is a shell loop"
    for name in ("tool", "worker"):
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("service", ["migrate", "tool", "worker"])
def test_each_socle_command_exists(compose: dict[str, Any], service: str) -> None:
    argv = _command(compose["services"][service])[1:]
    context = socle_cli.make_context("socle", [*argv, "--help"], resilient_parsing=True)
    group: click.Command = socle_cli
    for word in argv:
        if word.startswith("-"):
            break
        assert isinstance(group, click.Group), f"{word}: {group.name} takes no subcommand"
        found = group.get_command(context, word)
        assert found is not None, f"`socle {' '.join(argv)}`: no command {word!r}"
        group = found


def test_volumes_are_declared_and_the_lrs_has_storage(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name} uses undeclared volume {source}"
    lrs = compose["services"]["lrs"]
    assert lrs["image"].startswith("fundocker/ralph:")
    store = compose["services"]["lrs-mongo"]
    assert any(v.startswith("lrs-data:") for v in store["volumes"])
    assert "mongodb://lrs-mongo:27017/" in lrs["environment"].values()
    assert any(v.startswith("postgres:") for v in compose["services"]["postgres"]["volumes"])


def test_the_tool_reaches_the_bundled_lrs_by_default(compose: dict[str, Any]) -> None:
    environment = compose["x-socle"]["environment"]
    assert environment["SOCLE_LRS_ENDPOINT"].endswith(":-http://lrs:8100/xAPI/}")
    runserver = _command(compose["services"]["lrs"])
    assert runserver[runserver.index("--port") + 1] == "8100"
    assert "@postgres:5432/socle" in environment["SOCLE_DATABASE_URL"]

