"""The English UI: a complete, compiled catalogue, and pages in the language they should speak.

The catalogue is checked against the sources themselves (a string added to a template without
``make translations`` fails here), and the pages against the catalogue: a page in English must
show none of the French UI strings, whichever page of the player it is.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from lti_tool.config import PACKAGE_DIR, PROJECT_DIR
from lti_tool.content.loader import load_content
from lti_tool.domain.framework import NumberSolution
from lti_tool.player.markdown import render
from lti_tool.player.presenter import number_answer
from tests.live import forms
from tests.lti.forge import DL, INSTRUCTOR, TestPlatform, login, register, running_platform
from tests.player_helpers import right_answer, wrong_answer

TRANSLATIONS = PACKAGE_DIR / "translations"
POT = TRANSLATIONS / "messages.pot"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
# The keywords `make translations` passes to `pybabel extract`, on top of babel's defaults.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
RUN = "run `make translations`, then translate what it leaves empty"


def _forms(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A msgid or msgstr as its forms: one, or one per plural form."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _msgid(message: Message) -> str | tuple[str, ...]:
    return message.id if isinstance(message.id, str) else _forms(message.id)


def _msgstr(message: Message) -> str | tuple[str, ...]:
    """The translation; plural forms as a tuple (read_mo gives lists, read_po tuples)."""
    return message.string if isinstance(message.string, str) else _forms(message.string)


def _read_po(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


@pytest.fixture(scope="module")
def english() -> Catalog:
    return _read_po(PO)


def extract_sources() -> dict[str | tuple[str, ...], set[str]]:
    """What ``pybabel extract -F babel.cfg`` finds in the sources now (msgid -> files)."""
    with (PROJECT_DIR / "babel.cfg").open() as file:
        method_map, options_map = parse_mapping_cfg(file)  # type: ignore[no-untyped-call]
    found: dict[str | tuple[str, ...], set[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        PACKAGE_DIR, method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message if isinstance(message, str) else tuple(message)
        found.setdefault(msgid, set()).add(filename)
    return found


# --- the catalogue ------------------------------------------------------------------------


def test_template_lists_every_string_of_the_sources() -> None:
    template = {_msgid(m) for m in _read_po(POT) if m.id}
    sources = extract_sources()
    files = set().union(*sources.values())
    # The extraction itself works: Python and Jinja files, and the demo LMS stays French-only.
    assert {"lti/messages.py", "player/views.py", "templates/player/start.html"} <= files
    assert not any(name.startswith("demo_lms") for name in files)
    extracted = set(sources)
    assert extracted - template == set(), f"strings missing from messages.pot: {RUN}"
    assert template - extracted == set(), f"messages.pot lists strings gone from code: {RUN}"


def test_every_string_has_an_english_translation(english: Catalog) -> None:
    template = {_msgid(m) for m in _read_po(POT) if m.id}
    translated = {_msgid(m): m for m in english if m.id}
    assert template - set(translated) == set(), f"not in the English catalogue: {RUN}"
    assert set(translated) - template == set(), f"obsolete entries in the .po: {RUN}"
    assert english.num_plurals == 2
    problems = []
    for msgid, message in translated.items():
        strings = _forms(message.string)
        expected = english.num_plurals if message.pluralizable else 1
        if message.fuzzy or len(strings) != expected or not all(f.strip() for f in strings):
            problems.append(msgid)
    assert problems == [], f"untranslated or fuzzy: {problems}"
    # Placeholders: a translation keeps exactly the msgid's %(name)s (babel's own checkers).
    assert [(m.id, [str(e) for e in errors]) for m, errors in english.check()] == []


def test_compiled_catalogue_is_the_po_as_it_is_now(english: Catalog) -> None:
    """The committed .mo is what the app reads: it must hold exactly the .po's translations."""
    with MO.open("rb") as file:
        compiled = read_mo(file)
    # pybabel compile leaves out what is untranslated or fuzzy: the test above reports those.
    source = {_msgid(m): _msgstr(m) for m in english if m.id and m.string and not m.fuzzy}
    binary = {_msgid(m): _msgstr(m) for m in compiled if m.id}
    stale = sorted(str(k) for k in source.keys() | binary.keys() if source.get(k) != binary.get(k))
    assert stale == [], f"messages.mo is stale, recompile (`make translations`): {stale[:5]}"
    assert compiled.plural_forms == english.plural_forms


