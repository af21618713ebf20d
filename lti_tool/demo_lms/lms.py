"""The running demo LMS: its settings and long-lived objects, shared by the views."""

from __future__ import annotations

from dataclasses import dataclass

import flask

from .config import LmsUrls, ToolEndpoints
from .hints import SignedHints
from .keys import PlatformKey
from .platform import DemoPlatformConf
from .store import DemoLmsStore
from .tool_keys import ToolKeySet

EXTENSION_KEY = "socle_demo_lms"


@dataclass(frozen=True)
class DemoLms:
    """What one demo LMS app holds between requests (store, keys, caches)."""

    urls: LmsUrls
    tool: ToolEndpoints
    key: PlatformKey
    store: DemoLmsStore
    tool_keys: ToolKeySet
    hints: SignedHints

    def platform_conf(self) -> DemoPlatformConf:
        """A fresh lti1p3platform configuration: the library keeps per-message state on it."""
        return DemoPlatformConf(
            urls=self.urls, tool=self.tool, key=self.key, tool_keys=self.tool_keys
        )


def current_lms() -> DemoLms:
    lms = flask.current_app.extensions[EXTENSION_KEY]
    assert isinstance(lms, DemoLms)
    return lms
