"""HTTP endpoints of the LTI flow: OIDC login, launch (redirect URI), the tool's JWKS."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lti_tool.lti.keys import KeyService
from lti_tool.lti.launch import (
    BROWSER_COOKIE,
    DEEP_LINKING_REQUEST,
    LaunchRejected,
    LaunchValidator,
)
from lti_tool.lti.limits import client_address
from lti_tool.lti.login import BROWSER_COOKIE_MAX_AGE, LoginBinding
from lti_tool.lti.messages import explain
from lti_tool.lti.service import LoginLimits, record_launch, start_login
from lti_tool.pages import socle, transaction
from lti_tool.pages.errors import render_error

log = logging.getLogger(__name__)
bp = Blueprint("lti", __name__, url_prefix="/lti")


def _rejected(exc: LaunchRejected, what: str) -> tuple[str, int]:
    log.warning("%s rejected: %s (%s) from %s", what, exc.code, exc.detail, request.remote_addr)
    message, advice = explain(exc.code)
    return render_error(message, advice, exc.status, code=exc.code)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int]:
    """OIDC login; rate-limited per client address by ``limits.init_login_limits``."""
    params = {k: v for k, v in (request.form or request.args).items() if isinstance(v, str)}
    ext = socle()
    binding = LoginBinding(ext.settings.secret_key)
    browser_id = binding.browser_id(request.cookies.get(BROWSER_COOKIE))
    try:
        with transaction() as session:
            target = start_login(
                session,
                params,
                base_url=ext.settings.base_url,
                lifetime=ext.settings.login_state_lifetime,
                binding=binding,
                browser_id=browser_id,
                client_address=client_address(),
                limits=LoginLimits(
                    per_address=ext.settings.login_states_per_address,
                    total=ext.settings.login_states_total,
                ),
            )
    except LaunchRejected as exc:
        return _rejected(exc, "login")
    response = redirect(target.url, code=302)
    secure = request.is_secure
    # One cookie per browser, whatever the number of logins: its id binds every state.
    response.set_cookie(
        BROWSER_COOKIE,
        browser_id,
        max_age=BROWSER_COOKIE_MAX_AGE,
        path="/lti/",
        httponly=True,
        secure=secure,
        samesite="None" if secure else "Lax",
        partitioned=secure,
    )
    return response


@bp.post("/launch")
def launch() -> Response | tuple[str, int]:
    ext = socle()
    form = {k: v for k, v in request.form.items() if isinstance(v, str)}
    try:
        with transaction() as session:
            validated = LaunchValidator(
                session,
                ext.jwks,
                LoginBinding(ext.settings.secret_key),
                leeway=ext.settings.clock_leeway,
            ).validate(form, request.cookies)
            row = record_launch(session, validated, lifetime=ext.settings.token_lifetime)
            launch_id = row.id
            is_deep_link = row.message_type == DEEP_LINKING_REQUEST
            token = ext.tokens.issue(row)
    except LaunchRejected as exc:
        return _rejected(exc, "launch")
    log.info("launch accepted: %s", launch_id)
    endpoint = "activity.deep_linking" if is_deep_link else "activity.home"
    response = redirect(url_for(endpoint, lt=token), code=303)
    return response


@bp.get("/jwks")
def jwks() -> Response:
    ext = socle()
    with transaction() as session:
        keys = KeyService.from_settings(session, ext.settings)
        keys.ensure_key()
        document = keys.jwks()
    response = jsonify(document)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/register")
def register() -> str | tuple[str, int]:
    """LTI Dynamic Registration, for platforms whose host is in SOCLE_REGISTRATION_HOSTS.

    Unauthenticated: everything it fetches goes through ``safe_fetch``, it only ever adds a
    registration, and a refusal says what was wrong without any lower-level error text."""
    from sqlalchemy.exc import IntegrityError

    from lti_tool.lti.dynamic_registration import SocleRegistration
    from lti_tool.lti.registrations import (
        RegistrationError,
        RegistrationExists,
        add_platform,
        allowed_registration_hosts,
    )
    from lti_tool.lti.safe_fetch import FetchPolicy, FetchRefused, system_resolver
    from lti_tool.pages import db_session

    ext = socle()
    configuration = request.args.get("openid_configuration", "")
    if not configuration.startswith(("https://", "http://")):
        return render_error(
            _("Cette adresse sert à l'enregistrement automatique de Socle par une plateforme."),
            _("Collez-la dans l'écran « Enregistrer un outil LTI Advantage » de votre plateforme."),
            400,
            code="bad_registration",
        )
    registration = SocleRegistration(
        base_url=ext.settings.base_url,
        openid_configuration=configuration,
        registration_token=request.args.get("registration_token"),
        policy=FetchPolicy(
            allowed_hosts=allowed_registration_hosts(db_session(), ext.settings),
            local_hosts=ext.settings.registration_local_hosts,
            timeout=ext.settings.http_timeout,
            resolver=current_app.config.get("SOCLE_RESOLVER") or system_resolver,
        ),
    )
    try:
        data = registration.register_with_platform()
        with transaction() as session:
            add_platform(session, data, existing="refuse")
    except FetchRefused as exc:
        return _registration_refused(exc.code, exc.what, configuration)
    except (RegistrationExists, IntegrityError):
        return _registration_refused("exists", "", configuration)
    except RegistrationError:
        return _registration_refused("invalid", "", configuration)
    ext.framing.invalidate()
    log.info("dynamic registration stored for %s", _loggable(configuration))
    return render_template("registration_done.html", platform=data)


def _loggable(url: str) -> str:
    """The configuration URL as it may appear in a log line: one line, bounded."""
    return repr(url[:200])


def _registration_refused(code: str, field: str, configuration: str) -> tuple[str, int]:
    from lti_tool.lti.registration_messages import FIELD, REFUSALS

    status, message, advice = REFUSALS.get(code, REFUSALS["unreachable"])
    log.warning(
        "dynamic registration refused: %s%s for %s",
        code,
        f" ({field})" if field else "",
        _loggable(configuration),
    )
    text = str(message)
    if field:
        text = f"{text} {FIELD % {'field': field}}"
    page_code = "registration_not_allowed" if code == "host_not_allowed" else f"registration_{code}"
    return render_error(text, str(advice), status, code=page_code)
