"""Factory of the demo LMS Flask app.

A separate Flask app (not a blueprint of the tool) because a real LMS is another site: its own
cookies, its own keys, its own port, so the tool is exercised as it will be in production.
"""

from __future__ import annotations

from pathlib import Path

import flask

from .config import LmsUrls, PlatformRegistration, ToolEndpoints
from .hints import SignedHints
from .keys import load_or_create_platform_key
from .lms import EXTENSION_KEY, DemoLms, current_lms
from .store import DemoLmsStore
from .tool_keys import ToolKeySet
from .views import bp


def create_demo_lms(base_url: str, tool: ToolEndpoints, data_dir: Path) -> flask.Flask:
    """Build the demo LMS served at `base_url`, talking to `tool`, keeping state in `data_dir`.

    `base_url` is the issuer and the prefix of every URL put in messages; the key and the
    course state in `data_dir` survive restarts.
    """
    data_dir = Path(data_dir)
    urls = LmsUrls(base_url.rstrip("/"))
    key = load_or_create_platform_key(data_dir)
    app = flask.Flask(__name__)
    app.extensions[EXTENSION_KEY] = DemoLms(
        urls=urls,
        tool=tool,
        key=key,
        store=DemoLmsStore(data_dir),
        tool_keys=ToolKeySet(tool.jwks_url),
        hints=SignedHints(key.derived_secret("signed-hints")),
    )
    app.register_blueprint(bp)
    return app


def demo_registration(app: flask.Flask) -> PlatformRegistration:
    """What the tool must register to trust this demo LMS (`socle platform add`)."""
    with app.app_context():
        return current_lms().urls.registration()
