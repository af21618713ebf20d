"""Fixtures of the data-rights tests: the player's app, platform and agents, the real LRS."""

from __future__ import annotations

from tests.player.conftest import (  # noqa: F401 - fixtures shared with the player tests
    app,
    make_agent,
    platform,
    player_clock,
    settings_overrides,
)
from tests.xapi.conftest import lrs, lrs_server  # noqa: F401 - the real LRS fixtures
