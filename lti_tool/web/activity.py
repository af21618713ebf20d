"""Pages reached after a launch: the activity home (agent or teacher) and deep linking.

Every request names its launch with the signed token ``lt`` (query or form), never with a
cookie: the tool runs in LMS iframes where third-party cookies are blocked.
"""

from __future__ import annotations

import csv
import hmac
import io
import logging
import time
from datetime import UTC, datetime
from typing import Any, cast

import jwt
from flask import Blueprint, Response, abort, g, render_template, request
from flask_babel import gettext as _
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from sqlalchemy import select

from lti_tool.lti.keys import KeyService
from lti_tool.lti.launch import DEEP_LINKING_REQUEST, DL_CLAIM
from lti_tool.lti.registrations import to_registration
from lti_tool.lti.roles import TEACHER
from lti_tool.lti.service import load_launch
from lti_tool.lti.tokens import TOKEN_FIELD, TokenError
from lti_tool.models import Attempt, Launch
from lti_tool.web import db_session, socle, transaction
from lti_tool.web.errors import render_error

bp = Blueprint("activity", __name__)
log = logging.getLogger(__name__)


class PageError(Exception):
    def __init__(self, message: str, advice: str, status: int) -> None:
        super().__init__(message)
        self.message, self.advice, self.status = message, advice, status


