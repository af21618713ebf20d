"""The UI languages: French first, English when the launch or the browser asks for it."""

from __future__ import annotations

from typing import cast

from babel.support import NullTranslations
from flask import Flask, g, has_app_context
from flask_babel import get_translations

SUPPORTED_LOCALES = ("fr", "en")


def install_template_gettext(app: Flask) -> None:
    """Templates translate through the request's catalogue, looked up once per request.

    Flask-Babel's own callables look the catalogue up again for every string (its request
    state, domain and locale, each through Flask's context locals): a tenth of a rendered
    page. The catalogue is the one Flask-Babel picks — it fixes the request's locale on its
    first lookup — so the pages are the same.
    """
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )


def _translations() -> NullTranslations:
    if not has_app_context():
        return cast(NullTranslations, get_translations())
    found: NullTranslations | None = g.get(_TRANSLATIONS)
    if found is None:
        found = cast(NullTranslations, get_translations())
        setattr(g, _TRANSLATIONS, found)
    return found


_TRANSLATIONS = "_socle_translations"
