"""The whole flow against the demo LMS, a real LTI 1.3 platform (lti1p3platform):
teacher's deep linking launch → catalogue → deep linking response accepted by the platform →
learner's resource-link launch → parcours start page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from flask import Flask

from tests.e2e import Browser, _links, running_peers


@pytest.fixture
def peers(make_settings: Any, tmp_path: Path) -> Iterator[tuple[str, str, Flask]]:
    """The tool on 127.0.0.1 and the demo LMS on localhost: two sites, as in real life."""
    with running_peers(make_settings, tmp_path) as (tool_url, lms_url, tool_app, _lms_app):
        yield tool_url, lms_url, tool_app


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
