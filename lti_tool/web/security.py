"""Security headers on every response.

``frame-ancestors`` lists only the origins of registered platforms: the tool may be embedded
by the LMSs that launch it and by nobody else (clickjacking). Page tokens travel in URLs, so
no page sends a ``Referer`` and no access log keeps them (:mod:`lti_tool.web.logs`).
"""

from __future__ import annotations

from flask import Flask, Response, g

from lti_tool.web import socle


def init_app(app: Flask) -> None:
    from lti_tool.web.logs import install_log_redaction

    install_log_redaction()  # page tokens never reach werkzeug's or gunicorn's logs

    @app.after_request
    def _headers(response: Response) -> Response:
        # Pages that must never be framed (the admin console) set their own values in ``g``.
        ancestors = g.get("csp_frame_ancestors") or " ".join(
            ["'self'", *socle().framing.origins()]
        )
        form_action = g.get("csp_form_action") or ancestors
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "script-src 'self'; object-src 'none'; base-uri 'none'; "
            f"form-action {form_action}; frame-ancestors {ancestors}"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response
