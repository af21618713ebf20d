"""The xAPI profile and the IRIs the tool mints: each resolves to a short description.

LRS consumers follow an activity or extension IRI found in a statement and land here; the
description comes from the xapi package and, for activities, the names from the content.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify

from lti_tool.domain.framework import Text as ContentText
from lti_tool.player.events import XapiEvents
from lti_tool.web import socle
from xapi.profile import describe_iri, profile_document
from xapi.vocabulary import parse_activity_path

bp = Blueprint("xapi_iris", __name__, url_prefix="/xapi")


def _json(document: dict[str, Any], media_type: str = "application/json") -> Response:
    response = jsonify(document)
    response.mimetype = media_type
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/profile.jsonld")
def profile() -> Response:
    return _json(profile_document(socle().settings.base_url), "application/ld+json")


def _definition(kind: str, identifier: str) -> dict[str, Any] | None:
    """The activity's name and description from the content (the same ``definition`` the
    statements carry); None when the content has no such thing."""
    content = socle().catalogue.content
    if kind == "challenge":
        events = socle().player.events
        if isinstance(events, XapiEvents):
            return events.challenge_definition(identifier)
        return None
    if kind == "course":
        return {}  # the course's title lives in the LMS; the statements carry it
    description = None
    if kind == "parcours" and identifier in content.parcours:
        text = content.parcours[identifier].title
        description = content.parcours[identifier].description
    elif kind == "competence" and identifier in content.competences:
        text = content.competences[identifier].title
    elif kind == "tube" and identifier in content.tubes:
        text = content.tubes[identifier].title
    elif kind == "skill" and identifier in content.skills:
        text = content.skills[identifier].description
    else:
        return None
    found: dict[str, Any] = {"name": _language_map(text)}
    if description is not None:
        found["description"] = _language_map(description)
    return found


def _language_map(text: ContentText) -> dict[str, str]:
    names = {"fr": text.fr}
    if text.en:
        names["en"] = text.en
    return names


@bp.get("/<path:rest>")
def describe(rest: str) -> Response:
    """Activity IRIs answer with xAPI activity metadata (an Activity Definition); other IRIs
    (extensions, templates, the profile) with their description."""
    path = f"/xapi/{rest}"
    description = describe_iri(socle().settings.base_url, path)
    if description is None:
        abort(404)
    activity = parse_activity_path(path)
    if activity is not None:
        definition = _definition(*activity)
        if definition is None:
            abort(404)
        description = {**description, **definition}
    return _json(description)
