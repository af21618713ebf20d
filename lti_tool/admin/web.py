"""Wiring of the console into the app: session cookie, CSRF, headers, sign-in and sign-out.

Every admin page: never framed (``frame-ancestors 'none'``), never cached, CSRF token on
every form (Flask-WTF's ``CSRFProtect``, checked for every POST under ``/admin`` only: LTI
launches are cross-site POSTs by design and carry their own state). The pages themselves are
in :mod:`lti_tool.admin.views`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect

from lti_tool.admin.audit import record
from lti_tool.admin.auth import (
    CLOCK_LEEWAY,
    AdminConsole,
    Administrator,
    SignInRefused,
    build_oauth,
    display_name,
    is_administrator,
    link_is_usable,
    use_sign_in_link,
)
from lti_tool.admin.settings import AdminSettings, PrivacySettings
from lti_tool.web import db_session, socle, transaction

log = logging.getLogger(__name__)
bp = Blueprint("admin", __name__, url_prefix="/admin")
csrf = CSRFProtect()
SESSION_KEY = "admin"
SEEN_KEY = "admin_seen"
ID_TOKEN_KEY = "admin_id_token"  # noqa: S105 - a session key name

F = TypeVar("F", bound=Callable[..., Any])


def console() -> AdminConsole:
    return cast(AdminConsole, current_app.extensions["socle_admin"])


def _loopback_http(base_url: str) -> bool:
    parts = urlsplit(base_url)
    return parts.scheme == "http" and (parts.hostname or "") in {"localhost", "127.0.0.1", "::1"}


def init_app(app: Flask) -> None:
    """Register the console on ``app`` (called by the app factory)."""
    settings = socle_settings(app)
    admin_settings = AdminSettings.load(settings)
    app.config.update(
        SESSION_COOKIE_NAME="socle_admin",
        SESSION_COOKIE_PATH="/admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure everywhere but plain http on a loopback address (the demo, the tests), where
        # a browser would drop a Secure cookie set over http.
        SESSION_COOKIE_SECURE=not _loopback_http(settings.base_url),
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=admin_settings.idle_minutes),
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_SSL_STRICT=False,  # the Referer is never sent (Referrer-Policy: no-referrer)
    )
    app.extensions["socle_admin"] = AdminConsole(
        settings=admin_settings,
        privacy=PrivacySettings.load(settings),
        http_timeout=settings.http_timeout,
        oauth=build_oauth(app, admin_settings, settings.http_timeout),
    )
    csrf.init_app(app)
    # The pages (``lti_tool.admin.views``) are added to ``bp`` by the app factory, which
    # imports them before calling this: views build on this module, not the reverse.
    app.register_blueprint(bp)

    @app.context_processor
    def _admin_helpers() -> dict[str, Any]:
        return {"has_endpoint": lambda name: name in app.view_functions}


def socle_settings(app: Flask) -> Any:
    return app.extensions["socle"].settings


@bp.before_request
def _guard() -> Response | None:
    g.csp_frame_ancestors = "'none'"
    g.csp_form_action = _form_action()
    if request.method == "POST":
        csrf.protect()
    return None


def _form_action() -> str:
    """'self', and the provider: sign-out posts here, then goes to the provider's logout."""
    issuer = console().settings.oidc_issuer
    parts = urlsplit(issuer)
    return f"'self' {parts.scheme}://{parts.netloc}" if parts.netloc else "'self'"


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


@bp.errorhandler(CSRFError)
def _csrf_failed(exc: CSRFError) -> tuple[str, int]:
    return (
        render_template(
            "admin/message.html",
            title=_("Formulaire expiré"),
            message=_(
                "Ce formulaire a expiré ou ne vient pas de cette console. Rechargez la page "
                "et recommencez."
            ),
        ),
        400,
    )


def current_admin() -> Administrator | None:
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    admin = Administrator.from_session(data)
    seen = session.get(SEEN_KEY)
    now = console().clock()
    if admin is None or not isinstance(seen, (int, float)):
        return None
    if now - datetime.fromtimestamp(seen, UTC) > console().idle:
        session.pop(SESSION_KEY, None)
        session.pop(SEEN_KEY, None)
        g.admin_session_expired = True
        return None
    session[SEEN_KEY] = now.timestamp()
    return admin


def admin_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        admin = current_admin()
        if admin is None:
            expired = "1" if g.get("admin_session_expired") else None
            return redirect(url_for("admin.login", expired=expired))
        g.admin = admin
        return view(*args, **kwargs)

    return cast(F, wrapper)


def audit(action: str, target: str, before: Any = None, after: Any = None) -> None:
    """Record an action of the signed-in administrator in the current transaction."""
    record(
        db_session(),
        actor=g.admin.email,
        action=action,
        target=target,
        before=before,
        after=after,
        at=console().clock(),
    )


def _sign_in(admin: Administrator, id_token: str | None = None) -> None:
    # A new session on sign-in (no fixation): only what the console needs is kept.
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = admin.as_session()
    session[SEEN_KEY] = console().clock().timestamp()
    if id_token:
        session[ID_TOKEN_KEY] = id_token


