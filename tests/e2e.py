"""Helpers for end-to-end tests: the tool and the demo LMS as live servers, and an agent
clicking through them with a requests session."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from flask import Flask

from lti_tool.app import create_app
from lti_tool.config import Settings
from lti_tool.demo import register_demo_platform
from lti_tool.demo_lms import ToolEndpoints, create_demo_lms
from tests.live import LiveServer, forms
from tests.player_helpers import right_answer, wrong_answer


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


def _links(html: str, element: str, attribute: str) -> list[str]:
    from html.parser import HTMLParser

    found: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == element:
                found.extend(v for k, v in attrs if k == attribute and v)

    Links().feed(html)
    return found


@contextmanager
def running_peers(settings_factory: Any, tmp_path: Path) -> Iterator[tuple[str, str, Flask, Flask]]:
    """The tool on 127.0.0.1 and the demo LMS on localhost (two sites), registered."""
    tool_server = LiveServer("127.0.0.1")
    lms_server = LiveServer("127.0.0.1", url_host="localhost")
    settings: Settings = settings_factory(base_url=tool_server.url)
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
    register_demo_platform(settings, lms_app)
    tool_server.start(tool_app)
    lms_server.start(lms_app)
    try:
        yield tool_server.url, lms_server.url, tool_app, lms_app
    finally:
        tool_app.extensions["socle"].grades.stop()
        lms_server.stop()
        tool_server.stop()
        tool_app.extensions["socle"].database.dispose()


def add_activity(lms_url: str, parcours: str) -> None:
    teacher = Browser()
    teacher.get(f"{lms_url}/?utilisateur=enseignant")
    catalogue = teacher.submit(teacher.get(f"{lms_url}/deep-link/launch"))
    returned = teacher.submit(teacher.submit(catalogue, parcours=parcours))
    assert returned.status_code == 200


def launch_as_agent(lms_url: str, browser: Browser | None = None) -> tuple[Browser, Any]:
    agent = browser or Browser()
    course = agent.get(f"{lms_url}/?utilisateur=agent")
    page = next(
        h for h in _links(course.text, "a", "href") if "/activities/" in h and "/scores" not in h
    )
    embed = agent.get(urljoin(course.url, page))
    (src,) = _links(embed.text, "iframe", "src")
    start = agent.submit(agent.get(urljoin(embed.url, src)))
    assert start.status_code == 200, start.text
    return agent, start


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["lt"][0]


def next_link(html: str) -> str:
    """The page's way forward (« Continuer », « Question suivante »)."""
    return next(h for h in _links(html, "a", "href") if "/play" in h)


def play(
    agent: Browser, page: Any, content: Any, *, stop_after: int | None = None, policy: Any = None
) -> Any:
    """Answer challenges until results (or ``stop_after`` answers); returns the last page."""
    answered = 0
    while "data-challenge-id" in page.text or "/play/timer" in page.text:
        if "/play/timer" in page.text and "data-challenge-id" not in page.text:
            page = agent.submit(page)
            continue
        challenge_id = re.search(r'data-challenge-id="([^"]+)"', page.text).group(1)
        challenge = content.challenges[challenge_id]
        choice = policy(answered, challenge) if policy else "right"
        if choice == "skip":
            feedback = agent.submit(page, action="skip")
        else:
            fields = right_answer(challenge) if choice == "right" else wrong_answer(challenge)
            feedback = agent.submit(page, action="validate", **fields)
        assert feedback.status_code == 200, feedback.text
        assert "data-answer-status" in feedback.text
        answered += 1
        if stop_after is not None and answered >= stop_after:
            return feedback
        # A wrong or skipped answer shows its feedback page; a right one goes straight on
        # (next challenge, checkpoint or results) with a one-line confirmation.
        is_feedback = 'class="card feedback' in feedback.text
        page = (
            agent.get(urljoin(feedback.url, next_link(feedback.text))) if is_feedback else feedback
        )
        if "data-checkpoint" in page.text:
            page = agent.get(urljoin(page.url, next_link(page.text)))
    return page
