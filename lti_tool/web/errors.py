"""Error pages that say what happened and what to do, in the agent's language."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from lti_tool.pages.errors import render_error

__all__ = ["init_app", "render_error"]




def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[str, int]:
        status = exc.code or 500
        if status == 404:
            return render_error(_("Cette page n'existe pas."), _("Vérifiez l'adresse."), 404)
        if status == 405:
            return render_error(
                _("Cette adresse ne s'utilise pas ainsi."), _("Revenez à la page précédente."), 405
            )
        if status == 413:
            return render_error(_("La demande envoyée est trop volumineuse."), "", 413)
        return render_error(
            _("La demande n'a pas pu être traitée."),
            _("Revenez à votre plateforme de formation et réessayez."),
            status,
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[str, int]:
        app.logger.exception("unexpected error: %s", exc)
        return render_error(
            _("Une erreur inattendue s'est produite."),
            _("Réessayez dans un instant ; si elle persiste, prévenez votre référent."),
            500,
        )