def test_compiled_catalogue_is_not_git_ignored() -> None:
    """Installs need no build step only if the .mo is committed."""
    try:
        result = subprocess.run(
            ["git", "check-ignore", "--quiet", str(MO)],
            cwd=PROJECT_DIR,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        pytest.skip("git is not installed")
    if result.returncode == 128:
        pytest.skip("not a git work tree")
    assert result.returncode == 1, "lti_tool/translations/**/*.mo must not be git-ignored"


# --- pages --------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"%\(\w+\)s")
_FRENCH_LETTERS = re.compile(r"[àâçéèêëîïôûùœ«»]")


class _Texts(HTMLParser):
    """Visible text nodes and the attributes read out to people (alt, title, aria-label...)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        for name, value in attrs:
            if name in {"alt", "title", "placeholder", "aria-label"} and value:
                self.texts.append(" ".join(value.split()))

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skip:
            self.texts.append(text)


def visible_texts(html: str) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    return parser.texts


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


@pytest.fixture(scope="module")
def content_texts() -> frozenset[str]:
    """Every text node the content can put on a page: written by people, French only for now."""
    texts: set[str] = set()
    for path in (PROJECT_DIR / "content").rglob("*.yaml"):
        for text in _strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            texts.add(" ".join(text.split()))
            texts.update(visible_texts(str(render(text))))
    # Expected numeric answers, written as the content writes them (French digits, its unit).
    for challenge in load_content(PROJECT_DIR / "content").challenges.values():
        if isinstance(challenge.solution, NumberSolution) and challenge.solution.accepted:
            texts.add(" ".join(number_answer(challenge.solution).split()))
    return frozenset(texts)


def french_ui(html: str, catalog: Catalog, content: frozenset[str] = frozenset()) -> list[str]:
    """The French UI strings (msgids whose English differs) that ``html`` still shows.

    A text node equal to a msgid (placeholders filled with anything) is one; so is a text node
    containing a fragment of three words or more of one. Text nodes that come from the content
    (``content``) are not UI text, nor are msgids with no word outside their placeholders.
    """
    texts = [t for t in visible_texts(html) if t not in content]
    found = []
    for message in catalog:
        if not message.id or message.string == message.id:
            continue
        for msgid in _forms(message.id):
            parts = _PLACEHOLDER.split(msgid.replace("%%", "%"))
            if not re.search(r"\w\w", "".join(parts)):
                continue
            whole = re.compile(".+?".join(re.escape(p) for p in parts))
            long_parts = [p.strip() for p in parts if len(p.split()) >= 3]
            for text in texts:
                if whole.fullmatch(text) or any(p in text for p in long_parts):
                    found.append(f"{msgid!r} in {text!r}")
    return found


@pytest.fixture
def platform(app: Flask) -> Iterator[TestPlatform]:
    with running_platform() as test_platform:
        register(app, test_platform)
        yield test_platform


def launch(client: FlaskClient, platform: TestPlatform, locale: str, **claims: Any) -> TestResponse:
    """A launch with ``launch_presentation.locale``; returns the page it lands on."""
    state, nonce = login(client, platform)
    presentation = {"document_target": "iframe", "locale": locale}
    token = platform.sign(platform.claims(nonce, lti_launch_presentation=presentation, **claims))
    response = client.post("/lti/launch", data={"id_token": token, "state": state})
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200, page.get_data(as_text=True)
    return page


def assert_english(html: str, catalog: Catalog, *, content_in_english: bool = True) -> None:
    assert '<html lang="en">' in html
    assert french_ui(html, catalog) == []
    if content_in_english:  # then nothing on the page is French, UI or content
        assert [t for t in visible_texts(html) if _FRENCH_LETTERS.search(t)] == []


def test_english_launch_shows_the_start_page_in_english(
    client: FlaskClient, platform: TestPlatform, english: Catalog
) -> None:
    html = launch(client, platform, "en-GB").get_data(as_text=True)
    assert_english(html, english)
    assert "Start the assessment" in html
    assert "digital competences measured." in html
    assert "Common core of digital competences" in html  # the content follows the launch too


def test_french_launch_shows_the_start_page_in_french(
    client: FlaskClient, platform: TestPlatform, english: Catalog
) -> None:
    html = launch(client, platform, "fr-FR").get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Commencer le parcours" in html
    assert "compétences numériques mesurées." in html
    assert "Start the assessment" not in html
    # The check used on English pages does see French UI when it is there.
    assert len(french_ui(html, english)) >= 5


def test_english_launch_outweighs_the_browser_language(
    client: FlaskClient, platform: TestPlatform, english: Catalog
) -> None:
    state, nonce = login(client, platform)
    presentation = {"document_target": "window", "locale": "en-US"}
    token = platform.sign(platform.claims(nonce, lti_launch_presentation=presentation))
    response = client.post("/lti/launch", data={"id_token": token, "state": state})
    page = client.get(response.headers["Location"], headers={"Accept-Language": "fr-FR,fr"})
    assert_english(page.get_data(as_text=True), english)


def test_teacher_and_deep_linking_pages_in_english(
    client: FlaskClient, platform: TestPlatform, english: Catalog
) -> None:
    teacher = launch(client, platform, "en", lti_roles=[INSTRUCTOR]).get_data(as_text=True)
    assert_english(teacher, english)
    assert "Trainer area" in teacher
    deep_link = launch(
        client,
        platform,
        "en",
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
    ).get_data(as_text=True)
    assert_english(deep_link, english)
    assert "Choose the assessment to add to the course" in deep_link


class Agent:
    """Takes a parcours through the test client, following the pages as a person would."""

    def __init__(self, client: FlaskClient, app: Flask) -> None:
        self.client = client
        self.content = app.extensions["socle"].catalogue.content
        self.pages: list[str] = []

    def follow(self, response: TestResponse) -> str:
        while response.status_code in (302, 303):
            response = self.client.get(response.headers["Location"])
        assert response.status_code == 200, response.get_data(as_text=True)
        html = response.get_data(as_text=True)
        self.pages.append(html)
        return html

    def submit(self, html: str, **values: Any) -> str:
        form = next(f for f in forms(html) if f["method"] == "post")
        return self.follow(self.client.post(form["action"], data={**form["fields"], **values}))

    def link(self, html: str) -> str:
        href = re.search(r'<a class="button" href="([^"]+)"', html)
        assert href is not None, html
        url = urlsplit(href.group(1).replace("&amp;", "&"))
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        return self.follow(self.client.get(url.path, query_string=query))

    def play(self, html: str, limit: int = 400) -> str:
        """Answer until the results: right, wrong and skipped answers in turn."""
        for index in range(limit):
            if "data-competence=" in html:
                return html
            match = re.search(r'data-challenge-id="([^"]+)"', html)
            if match is None:
                html = self.submit(html) if "/play/timer" in html else self.link(html)
                continue
            challenge = self.content.challenges[match.group(1)]
            if index % 7 == 3:
                html = self.submit(html, action="skip")
            else:
                answer = wrong_answer(challenge) if index % 3 == 1 else right_answer(challenge)
                html = self.submit(html, action="validate", **answer)
        raise AssertionError("no results page after the limit")


def test_a_whole_parcours_in_english_shows_no_french_ui(
    app: Flask,
    client: FlaskClient,
    platform: TestPlatform,
    english: Catalog,
    content_texts: frozenset[str],
) -> None:
    """Self-assessment, challenges, feedback, checkpoints and results, all in English."""
    start = launch(client, platform, "en-GB")
    agent = Agent(client, app)
    feelings = agent.submit(start.get_data(as_text=True), job_profile="gestion-administrative")
    assert "Before you start: how confident do you feel?" in feelings
    areas = re.findall(r'name="(area\.[^"]+)"', feelings)
    answers = {area: str(index % 4 + 1) for index, area in enumerate(areas)}
    first = agent.submit(feelings, action="save", **answers)
    results = agent.play(first)
    for page in agent.pages:
        assert '<html lang="en">' in page
        # Challenges, skills and tutorials are written in French only: content, not UI.
        assert french_ui(page, english, content_texts) == []
    seen = "\n".join(agent.pages)
    for english_text in (
        "Question 1",
        "Submit",
        "Skip",
        "Next question",
        "Progress check",
        "Your results",
        "Level in each competence",
        "Expected",
    ):
        assert english_text in seen, english_text
    assert "Mastery rate:" in results
    assert "Your self-assessment and the measurement" in results


def test_error_page_follows_accept_language(client: FlaskClient, english: Catalog) -> None:
    page = client.get("/activity", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    html = page.get_data(as_text=True)
    assert page.status_code == 401
    assert_english(html, english)
    assert "This page must be opened from your training platform." in html

    page = client.get("/activity", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    html = page.get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Cette page doit être ouverte depuis votre plateforme de formation." in html

    # No header, or only languages the tool does not speak: French, the default.
    for headers in ({}, {"Accept-Language": "de-DE,es;q=0.8"}):
        html = client.get("/activity", headers=headers).get_data(as_text=True)
        assert '<html lang="fr">' in html


def test_not_found_and_landing_pages_follow_accept_language(
    client: FlaskClient, english: Catalog
) -> None:
    missing = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert missing.status_code == 404
    assert_english(missing.get_data(as_text=True), english)
    landing = client.get("/", headers={"Accept-Language": "en-US,en"}).get_data(as_text=True)
    assert_english(landing, english)
    assert "Available assessments" in landing
    assert "Data awareness" in landing  # catalogue titles in the page's language


def test_each_request_translates_through_its_own_catalogue(app: Flask) -> None:
    """The catalogue kept per request (``RequestDomain``) follows each request's locale:
    Python strings, lazy strings and templates alike, one request after another."""
    from flask import render_template_string
    from flask_babel import gettext, lazy_gettext

    from lti_tool.i18n import RequestDomain

    assert isinstance(app.extensions["babel"].instance.domain_instance, RequestDomain)
    lazy = lazy_gettext("Aucune réponse.")
    seen = []
    for language in ("en", "fr", "en"):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            seen.append(
                (
                    gettext("Aucune réponse."),
                    str(lazy),
                    render_template_string("{{ _('Votre session a expiré.') }}"),
                )
            )
    english = ("No answer.", "No answer.", "Your session has expired.")
    french = ("Aucune réponse.", "Aucune réponse.", "Votre session a expiré.")
    assert seen == [english, french, english]
