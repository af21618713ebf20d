"""The launch behind a page: every request after a launch names it with the signed token
``lt`` (query or form), never with a cookie: the tool runs in LMS iframes where third-party
cookies are blocked.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from flask import g, request
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lti_tool.lti.service import load_launch
from lti_tool.lti.tokens import TOKEN_FIELD, TokenError
from lti_tool.models import Launch
from lti_tool.pages import db_session, socle

log = logging.getLogger(__name__)


class PageError(Exception):
    def __init__(self, message: str, advice: str, status: int) -> None:
        super().__init__(message)
        self.message, self.advice, self.status = message, advice, status


def current_launch(load: Callable[[Session, str], Launch | None] = load_launch) -> Launch:
    """The launch named by the request's token; sets the page locale and a fresh token.

    Refuses a token of another user than the launch's, and a form posted with a token issued
    before the attempt finished (see :mod:`lti_tool.lti.tokens`). ``load`` reads the launch
    context (a page may read more in the same query: the player's reads the attempts too).
    """
    tokens = socle().tokens
    try:
        token = tokens.read(request.values.get(TOKEN_FIELD))
    except TokenError as exc:
        if exc.expired:
            raise PageError(
                _("Votre session a expiré."),
                _(
                    "Relancez l'activité depuis votre plateforme de formation : vous reprendrez "
                    "là où vous vous êtes arrêté."
                ),
                401,
            ) from exc
        raise _not_from_the_lms() from exc
    launch = load(db_session(), token.launch_id)
    if launch is None:
        raise PageError(
            _("Votre session a expiré."),
            _("Relancez l'activité depuis votre plateforme de formation."),
            401,
        )
    if not hmac.compare_digest(token.user, tokens.launch_binding(launch)):
        log.warning("page token of launch %s refused: not its user", launch.id)
        raise _not_from_the_lms()
    if request.method == "POST" and _finished_since(launch, token.origin):
        raise PageError(
            _("Ce parcours a été terminé depuis l'ouverture de cette page."),
            _("Vos résultats restent consultables : rouvrez l'activité depuis votre cours."),
            409,
        )
    g.locale = launch.locale
    g.token = tokens.issue(launch, origin=token.origin)
    return launch


def start_token_chain(launch: Launch) -> None:
    """After this request finished the attempt: the pages it leads to may act again (start
    the next attempt), while tokens of the chain that began before the end stay read-only."""
    g.token = socle().tokens.issue(launch)


def _not_from_the_lms() -> PageError:
    return PageError(
        _("Cette page doit être ouverte depuis votre plateforme de formation."),
        _("Revenez à votre cours et cliquez sur l'activité Socle."),
        401,
    )


def _finished_since(launch: Launch, issued_at: datetime) -> bool:
    """Whether an attempt this launch may act on finished at or after ``issued_at``."""
    if launch.resource_link is None:
        return False
    attempts = socle().player.attempts_of(db_session(), launch)
    return any(a.finished_at is not None and _aware(a.finished_at) >= issued_at for a in attempts)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
