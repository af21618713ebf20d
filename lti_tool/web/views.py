"""Public pages: the landing page for LMS administrators and the health checks."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template
from flask_babel import get_locale

from lti_tool.web import db_session, socle

bp = Blueprint("web", __name__)


@bp.get("/")
def landing() -> str:
    ext = socle()
    base = ext.settings.base_url
    urls = {
        "login": f"{base}/lti/login",
        "launch": f"{base}/lti/launch",
        "deep_linking": f"{base}/lti/launch",
        "jwks": f"{base}/lti/jwks",
        "registration": f"{base}/lti/register",
    }
    # The catalogue in the page's language (Accept-Language), like the rest of the page.
    locale = str(get_locale() or "fr")
    return render_template(
        "landing.html", urls=urls, base_url=base, parcours=ext.catalogue.summaries(locale)
    )


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """200 when the database answers, its schema is at head and the content is loaded."""
    from lti_tool.observability.readiness import check

    readiness = check(db_session(), len(socle().catalogue.content.parcours))
    return jsonify(readiness.as_dict()), 200 if readiness.ready else 503
