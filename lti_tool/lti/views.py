"""HTTP endpoints of the LTI flow: OIDC login, launch (redirect URI), the tool's JWKS."""

from __future__ import annotations

import logging

import requests
from flask import Blueprint, jsonify, redirect, render_template, request, url_for
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
from lti_tool.web import socle, transaction
from lti_tool.web.errors import render_error

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
    except LaunchRejected as exc:
        return _rejected(exc, "launch")
    token = ext.tokens.issue(launch_id)
    log.info("launch accepted: %s", launch_id)
    endpoint = "activity.deep_linking" if is_deep_link else "activity.home"
    response = redirect(url_for(endpoint, lt=token), code=303)
    return response


@bp.get("/jwks")
def jwks() -> Response:
    ext = socle()
    with transaction() as session:
        keys = KeyService(
            session,
            publish_delay=ext.settings.key_publish_delay,
            retention=ext.settings.key_retention,
        )
        keys.ensure_key()
        document = keys.jwks()
    response = jsonify(document)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/register")
def register() -> str | tuple[str, int]:
    """LTI Dynamic Registration, for platforms whose host is in SOCLE_REGISTRATION_HOSTS."""
    from pylti1p3.exception import LtiException

    from lti_tool.lti.dynamic_registration import SocleRegistration, host_allowed
    from lti_tool.lti.registrations import RegistrationError

    ext = socle()
    configuration = request.args.get("openid_configuration", "")
    if not configuration.startswith(("https://", "http://")):
        return render_error(
            _("Cette adresse sert à l'enregistrement automatique de Socle par une plateforme."),
            _("Collez-la dans l'écran « Enregistrer un outil LTI Advantage » de votre plateforme."),
            400,
            code="bad_registration",
        )
    if not host_allowed(configuration, ext.settings.registration_hosts):
        log.warning("dynamic registration refused for %s", configuration)
        return render_error(
            _("L'enregistrement automatique n'est pas autorisé pour cette plateforme."),
            _("L'administrateur de Socle doit ajouter son nom d'hôte à SOCLE_REGISTRATION_HOSTS, "
              "ou enregistrer la plateforme avec « socle platform add »."),
            403,
            code="registration_not_allowed",
        )
    try:
        with transaction() as session:
            registration = SocleRegistration(
                session,
                base_url=ext.settings.base_url,
                openid_configuration=configuration,
                registration_token=request.args.get("registration_token"),
                timeout=ext.settings.http_timeout,
            )
            registration.register()
            platform = registration.platform
    except (RegistrationError, LtiException, requests.RequestException, KeyError,
            AssertionError, ValueError) as exc:
        log.warning("dynamic registration with %s failed: %s", configuration, exc)
        return render_error(
            _("L'enregistrement automatique a échoué."),
            _("Détail : %(detail)s. Vous pouvez aussi enregistrer Socle manuellement.",
              detail=str(exc)[:300]),
            502,
            code="registration_failed",
        )
    ext.framing.invalidate()
    return render_template("registration_done.html", platform=platform)
