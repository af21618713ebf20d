"""A test agent that uses the player only through HTTP (Flask test client), as a browser would.

It launches from a test platform (OIDC login, signed id_token, ``POST /lti/launch``), follows
the 303 redirects, reads pages through their stable hooks (``data-challenge-id``,
``data-answer-status``, ``data-checkpoint``, ``data-competence``/``data-level``) and submits
the forms it was given — or tampered copies of them, which is the point of these tests.
Database helpers let a test look at what was stored, and move time (timers, retry delays)
the only way the player allows: by changing the stored attempt.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from lti_tool.domain.framework import Challenge, Content
from lti_tool.models import AnswerRecord, Attempt
from tests.lti.forge import INSTRUCTOR, login
from tests.player.platform import AGS_CLAIM, GradebookPlatform
from tests.player_helpers import right_answer, wrong_answer
from xapi.outbox import outbox_table

FormValue = str | list[str]
Policy = Callable[[int, Challenge], str]


class _PageParser(HTMLParser):
    """Collects forms (with every named input a browser could send) and ``data-*`` hooks."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.hooks: list[dict[str, str]] = []
        self.links: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if any(k.startswith("data-") for k in values):
            self.hooks.append({"tag": tag, **values})
        if tag == "a" and "href" in values:
            self.links.append(values["href"])
        if tag == "form":
            self.forms.append({"attrs": values, "inputs": []})
        elif self.forms and tag in {"input", "button", "select", "textarea"} and values.get("name"):
            kind = values.get("type", "select" if tag == "select" else "text")
            self.forms[-1]["inputs"].append((values["name"], values.get("value", ""), kind))
            if tag == "select":
                self._select = values["name"]
        elif tag == "option" and self._select and self.forms:
            self.forms[-1]["inputs"].append((self._select, values.get("value", ""), "option"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


@dataclass
class Page:
    """A page as the agent sees it, with the hooks tests rely on."""

    status: int
    html: str
    url: str
    forms: list[dict[str, Any]] = field(default_factory=list)
    hooks: list[dict[str, str]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, response: TestResponse, url: str) -> Page:
        body = response.get_data(as_text=True)
        parser = _PageParser()
        parser.feed(body)
        return cls(response.status_code, body, url, parser.forms, parser.hooks, parser.links)

    def hook(self, name: str) -> str | None:
        return next((h[name] for h in self.hooks if name in h), None)

    def hooks_named(self, name: str) -> list[dict[str, str]]:
        return [h for h in self.hooks if name in h]

    @property
    def challenge_id(self) -> str | None:
        return self.hook("data-challenge-id")

    @property
    def answer_status(self) -> str | None:
        return self.hook("data-answer-status")

    @property
    def checkpoint(self) -> str | None:
        return self.hook("data-checkpoint")

    @property
    def levels(self) -> dict[str, int]:
        return {
            h["data-competence"]: int(h["data-level"])
            for h in self.hooks_named("data-level")
            if "data-competence" in h
        }

    @property
    def is_timer_warning(self) -> bool:
        return self.form_to("/play/timer") is not None and self.challenge_id is None

    def form_to(self, action: str) -> dict[str, Any] | None:
        return next((f for f in self.forms if f["attrs"].get("action") == action), None)

    def hidden(self, action: str) -> dict[str, str]:
        form = self.form_to(action)
        assert form is not None, f"no form to {action} in:\n{self.html}"
        return {name: value for name, value, kind in form["inputs"] if kind == "hidden"}

    @property
    def seq(self) -> int:
        return int(self.hidden("/play/answer")["seq"])

    def input_names(self, action: str) -> set[str]:
        form = self.form_to(action)
        assert form is not None
        return {name for name, _value, kind in form["inputs"] if kind not in {"hidden", "submit"}}

    def text(self) -> str:
        """The visible text, tags removed (for French phrases split by markup)."""
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", self.html)))


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["lt"][0]


class Agent:
    """One person of the test platform (``sub``), with one browser (test client) per launch."""

    def __init__(
        self,
        app: Flask,
        platform: GradebookPlatform,
        *,
        sub: str | None = "agent-7f3a",
        parcours: str = "sensibilisation-donnees",
        teacher: bool = False,
        gradebook: bool = False,
        resource_link: str = "activity-1",
    ) -> None:
        self.app = app
        self.platform = platform
        self.sub = sub
        self.parcours = parcours
        self.teacher = teacher
        self.gradebook = gradebook
        self.resource_link = resource_link
        self.client: FlaskClient = app.test_client()
        self.token = ""

    @property
    def content(self) -> Content:
        return self.app.extensions["socle"].catalogue.content  # type: ignore[no-any-return]

    # --- HTTP ----------------------------------------------------------------------------
    def launch(self, *, new_device: bool = True, **changes: Any) -> Page:
        """A fresh LMS launch (new login, new token); returns the activity home page."""
        if new_device:
            self.client = self.app.test_client()
        claims: dict[str, Any] = {
            "sub": self.sub,
            "lti_custom": {"parcours": self.parcours},
            "lti_resource_link": {"id": self.resource_link, "title": "Parcours Socle"},
        }
        if self.sub is None:
            claims.update(name=None, email=None)
        if self.teacher:
            claims["lti_roles"] = [INSTRUCTOR]
        if self.gradebook:
            claims[AGS_CLAIM] = self.platform.ags_claim()
        claims.update(changes)
        state, nonce = login(self.client, self.platform)
        id_token = self.platform.sign(self.platform.claims(nonce, **claims))
        response = self.client.post("/lti/launch", data={"id_token": id_token, "state": state})
        assert response.status_code == 303, response.get_data(as_text=True)
        location = response.headers["Location"]
        self.token = token_of(location)
        return self.follow(self.client.get(location), location)

    def get(self, path: str, **query: Any) -> TestResponse:
        return self.client.get(path, query_string={"lt": self.token, **query})

    def post(self, path: str, data: Mapping[str, FormValue] | None = None) -> TestResponse:
        form: dict[str, FormValue] = {"lt": self.token}
        form.update(data or {})
        return self.client.post(path, data=form)

    def follow(self, response: TestResponse, url: str = "") -> Page:
        """Follow 303 redirects like a browser; the page at the end."""
        for _hop in range(5):
            if response.status_code not in (302, 303):
                page = Page.of(response, url)
                self._adopt_token(page)
                return page
            url = response.headers["Location"]
            response = self.client.get(url)
        raise AssertionError(f"redirect loop ending at {url}")

    def _adopt_token(self, page: Page) -> None:
        """Carry on with the fresh token the page hands out, as a browser's next click does
        (tokens slide, and one issued before an attempt finished cannot post)."""
        for form in page.forms:
            for name, value, _kind in form["inputs"]:
                if name == "lt" and value:
                    self.token = value
                    return
        for link in page.links:
            if "lt=" in link and token_of(link):
                self.token = token_of(link)
                return

    def page(self, path: str, **query: Any) -> Page:
        response = self.get(path, **query)
        return self.follow(response, path)

    def start(self, **form: str) -> Page:
        """Press « Commencer » (or « Reprendre »); skip the self-assessment if asked."""
        page = self.follow(self.post("/play/start", form))
        if page.form_to("/play/self-assessment") is not None:
            page = self.follow(self.post("/play/self-assessment", {"action": "skip"}))
        return page

    def play(self) -> Page:
        return self.page("/play")

    def start_timer(self, page: Page) -> Page:
        return self.follow(self.post("/play/timer", page.hidden("/play/timer")))

    def submit(
        self,
        page: Page,
        fields: Mapping[str, FormValue] | None = None,
        *,
        action: str = "validate",
        **overrides: str,
    ) -> TestResponse:
        """POST the challenge form of ``page`` with ``fields``; ``overrides`` tamper with its
        hidden fields (``seq``, ``challenge_id``)."""
        data: dict[str, FormValue] = dict(page.hidden("/play/answer"))
        data.pop("lt", None)
        data.update(fields or {})
        data["action"] = action
        data.update(overrides)
        return self.post("/play/answer", data)

    def answer(self, page: Page, how: str) -> Page:
        """Answer the page's challenge ``right``, ``wrong`` or ``skip``; the feedback page."""
        challenge = self.content.challenges[page.challenge_id or ""]
        if how == "skip":
            response = self.submit(page, action="skip")
        else:
            fields = right_answer(challenge) if how == "right" else wrong_answer(challenge)
            response = self.submit(page, fields)
        assert response.status_code == 303, response.get_data(as_text=True)
        return self.follow(response)

    def run(
        self,
        policy: Policy | str = "right",
        *,
        stop_after: int | None = None,
        page: Page | None = None,
    ) -> tuple[Page, list[tuple[str, str]]]:
        """Answer challenges until the results (or ``stop_after`` answers).

        Returns the last page and the (challenge id, answer status) of each answer given.
        """
        decide = policy if callable(policy) else (lambda _i, _c, how=policy: how)
        page = page or self.play()
        given: list[tuple[str, str]] = []
        while page.challenge_id or page.is_timer_warning:
            if page.is_timer_warning:
                page = self.start_timer(page)
                continue
            challenge = self.content.challenges[page.challenge_id or ""]
            feedback = self.answer(page, decide(len(given), challenge))
            if feedback.status != 200:
                # A right answer goes straight on to the next page: a failure there (the end
                # of the attempt, say) shows here, after the answer was recorded.
                records = self.records(self.attempt().id)
                assert records, feedback.html
                assert records[-1].challenge_id == challenge.id, feedback.html
                given.append((challenge.id, records[-1].status))
                return feedback, given
            assert feedback.status == 200, feedback.html
            assert feedback.answer_status, feedback.html
            given.append((challenge.id, feedback.answer_status))
            if stop_after is not None and len(given) >= stop_after:
                return feedback, given
            page = self.play()
        return page, given

    # --- database ------------------------------------------------------------------------
    def attempts(self) -> list[Attempt]:
        """This agent's attempts (all of them, previews included), oldest first."""
        with self.app.extensions["socle"].database.session() as session:
            return list(session.scalars(select(Attempt).order_by(Attempt.started_at)))

    def attempt(self) -> Attempt:
        return self.attempts()[-1]

    def records(self, attempt_id: str | None = None) -> list[AnswerRecord]:
        with self.app.extensions["socle"].database.session() as session:
            query = select(AnswerRecord).order_by(AnswerRecord.attempt_id, AnswerRecord.seq)
            if attempt_id is not None:
                query = query.where(AnswerRecord.attempt_id == attempt_id)
            return list(session.scalars(query))

    def change_attempt(self, **values: Any) -> None:
        """Write columns of the latest attempt (how tests move time)."""
        attempt_id = self.attempt().id
        with self.app.extensions["socle"].database.session() as session, session.begin():
            session.execute(update(Attempt).where(Attempt.id == attempt_id).values(**values))

    def statements(self) -> list[dict[str, Any]]:
        """The xAPI statements in the outbox, in insertion order."""
        with self.app.extensions["socle"].database.session() as session:
            rows = session.execute(select(outbox_table.c.payload).order_by(outbox_table.c.id))
            return [json.loads(payload) for (payload,) in rows]

    def verbs(self) -> list[str]:
        return [s["verb"]["id"].rsplit("/", 1)[1] for s in self.statements()]


def challenges_where(
    content: Content, parcours: str, test: Callable[[Challenge], bool]
) -> list[Challenge]:
    """Challenges the parcours may serve that pass ``test``, in a stable order."""
    from lti_tool.domain.target import parcours_view

    view = parcours_view(content, parcours)
    return sorted((c for c in view.challenges.values() if test(c)), key=lambda c: c.id)