REFUSALS = {
    "not_admin": lambda: _(
        "Votre compte n'a pas accès à cette console. Demandez à un administrateur de Socle "
        "d'ajouter votre adresse à la liste des administrateurs."
    ),
    "state": lambda: _(
        "La connexion n'a pas pu être vérifiée (elle a peut-être été commencée dans un autre "
        "onglet). Recommencez."
    ),
    "token": lambda: _(
        "La réponse du fournisseur d'identité n'a pas pu être vérifiée. Recommencez ; si "
        "cela persiste, prévenez l'équipe technique."
    ),
    "provider": lambda: _(
        "Le fournisseur d'identité a refusé ou interrompu la connexion. Recommencez."
    ),
    "link_unknown": lambda: _("Ce lien de connexion n'est pas valide."),
    "link_used": lambda: _("Ce lien de connexion a déjà servi : demandez-en un nouveau."),
    "link_expired": lambda: _("Ce lien de connexion a expiré : demandez-en un nouveau."),
    "not_configured": lambda: _("La connexion par fournisseur d'identité n'est pas configurée."),
}


def _refused(reason: str, status: int = 403) -> tuple[str, int]:
    message = REFUSALS.get(reason, REFUSALS["token"])()
    return render_template("admin/login.html", refusal=message, **_login_context()), status


def _login_context() -> dict[str, Any]:
    return {"oidc": console().settings.oidc_configured}


@bp.get("/login")
def login() -> str:
    expired = request.args.get("expired") == "1"
    return render_template("admin/login.html", expired=expired, **_login_context())


@bp.get("/login/oidc")
def login_oidc() -> Any:
    try:
        client = console().client()
    except SignInRefused:
        abort(404)
    # The redirect URI registered at the provider: the public base URL, never the Host header.
    # State and nonce of 43 characters: ProConnect wants at least 32.
    return client.authorize_redirect(
        socle().settings.base_url + url_for("admin.callback"),
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
    )


@bp.get("/callback")
def callback() -> Any:
    from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
    from joserfc.errors import JoseError

    admin_console = console()
    try:
        client = admin_console.client()
    except SignInRefused:
        abort(404)
    try:
        token = client.authorize_access_token(leeway=CLOCK_LEEWAY)
        id_claims = token.get("userinfo")
        if not id_claims:
            raise SignInRefused("token", "no id_token")
        claims = admin_console.oidc_userinfo(token, id_claims)
    except MismatchingStateError:
        return _refused("state", 400)
    except OAuthError as exc:
        log.info("admin sign-in refused by the provider: %s", exc.error)
        return _refused("provider", 400)
    except (JoseError, ValueError) as exc:
        log.warning("admin sign-in: id_token refused: %s", exc)
        return _refused("token", 400)
    except SignInRefused as exc:
        log.warning("admin sign-in: %s", exc)
        return _refused(exc.reason if exc.reason in REFUSALS else "token", 400)
    email = str(claims.get("email") or "").strip().lower()
    if not is_administrator(admin_console.settings, claims):
        with transaction() as db:
            record(
                db,
                actor=email or str(claims.get("sub")),
                action="sign_in.refused",
                target="admin console",
                after={"reason": "not in the administrators' list"},
                at=admin_console.clock(),
            )
        session.clear()
        return _refused("not_admin")
    admin = Administrator(
        email=email, name=display_name(claims), subject=str(claims["sub"]), via="oidc"
    )
    with transaction() as db:
        record(
            db,
            actor=email,
            action="sign_in",
            target="admin console",
            after={"via": "oidc", "siret": claims.get("siret")},
            at=admin_console.clock(),
        )
    _sign_in(admin, token.get("id_token"))
    return redirect(url_for("admin.home"))


@bp.get("/link/<secret>")
def link(secret: str) -> str | tuple[str, int]:
    """A confirmation page: link previews (mail scanners) fetch with GET and must not use
    the link up; the sign-in happens on the button's POST."""
    if not link_is_usable(db_session(), secret, console().clock()):
        return _refused("link_expired", 400)
    return render_template("admin/link.html", secret=secret)


@bp.post("/link/<secret>")
def link_sign_in(secret: str) -> Any:
    now = console().clock()
    try:
        with transaction() as db:
            email = use_sign_in_link(db, secret, now)
            record(
                db,
                actor=email,
                action="sign_in",
                target="admin console",
                after={"via": "link"},
                at=now,
            )
    except SignInRefused as exc:
        return _refused(exc.reason, 400)
    _sign_in(Administrator(email=email, name=email, subject=email, via="link"))
    return redirect(url_for("admin.home"))


@bp.post("/logout")
def logout() -> Any:
    admin = current_admin()
    id_token = session.get(ID_TOKEN_KEY)
    session.clear()
    if admin is not None:
        with transaction() as db:
            record(
                db,
                actor=admin.email,
                action="sign_out",
                target="admin console",
                at=console().clock(),
            )
    signed_out = socle().settings.base_url + url_for("admin.signed_out")
    if admin is not None and admin.via == "oidc" and console().oauth is not None:
        client = console().client()
        try:
            metadata = client.load_server_metadata()
        except Exception:  # the provider is down: the local session is closed all the same
            log.warning("admin sign-out: provider metadata unavailable", exc_info=True)
            return redirect(signed_out)
        if metadata.get("end_session_endpoint"):
            result = client.create_logout_url(
                post_logout_redirect_uri=signed_out,
                id_token_hint=id_token,
            )
            return redirect(result["url"])
    return redirect(signed_out)


@bp.get("/signed-out")
def signed_out() -> str:
    return render_template(
        "admin/message.html",
        title=_("Vous êtes déconnecté"),
        message=_("Votre session d'administration est fermée."),
        link=(url_for("admin.login"), _("Se connecter à nouveau")),
    )
