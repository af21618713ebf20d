"""Fixtures of the browser suite: one Chromium per session, the tool and the demo LMS live.

The tool listens on ``127.0.0.1`` and the LMS on ``localhost``: two sites, so the tool runs in
a cross-site iframe as in a real LMS, where the default Playwright context of Debian's
Chromium blocks third-party cookies (``shared/docs/browser-notes.md``). Both speak https
(``servers.py`` says why).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.helpers import FIXTURE_CONTENT, Peers
from tests.browser.servers import TestCertificates, make_certificates


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> TestCertificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def new_context(chromium: Any) -> Iterator[Callable[..., Any]]:
    """Fresh browser contexts (their own cookies and storage: "another device").

    Defaults are those of a person on a laptop in France; third-party cookies stay blocked
    (the default of this Chromium under Playwright).
    """
    contexts: list[Any] = []

    def _new(**options: Any) -> Any:
        options.setdefault("viewport", {"width": 1024, "height": 768})
        options.setdefault("locale", "fr-FR")
        options.setdefault("ignore_https_errors", True)
        context = chromium.new_context(**options)
        context.set_default_timeout(60_000)  # waits end when the page is there; a bound only
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()


@pytest.fixture
def start_peers(
    make_settings: Any, tmp_path: Path, certificates: TestCertificates,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., Peers]]:
    """Start the tool (on a content tree) and the demo LMS; both stop after the test."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificates.ca_file))
    started: list[Peers] = []

    def _start(content_dir: Path = FIXTURE_CONTENT) -> Peers:
        peers = Peers.start(make_settings, content_dir, tmp_path / f"lms-{len(started)}",
                            certificates)
        started.append(peers)
        return peers

    yield _start
    for peers in started:
        peers.stop()
