"""The deep-linking catalogue: parcours grouped (socle commun, métiers, thématiques), each with
its competences, measured duration and expected number of challenges; « contenu en français »
when the interface is English; the socle commun (and nothing else) preselected."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.app import create_app
from lti_tool.content_store import GROUP_ORDER
from lti_tool.domain.framework import Content
from tests.lti.forge import DL, INSTRUCTOR, TestPlatform, login, register, running_platform

VALID_CONTENT = Path(__file__).resolve().parents[1] / "fixtures" / "content-valid"


class Catalogue(HTMLParser):
    """Groups (fieldsets), their radios, facts and competences, as the page shows them."""

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[str] = []
        self.parcours: dict[str, dict[str, Any]] = {}
        self.legends: list[str] = []
        self.notice: str | None = None
        self._current: str | None = None
        self._in: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "fieldset" and values.get("data-group"):
            self.groups.append(str(values["data-group"]))
        if tag == "legend":
            self._in, self._text = "legend", []
        if tag == "p" and values.get("data-content-language") == "fr":
            self._in, self._text = "notice", []
        if tag == "input" and values.get("type") == "radio":
            self._current = str(values["value"])
            self.parcours[self._current] = {
                "group": self.groups[-1],
                "checked": "checked" in values,
                "required": "required" in values,
                "describedby": values.get("aria-describedby"),
                "competences": [],
            }
        if self._current and "data-duration" in values:
            self.parcours[self._current]["duration"] = int(str(values["data-duration"]))
        if self._current and "data-challenges" in values:
            self.parcours[self._current]["challenges"] = int(str(values["data-challenges"]))
        if self._current and tag == "li" and values.get("data-competence"):
            self._in, self._text = "competence", []
            self.parcours[self._current]["competences"].append([values["data-competence"], ""])

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        text = " ".join("".join(self._text).split())
        if tag == "legend" and self._in == "legend":
            self.legends.append(text)
            self._in = None
        elif tag == "p" and self._in == "notice":
            self.notice = text
            self._in = None
        elif tag == "li" and self._in == "competence" and self._current:
            self.parcours[self._current]["competences"][-1][1] = text
            self._in = None


def parse(html: str) -> Catalogue:
    page = Catalogue()
    page.feed(html)
    return page


@pytest.fixture
def platform(app: Flask) -> Iterator[TestPlatform]:
    with running_platform() as test_platform:
        register(app, test_platform)
        yield test_platform


def deep_link(client: FlaskClient, platform: TestPlatform, locale: str = "fr-FR") -> str:
    state, nonce = login(client, platform)
    claims = platform.claims(
        nonce,
        lti_launch_presentation={"document_target": "iframe", "locale": locale},
        lti_roles=[INSTRUCTOR],
        lti_message_type="LtiDeepLinkingRequest",
        lti_resource_link=None,
        lti_custom=None,
        **{
            DL + "deep_linking_settings": {
                "deep_link_return_url": f"{platform.issuer}/deep-link/return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
            }
        },
    )
    response = client.post("/lti/launch", data={"id_token": platform.sign(claims), "state": state})
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200, page.get_data(as_text=True)
    return page.get_data(as_text=True)


def content_of(app: Flask) -> Content:
    content: Content = app.extensions["socle"].catalogue.content
    return content


def test_parcours_are_grouped_and_each_names_its_competences(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    content = content_of(app)
    page = parse(deep_link(client, platform))
    present = [g for g in GROUP_ORDER if any(p.group is g for p in content.parcours.values())]
    assert page.groups == [g.value for g in present]
    assert "Parcours métiers" in page.legends
    assert sorted(page.parcours) == sorted(content.parcours)
    for parcours_id, shown in page.parcours.items():
        parcours = content.parcours[parcours_id]
        assert shown["group"] == parcours.group.value
        assert shown["required"]
        assert shown["describedby"] == f"about-{parcours_id}"
        codes = sorted(
            {content.tubes[t.tube_id].competence_code for t in parcours.tubes},
            key=lambda c: tuple(map(int, c.split("."))),
        )
        assert shown["competences"] == [
            [code, f"{code} {content.competences[code].title.fr}"] for code in codes
        ]
        assert shown.get("duration") == parcours.duration
        assert shown.get("challenges") == parcours.expected_challenges
    metiers = [pid for pid, shown in page.parcours.items() if shown["group"] == "metiers"]
    assert metiers == sorted(metiers, key=lambda pid: content.parcours[pid].title.fr)
    assert len(metiers) == len(content.job_profiles)


def test_only_the_socle_commun_is_preselected(small_app: Flask) -> None:
    client = small_app.test_client()
    with registered_platform(small_app) as platform:
        page = parse(deep_link(client, platform))
    assert page.groups == ["socle-commun"]
    assert [pid for pid, shown in page.parcours.items() if shown["checked"]] == ["essentiel"]


def test_real_catalogue_preselects_at_most_the_socle_commun(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    page = parse(deep_link(client, platform))
    checked = [pid for pid, shown in page.parcours.items() if shown["checked"]]
    assert all(page.parcours[pid]["group"] == "socle-commun" for pid in checked)
    assert len(checked) <= 1


def test_english_interface_says_the_content_is_in_french(
    client: FlaskClient, platform: TestPlatform
) -> None:
    english = deep_link(client, platform, "en-GB")
    page = parse(english)
    assert page.notice == (
        "Content in French: the challenges and tutorials of the assessments are written in French."
    )
    assert "Job assessments" in page.legends
    assert "Competences measured" in english
    french = parse(deep_link(client, platform, "fr-FR"))
    assert french.notice is None


def test_a_missing_choice_is_refused_with_a_described_error(
    app: Flask, client: FlaskClient, platform: TestPlatform
) -> None:
    html = deep_link(client, platform)
    token = html.split('name="lt" value="', 1)[1].split('"', 1)[0]
    response = client.post("/deep-linking", data={"lt": token})
    assert response.status_code == 400
    page = parse(response.get_data(as_text=True))
    assert "Choisissez un parcours dans la liste." in response.get_data(as_text=True)
    assert all(shown["describedby"].endswith(" choice-error") for shown in page.parcours.values())
    assert not any(shown["checked"] for shown in page.parcours.values())


# --- a small catalogue with a socle commun (the valid fixture tree) ---------------------------


@pytest.fixture
def small_app(make_settings: Callable[..., Any]) -> Iterator[Flask]:
    application = create_app(make_settings(content_dir=VALID_CONTENT))
    yield application
    application.extensions["socle"].database.dispose()


def registered_platform(application: Flask) -> AbstractContextManager[TestPlatform]:
    @contextmanager
    def _registered() -> Iterator[TestPlatform]:
        with running_platform() as test_platform:
            register(application, test_platform)
            yield test_platform

    return _registered()
