"""The whole flow against the demo LMS, a real LTI 1.3 platform (lti1p3platform):
teacher's deep linking launch → catalogue → deep linking response accepted by the platform →
learner's resource-link launch → parcours start page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from flask import Flask

from lti_tool.app import create_app
from lti_tool.config import Settings
from lti_tool.demo import register_demo_platform
from lti_tool.demo_lms import ToolEndpoints, create_demo_lms
from tests.live import LiveServer, forms


class Browser:
    """A requests session that submits the auto-submit forms a browser would submit."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        response = self.http.get(url, timeout=10, **kwargs)
        response.raise_for_status()
        return response

    def submit(self, page: requests.Response, **values: str) -> requests.Response:
        form = forms(page.text)[0]
        fields = {**form["fields"], **values}
        action = urljoin(page.url, form["action"])
        response = self.http.request(form["method"], action, data=fields, timeout=10)
        return response


@pytest.fixture
def peers(make_settings: Any, tmp_path: Path) -> Iterator[tuple[str, str, Flask]]:
    """The tool on 127.0.0.1 and the demo LMS on localhost: two sites, as in real life."""
    tool_server = LiveServer("127.0.0.1")
    lms_server = LiveServer("127.0.0.1", url_host="localhost")
    settings: Settings = make_settings(base_url=tool_server.url)
    tool_app = create_app(settings)
    lms_app = create_demo_lms(
        lms_server.url,
        ToolEndpoints(
            login_url=f"{tool_server.url}/lti/login",
            launch_url=f"{tool_server.url}/lti/launch",
            deep_link_url=f"{tool_server.url}/lti/launch",
            jwks_url=f"{tool_server.url}/lti/jwks",
        ),
        tmp_path / "demo-lms",
    )
    register_demo_platform(replace(settings), lms_app)
    tool_app.extensions["socle"].framing.invalidate()
    tool_server.start(tool_app)
    lms_server.start(lms_app)
    try:
        yield tool_server.url, lms_server.url, tool_app
    finally:
        lms_server.stop()
        tool_server.stop()
        tool_app.extensions["socle"].database.dispose()


def test_teacher_adds_a_parcours_and_an_agent_launches_it(
    peers: tuple[str, str, Flask],
) -> None:
    tool_url, lms_url, _app = peers
    teacher = Browser()
    teacher.get(f"{lms_url}/?utilisateur=enseignant")
    # Deep linking launch: LMS → tool login → LMS auth → auto-submitted id_token → tool.
    auth_page = teacher.get(f"{lms_url}/deep-link/launch")
    assert auth_page.url.startswith(lms_url)
    catalogue = teacher.submit(auth_page)
    assert catalogue.status_code == 200, catalogue.text
    assert catalogue.url.startswith(f"{tool_url}/deep-linking")
    assert "Socle commun des compétences numériques" in catalogue.text
    # Choose the parcours: the tool answers with a signed LtiDeepLinkingResponse.
    response_form = teacher.submit(catalogue, parcours="socle-commun")
    assert response_form.status_code == 200, response_form.text
    returned = teacher.submit(response_form)
    assert returned.status_code == 200, returned.text
    assert returned.url.startswith(lms_url)
    assert "Socle commun des compétences numériques" in returned.text

    agent = Browser()
    course = agent.get(f"{lms_url}/?utilisateur=agent")
    activity_pages = [
        urljoin(course.url, href)
        for href in _links(course.text, "a", "href")
        if "/activities/" in href and "/scores" not in href
    ]
    assert activity_pages, course.text
    # The LMS embeds the tool in an iframe whose source starts the launch.
    embed = agent.get(activity_pages[0])
    (frame_src,) = _links(embed.text, "iframe", "src")
    auth_page = agent.get(urljoin(embed.url, frame_src))
    start = agent.submit(auth_page)
    assert start.status_code == 200, start.text
    assert start.url.startswith(f"{tool_url}/activity")
    assert "Socle commun des compétences numériques" in start.text
    assert "Commencer le parcours" in start.text
    assert "frame-ancestors 'self' " + lms_url in start.headers["Content-Security-Policy"]


def _links(html: str, element: str, attribute: str) -> list[str]:
    from html.parser import HTMLParser

    found: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == element:
                found.extend(v for k, v in attrs if k == attribute and v)

    Links().feed(html)
    return found
