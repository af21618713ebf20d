"""The reports' web tests use the player tests' app, platform and agents."""

from __future__ import annotations

from tests.player.conftest import (  # noqa: F401 (fixtures)
    agent,
    app,
    make_agent,
    platform,
    player_clock,
    settings_overrides,
)