def current_launch() -> Launch:
    """The launch named by the request's token; sets the page locale and a fresh token.

    Refuses a token of another user than the launch's, and a form posted with a token issued
    before the attempt finished (see :mod:`lti_tool.lti.tokens`).
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
    launch = load_launch(db_session(), token.launch_id)
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
    return any(
        a.finished_at is not None and _aware(a.finished_at) >= issued_at for a in attempts
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@bp.errorhandler(PageError)
def _page_error(exc: PageError) -> tuple[str, int]:
    return render_error(exc.message, exc.advice, exc.status)


@bp.get("/activity")
def home() -> str | tuple[str, int]:
    launch = current_launch()
    link = launch.resource_link
    if link is None:
        abort(404)
    summary = (
        socle().catalogue.summary(link.parcours_id, launch.locale) if link.parcours_id else None
    )
    if summary is None:
        advice = (
            _("Supprimez cette activité et ajoutez-la de nouveau avec le bouton d'ajout de Socle.")
            if launch.role == TEACHER
            else _("Prévenez votre formateur : l'activité doit être reconfigurée.")
        )
        return render_error(
            _("Cette activité n'est associée à aucun parcours Socle disponible."), advice, 404
        )
    if launch.role != TEACHER:
        from lti_tool.player.views import learner_home

        return learner_home(launch, summary)
    return render_template("activity_teacher.html", launch=launch, parcours=summary)


def _deep_linking_launch() -> Launch:
    launch = current_launch()
    if launch.message_type != DEEP_LINKING_REQUEST:
        abort(404)
    if launch.role != TEACHER:
        raise PageError(
            _("L'ajout d'une activité Socle est réservé aux formateurs."),
            _("Demandez à un formateur du cours d'ajouter l'activité."),
            403,
        )
    return launch


@bp.get("/deep-linking")
def deep_linking() -> str:
    launch = _deep_linking_launch()
    return render_template(
        "deep_linking.html", catalogue=socle().catalogue.summaries(launch.locale), error=None
    )


@bp.post("/deep-linking")
def deep_linking_choose() -> str | tuple[str, int]:
    launch = _deep_linking_launch()
    ext = socle()
    parcours_id = request.form.get("parcours", "")
    summary = ext.catalogue.summary(parcours_id, launch.locale)
    if summary is None:
        return (
            render_template(
                "deep_linking.html",
                catalogue=ext.catalogue.summaries(launch.locale),
                error=_("Choisissez un parcours dans la liste."),
            ),
            400,
        )
    settings: dict[str, Any] = launch.claims[DL_CLAIM + "deep_linking_settings"]
    with transaction() as session:
        key = KeyService.from_settings(session, ext.settings).ensure_key()
    registration = to_registration(launch.platform, key)
    resource = (
        DeepLinkResource()
        .set_title(summary.title)
        .set_url(ext.settings.base_url + "/lti/launch")
        .set_custom_params({"parcours": summary.id})
        .set_lineitem(
            LineItem()
            .set_label(summary.title)
            .set_score_maximum(100)
            .set_resource_id(summary.id)
            .set_tag("socle-mastery")
        )
    )
    deep_link = DeepLink(registration, launch.deployment.deployment_id, cast(Any, settings))
    message = deep_link.get_message_jwt([resource])
    message["iat"] = int(time.time())
    if settings.get("data") is None:
        message.pop(DL_CLAIM + "data", None)
    encoded = jwt.encode(message, key.private_pem, algorithm="RS256", headers={"kid": key.kid})
    return render_template(
        "autosubmit.html",
        action=settings["deep_link_return_url"],
        fields={"JWT": encoded},
        title=_("Retour à votre plateforme"),
    )


@bp.get("/activity/report")
def report() -> str | Response:
    """The course report of one activity: every agent's attempts, status, mastery, levels.

    Teachers only; preview attempts are left out. ``?format=csv`` downloads the same table.
    """
    launch = current_launch()
    if launch.role != TEACHER or launch.resource_link is None:
        raise PageError(
            _("Le suivi de l'activité est réservé aux formateurs."),
            _("Revenez à votre cours."),
            403,
        )
    link = launch.resource_link
    rows = db_session().scalars(
        select(Attempt)
        .where(Attempt.resource_link_pk == link.id, Attempt.preview.is_(False))
        .order_by(Attempt.started_at)
    )
    codes: list[str] = []
    lines = []
    for attempt in rows:
        levels = (attempt.result or {}).get("levels", {})
        for code in levels:
            if code not in codes:
                codes.append(code)
        user = attempt.user
        lines.append(
            {
                "agent": (user.name or user.email or user.sub) if user else "—",
                "number": attempt.number,
                "status": attempt.status,
                "started": attempt.started_at,
                "finished": attempt.finished_at,
                "answers": attempt.answer_count,
                "mastery": None if attempt.mastery is None else round(attempt.mastery * 100),
                "levels": levels,
                "grade": attempt.grade_status,
            }
        )
    codes.sort(key=lambda c: tuple(int(p) for p in c.split(".")))
    if request.args.get("format") == "csv":
        return _report_csv(lines, codes)
    summary = socle().catalogue.summary(link.parcours_id, launch.locale)
    return render_template(
        "activity_report.html", lines=lines, codes=codes, link=link, parcours=summary
    )


# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and carriage
# return, strips them and then does). LMS user ids and names are chosen by whoever controls
# the account, so they must not reach a teacher's spreadsheet as formulas (OWASP "CSV
# Injection": prefix such a cell with an apostrophe, which makes it text).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """``value`` as a CSV cell a spreadsheet shows and never evaluates.

    Numbers stay numbers (a negative number would be the only number starting with ``-``,
    and none is exported); every string starting with a formula trigger gets a ``'``.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _report_csv(lines: list[dict[str, Any]], codes: list[str]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(
        ["agent", "passage", "statut", "debut", "fin", "reponses", "maitrise_pct", *codes]
    )
    for line in lines:
        writer.writerow(
            csv_cell(value)
            for value in [
                line["agent"],
                line["number"],
                line["status"],
                line["started"].isoformat() if line["started"] else "",
                line["finished"].isoformat() if line["finished"] else "",
                line["answers"],
                "" if line["mastery"] is None else line["mastery"],
                *[line["levels"].get(code, "") for code in codes],
            ]
        )
    response = Response("\ufeff" + buffer.getvalue(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="suivi-socle.csv"'
    return response
