"""The UI languages: French first, English when the launch or the browser asks for it."""

from __future__ import annotations

from typing import cast

from babel.support import NullTranslations
from flask import Flask, g, has_app_context
from flask_babel import Babel, Domain

SUPPORTED_LOCALES = ("fr", "en")


class RequestDomain(Domain):  # type: ignore[misc]
    """Flask-Babel's message domain, whose catalogue is looked up once per request.

    Flask-Babel looks it up again for every string (its request state, domain and locale,
    each through Flask's context locals): a tenth of a rendered page. The catalogue is the one
    Flask-Babel picks — it fixes the request's locale on its first lookup — so the pages are
    the same.
    """

    def get_translations(self) -> NullTranslations:
        if not has_app_context():
            return cast(NullTranslations, super().get_translations())
        found: tuple[RequestDomain, NullTranslations] | None = g.get(_TRANSLATIONS)
        if found is None or found[0] is not self:
            found = (self, cast(NullTranslations, super().get_translations()))
            setattr(g, _TRANSLATIONS, found)
        return found[1]


def install_request_translations(app: Flask, babel: Babel) -> None:
    """Python code (``gettext``, lazy strings) and templates translate through
    :class:`RequestDomain`."""
    domain = RequestDomain(domain=app.config.get("BABEL_DOMAIN", "messages"))
    babel.domain_instance = domain  # Flask-Babel's default domain (a cached property)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: domain.get_translations().ugettext(s),
        ngettext=lambda s, p, n: domain.get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: domain.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: domain.get_translations().unpgettext(c, s, p, n),
    )


_TRANSLATIONS = "_socle_translations"
