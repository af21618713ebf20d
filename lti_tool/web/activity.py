"""Pages reached after a launch: the activity home (agent or teacher) and deep linking.

Every request names its launch with the signed token ``lt`` (query or form), never with a
cookie: the tool runs in LMS iframes where third-party cookies are blocked
(:mod:`lti_tool.pages.launch`). The course report lives in :mod:`lti_tool.reports`.
"""

from __future__ import annotations

import logging
import time
from typing import Any, cast

import jwt
from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from lti_tool.lti.keys import KeyService
from lti_tool.lti.launch import DEEP_LINKING_REQUEST, DL_CLAIM
from lti_tool.lti.registrations import to_registration
from lti_tool.lti.roles import TEACHER
from lti_tool.models import Launch
from lti_tool.pages import socle, transaction
from lti_tool.pages.errors import render_error
from lti_tool.pages.launch import PageError, current_launch, start_token_chain
from lti_tool.reports.exports import FORMULA_TRIGGERS, csv_cell

bp = Blueprint("activity", __name__)
log = logging.getLogger(__name__)


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
        "deep_linking.html", groups=socle().catalogue.groups(launch.locale), error=None
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
                groups=ext.catalogue.groups(launch.locale),
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


# Kept importable from here: the launch plumbing moved to ``lti_tool.pages.launch``, the CSV
# neutraliser to ``lti_tool.reports.exports``.
__all__ = [
    "FORMULA_TRIGGERS",
    "PageError",
    "bp",
    "csv_cell",
    "current_launch",
    "start_token_chain",
]
