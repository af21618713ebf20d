"""HTTP endpoints of the demo LMS: the course pages a person uses and the LTI endpoints.

Views stay thin: they read the request, ask `platform`/`services`/`store`, and render. Pages for
people answer in French; endpoints for the tool answer JSON (errors as `{"error": …}`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import flask
import jwt
from lti1p3platform.exceptions import (
    InvalidKeySetUrl,
    LtiException,
    MissingRequiredClaim,
    PreflightRequestValidationException,
    UnsupportedGrantType,
)
from lti1p3platform.response import Response as LtiResponse
from werkzeug.wrappers import Response as WerkzeugResponse

from .config import (
    CLIENT_ID,
    COURSE,
    DEFAULT_LOCALE,
    LEEWAY_SECONDS,
    LOCALES,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_NRPS,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    USERS,
    USERS_BY_SUB,
    DemoUser,
)
from .deep_linking import activity_from_content_item
from .hints import DeepLinkData, LaunchHint
from .lms import DemoLms, current_lms
from .platform import (
    CLAIM_DL_DATA,
    CLAIM_DL_ERRORMSG,
    CLAIM_DL_MSG,
    DemoMessageLaunch,
    DemoOIDCLogin,
    DemoPlatformConf,
    FlaskRequest,
    LaunchPlan,
    MessageRejectedError,
    to_flask_response,
)
from .services import DemoAgsService, DemoNrpsService, gradebook_score
from .store import AlreadyUsedError, NotFoundError

bp = flask.Blueprint("demo_lms", __name__)

USER_COOKIE = "demo_lms_utilisateur"
LOCALE_COOKIE = "demo_lms_langue"
COOKIE_MAX_AGE = 30 * 24 * 3600
TARGETS = ("iframe", "window")
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_PAGE_LIMIT = 1000
ACTIVITY_PROGRESS_FR = {
    "Initialized": "Non commencée",
    "Started": "Commencée",
    "InProgress": "En cours",
    "Submitted": "Soumise",
    "Completed": "Terminée",
}
GRADING_PROGRESS_FR = {
    "FullyGraded": "Notée",
    "Pending": "En attente",
    "PendingManual": "Correction manuelle attendue",
    "Failed": "Échec de la notation",
    "NotReady": "Pas encore notée",
}


# --- who is looking ------------------------------------------------------------------------


def _chosen(param: str, cookie: str, allowed: Mapping[str, Any]) -> str | None:
    """A demo choice from the URL (which wins) or the cookie, when it is a known value."""
    value = flask.request.args.get(param) or flask.request.cookies.get(cookie)
    return value if value in allowed else None


def current_user() -> DemoUser | None:
    key = _chosen("utilisateur", USER_COOKIE, USERS)
    return USERS[key] if key else None


def current_locale() -> str:
    return _chosen("langue", LOCALE_COOKIE, LOCALES) or DEFAULT_LOCALE


def _page(template: str, status: int = 200, **context: Any) -> WerkzeugResponse:
    html = flask.render_template(
        f"demo_lms/{template}",
        course=COURSE,
        user=current_user(),
        users=USERS,
        locale=current_locale(),
        locales=LOCALES,
        **context,
    )
    return flask.make_response(html, status)


def _error_page(status: int, title: str, message: str) -> WerkzeugResponse:
    return _page("error.html", status, title=title, message=message)


def _require_user(*, instructor: bool = False) -> DemoUser | WerkzeugResponse:
    user = current_user()
    if user is None:
        return flask.redirect(flask.url_for("demo_lms.course"), code=303)
    if instructor and not user.is_instructor:
        return _error_page(
            403,
            "Réservé à l'enseignant",
            "Cette page est réservée à l'enseignant du cours. Choisissez « Enseignant » sur "
            "la page du cours.",
        )
    return user


def _back_to_course(**params: str) -> WerkzeugResponse:
    """Leave the tool's frame and show the course page.

    Inside an iframe a redirect would nest the LMS in itself; browsers say where a navigation
    happens (`Sec-Fetch-Dest`), so frames get a page that navigates the top window and other
    clients get a plain redirect.
    """
    query = urlencode({key: value for key, value in params.items() if value})
    target = flask.url_for("demo_lms.course") + (f"?{query}" if query else "")
    if flask.request.headers.get("Sec-Fetch-Dest") in {"iframe", "frame"}:
        return _page("frame_exit.html", target=target)
    return flask.redirect(target, code=303)


# --- course pages --------------------------------------------------------------------------


@bp.get("/")
def course() -> WerkzeugResponse:
    """The course page; `?utilisateur=` and `?langue=` choose who is looking and the locale."""
    lms = current_lms()
    user = current_user()
    activities = lms.store.activities()
    score_counts = {
        activity.id: len(lms.store.scores(activity.line_item_id))
        for activity in activities
        if activity.line_item_id
    }
    args = flask.request.args
    added = lms.store.activity(args["ajout"]) if args.get("ajout") else None
    response = _page(
        "course.html",
        activities=activities if user else [],
        score_counts=score_counts,
        added=added,
        no_activity_added=args.get("info") == "aucune-activite",
        lti_msg=args.get("lti_msg"),
        lti_errormsg=args.get("lti_errormsg"),
    )
    secure = flask.request.is_secure
    for param, cookie, allowed in (
        ("utilisateur", USER_COOKIE, USERS),
        ("langue", LOCALE_COOKIE, LOCALES),
    ):
        if args.get(param) in allowed:
            response.set_cookie(
                cookie,
                args[param],
                max_age=COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=secure,
            )
    return response


@bp.get("/return")
def launch_return() -> WerkzeugResponse:
    """`launch_presentation.return_url`: the tool sends the person back here when done."""
    args = flask.request.args
    return _back_to_course(
        lti_msg=args.get("lti_msg", ""), lti_errormsg=args.get("lti_errormsg", "")
    )


@bp.get("/activities/<activity_id>")
def activity_page(activity_id: str) -> WerkzeugResponse:
    """The activity embedded in the course page, like Moodle's "embed" display."""
    user = _require_user()
    if isinstance(user, WerkzeugResponse):
        return user
    activity = current_lms().store.activity(activity_id)
    if activity is None:
        return _error_page(404, "Activité introuvable", "Cette activité n'existe pas.")
    return _page("activity.html", activity=activity)


@bp.get("/activities/<activity_id>/scores")
def activity_scores(activity_id: str) -> WerkzeugResponse:
    """The gradebook column of one activity, as received through AGS."""
    user = _require_user(instructor=True)
    if isinstance(user, WerkzeugResponse):
        return user
    lms = current_lms()
    activity = lms.store.activity(activity_id)
    if activity is None:
        return _error_page(404, "Activité introuvable", "Cette activité n'existe pas.")
    rows = []
    line_item = None
    if activity.line_item_id:
        try:
            line_item = lms.store.line_item(activity.line_item_id)
        except NotFoundError:
            line_item = None
    if line_item is not None:
        for user_id, score in sorted(lms.store.scores(line_item.id).items()):
            member = USERS_BY_SUB.get(user_id)
            rows.append(
                {
                    "name": member.name if member else user_id,
                    "score": score,
                    "grade": gradebook_score(line_item, score),
                }
            )
    return _page(
        "scores.html",
        activity=activity,
        line_item=line_item,
        rows=rows,
        activity_progress=ACTIVITY_PROGRESS_FR,
        grading_progress=GRADING_PROGRESS_FR,
    )


@bp.get("/deep-link")
def deep_link_page() -> WerkzeugResponse:
    """Where the teacher picks a parcours in the tool (Deep Linking), inside the course page."""
    user = _require_user(instructor=True)
    if isinstance(user, WerkzeugResponse):
        return user
    return _page("deep_link.html")


# --- launches: third-party initiated login -------------------------------------------------


def _initiate_login(
    user: DemoUser, activity_id: str | None, target_link_uri: str | None
) -> WerkzeugResponse:
    target = flask.request.args.get("target", "iframe")
    if target not in TARGETS:
        return _error_page(400, "Lancement impossible", "Cible d'affichage inconnue.")
    lms = current_lms()
    hint = lms.hints.sign_launch(
        LaunchHint(
            user_key=user.key, activity_id=activity_id, locale=current_locale(), target=target
        )
    )
    login = DemoOIDCLogin(FlaskRequest(flask.request), lms.platform_conf())
    login.set_lti_message_hint(lti_message_hint=hint)
    if target_link_uri is None:
        login.set_deeplinking_launch_url()
    else:
        login.set_launch_url(target_link_uri)
    response: flask.Response = login.initiate_login(user.sub)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/activities/<activity_id>/launch")
def launch_activity(activity_id: str) -> WerkzeugResponse:
    """Start a resource-link launch: redirect to the tool's OIDC login URL."""
    user = _require_user()
    if isinstance(user, WerkzeugResponse):
        return user
    lms = current_lms()
    activity = lms.store.activity(activity_id)
    if activity is None:
        return _error_page(404, "Activité introuvable", "Cette activité n'existe pas.")
    return _initiate_login(user, activity.id, activity.url or lms.tool.launch_url)


@bp.get("/deep-link/launch")
def launch_deep_link() -> WerkzeugResponse:
    """Start a Deep Linking launch for the teacher."""
    user = _require_user(instructor=True)
    if isinstance(user, WerkzeugResponse):
        return user
    return _initiate_login(user, None, None)


# --- OIDC authorization endpoint -----------------------------------------------------------


_EXPECTED_AUTH_PARAMS = {
    "scope": "openid",
    "response_type": "id_token",
    "response_mode": "form_post",
    "prompt": "none",
    "client_id": CLIENT_ID,
}


def _plan_launch(lms: DemoLms, params: Mapping[str, str]) -> LaunchPlan:
    """Check the tool's authentication request and decide what the id_token will say."""
    for name, expected in _EXPECTED_AUTH_PARAMS.items():
        if params.get(name) != expected:
            raise MessageRejectedError(
                f"{name} must be {expected!r}",
                f"la demande d'authentification de l'outil a un paramètre {name} incorrect "
                f"(attendu : {expected})",
            )
    for name in ("nonce", "state", "login_hint", "lti_message_hint"):
        if not params.get(name):
            raise MessageRejectedError(
                f"{name} missing", f"il manque le paramètre {name} à la demande de l'outil"
            )
    if params.get("redirect_uri") not in lms.tool.redirect_uris:
        raise MessageRejectedError(
            "redirect_uri not registered",
            "l'adresse de retour (redirect_uri) demandée par l'outil n'est pas enregistrée",
        )
    hint = lms.hints.read_launch(params["lti_message_hint"])
    user = USERS.get(hint.user_key)
    if user is None or params["login_hint"] != user.sub:
        raise MessageRejectedError(
            "login_hint does not match the user who launched",
            "l'utilisateur annoncé par l'outil n'est pas celui qui a lancé l'activité",
        )
    locale = hint.locale if hint.locale in LOCALES else DEFAULT_LOCALE
    document_target = hint.target if hint.target in TARGETS else "iframe"
    return_url = lms.urls.absolute(flask.url_for("demo_lms.launch_return"))
    if hint.activity_id is None:
        if not user.is_instructor:
            raise MessageRejectedError(
                "deep linking is for instructors", "seul l'enseignant peut ajouter une activité"
            )
        return LaunchPlan(
            user=user,
            locale=locale,
            document_target=document_target,
            return_url=return_url,
            deep_link_data=lms.hints.sign_deep_link_data(user.key),
        )
    activity = lms.store.activity(hint.activity_id)
    if activity is None:
        raise MessageRejectedError("activity gone", "cette activité n'existe plus")
    line_item_url = None
    if activity.line_item_id:
        try:
            line_item_url = lms.urls.lineitem(lms.store.line_item(activity.line_item_id).id)
        except NotFoundError:
            line_item_url = None
    return LaunchPlan(
        user=user,
        locale=locale,
        document_target=document_target,
        return_url=return_url,
        activity=activity,
        line_item_url=line_item_url,
    )


@bp.route("/auth", methods=["GET", "POST"])
def authorize() -> WerkzeugResponse:
    """OIDC authorization endpoint: answers with an auto-submitting form carrying the id_token."""
    lms = current_lms()
    request = flask.request
    params = request.args if request.method == "GET" else request.form
    try:
        plan = _plan_launch(lms, params)
        launch = DemoMessageLaunch(
            FlaskRequest(request), lms.platform_conf(), plan=plan, urls=lms.urls
        )
        response: flask.Response = launch.lti_launch()
    except MessageRejectedError as exc:
        return _error_page(400, "Lancement refusé", exc.message_fr)
    except PreflightRequestValidationException:
        return _error_page(
            400, "Lancement refusé", "La demande d'authentification de l'outil est incomplète."
        )
    return response


# --- Deep Linking return -------------------------------------------------------------------


def _once_keys(claims: Mapping[str, Any], data: DeepLinkData) -> dict[str, float]:
    exp = float(claims["exp"]) + LEEWAY_SECONDS
    return {f"dl-nonce:{claims['nonce']}": exp, f"dl-request:{data.request_id}": data.expires_at}


@bp.post("/deep-link-return")
def deep_link_return() -> WerkzeugResponse:
    """Receive the tool's LtiDeepLinkingResponse; store the returned activity."""
    lms = current_lms()
    token = flask.request.form.get("JWT")
    if not token:
        return _error_page(400, "Réponse refusée", "La réponse de l'outil ne contient pas de JWT.")
    try:
        claims, items = lms.platform_conf().verify_deep_link_response(token)
        data = lms.hints.read_deep_link_data(claims.get(CLAIM_DL_DATA))
        requester = USERS.get(data.user_key)
        if requester is None or not requester.is_instructor:
            raise MessageRejectedError(
                "requester is not an instructor", "seul l'enseignant peut ajouter une activité"
            )
        if len(items) > 1:
            raise MessageRejectedError(
                "accept_multiple is false", "une seule activité peut être ajoutée à la fois"
            )
        once = _once_keys(claims, data)
        added_id = None
        if items:
            activity, line_item = activity_from_content_item(items[0], lms.tool)
            lms.store.add_activity(activity, line_item, once)
            added_id = activity.id
        else:
            lms.store.use_once(once)
    except MessageRejectedError as exc:
        return _error_page(
            400, "Réponse refusée", f"Réponse de l'outil refusée : {exc.message_fr}."
        )
    except AlreadyUsedError:
        return _error_page(
            400, "Réponse refusée", "Cette réponse de l'outil a déjà été reçue une fois."
        )
    messages = {
        "lti_msg": str(claims.get(CLAIM_DL_MSG) or ""),
        "lti_errormsg": str(claims.get(CLAIM_DL_ERRORMSG) or ""),
    }
    if added_id is not None:
        return _back_to_course(ajout=added_id, **messages)
    return _back_to_course(info="aucune-activite", **messages)


# --- JWKS and token endpoint ---------------------------------------------------------------


@bp.get("/jwks")
def jwks() -> WerkzeugResponse:
    response = flask.jsonify(current_lms().platform_conf().get_jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _oauth_error(status: int, error: str, description: str) -> WerkzeugResponse:
    response = flask.jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/token")
def token() -> WerkzeugResponse:
    """OAuth 2 client-credentials grant with a JWT client assertion (IMS Security §4.1).

    Every failure is a 400/401 JSON error as RFC 6749 §5.2 describes, never a 500.
    """
    lms = current_lms()
    form = flask.request.form
    missing = [
        name
        for name in ("grant_type", "client_assertion_type", "client_assertion", "scope")
        if not form.get(name)
    ]
    if missing:
        return _oauth_error(400, "invalid_request", f"missing parameter(s): {', '.join(missing)}")
    if form["grant_type"] != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "use client_credentials")
    if form["client_assertion_type"] != JWT_BEARER:
        return _oauth_error(400, "invalid_request", f"client_assertion_type must be {JWT_BEARER}")
    if form.get("client_id", CLIENT_ID) != CLIENT_ID:
        return _oauth_error(401, "invalid_client", "unknown client_id")
    conf = lms.platform_conf()
    try:
        claims = conf.verify_client_assertion(form["client_assertion"])
        lms.store.use_once({f"jti:{claims['jti']}": float(claims["exp"]) + LEEWAY_SECONDS})
        granted = conf.get_access_token(form.to_dict())
    except MessageRejectedError as exc:
        return _oauth_error(401, "invalid_client", exc.reason)
    except AlreadyUsedError:
        return _oauth_error(401, "invalid_client", "client assertion jti already used")
    except (
        LtiException,
        MissingRequiredClaim,
        UnsupportedGrantType,
        InvalidKeySetUrl,
        jwt.PyJWTError,
    ) as exc:
        return _oauth_error(400, "invalid_request", str(exc) or type(exc).__name__)
    if not granted["scope"]:
        return _oauth_error(400, "invalid_scope", "none of the requested scopes is offered")
    response = flask.jsonify(dict(granted))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- AGS and NRPS --------------------------------------------------------------------------


def _json_error(status: int, message: str, **headers: str) -> WerkzeugResponse:
    response = flask.jsonify({"error": message})
    response.status_code = status
    response.headers.update(headers)
    return response


def _query(*allowed: str) -> dict[str, Any]:
    """The known query parameters, with `page`/`limit` as positive integers.

    lti1p3platform passes every parameter to our hooks as keyword arguments and adds 1 to
    `page`, so unknown names and strings must not reach it.
    """
    query: dict[str, Any] = {}
    for name in allowed:
        value = flask.request.args.get(name)
        if value is None:
            continue
        if name in {"page", "limit"}:
            if not value.isdigit() or int(value) < 1:
                raise ValueError(f"{name} must be a positive integer")
            query[name] = min(int(value), MAX_PAGE_LIMIT) if name == "limit" else int(value)
        else:
            query[name] = value
    return query


def _service(
    context_id: str,
    scopes: frozenset[str],
    call: Callable[[DemoLms, DemoPlatformConf], LtiResponse],
) -> WerkzeugResponse:
    """Authenticate a service request, then let lti1p3platform handle it.

    A token must carry a scope that allows this very operation (the library accepts any scope
    of the service); a malformed token is a 401, not the library's 500.
    """
    if context_id != COURSE.id:
        return _json_error(404, "unknown context")
    parts = flask.request.headers.get("Authorization", "").split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return _json_error(401, "bearer token required", **{"WWW-Authenticate": "Bearer"})
    lms = current_lms()
    conf = lms.platform_conf()
    try:
        granted = conf.verify_access_token(parts[1])
    except MessageRejectedError as exc:
        return _json_error(401, exc.reason, **{"WWW-Authenticate": 'Bearer error="invalid_token"'})
    if not granted & scopes:
        return _json_error(
            403,
            f"token lacks one of the scopes {sorted(scopes)}",
            **{"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
        )
    if flask.request.method in {"POST", "PUT"} and not isinstance(
        flask.request.get_json(silent=True), dict
    ):
        return _json_error(415, "the body must be a JSON object with a JSON media type")
    try:
        return to_flask_response(call(lms, conf))
    except (LtiException, jwt.PyJWTError) as exc:
        return _json_error(401, str(exc) or "invalid token")
    except ValueError as exc:
        return _json_error(400, str(exc))


def _ags(
    lms: DemoLms, conf: DemoPlatformConf, query: Mapping[str, Any], line_item_id: str | None
) -> DemoAgsService:
    return DemoAgsService(
        FlaskRequest(flask.request, query),
        conf,
        store=lms.store,
        urls=lms.urls,
        line_item_id=line_item_id,
    )


LINEITEM_READ = frozenset({SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY})
LINEITEM_WRITE = frozenset({SCOPE_LINEITEM})


@bp.route("/api/contexts/<context_id>/lineitems", methods=["GET", "POST"])
def lineitems(context_id: str) -> WerkzeugResponse:
    if flask.request.method == "GET":

        def list_items(lms: DemoLms, conf: DemoPlatformConf) -> LtiResponse:
            query = _query("resource_link_id", "resource_id", "tag", "limit", "page")
            service = _ags(lms, conf, query, None)
            return service.handle_resp(service.handle_get_lineitems)

        return _service(context_id, LINEITEM_READ, list_items)

    def create_item(lms: DemoLms, conf: DemoPlatformConf) -> LtiResponse:
        service = _ags(lms, conf, {}, None)
        return service.handle_resp(service.handle_create_lineitem)

    return _service(context_id, LINEITEM_WRITE, create_item)


@bp.route("/api/contexts/<context_id>/lineitems/<line_item_id>", methods=["GET", "PUT", "DELETE"])
def lineitem(context_id: str, line_item_id: str) -> WerkzeugResponse:
    method = flask.request.method
    handler_name = {
        "GET": "handle_get_lineitem",
        "PUT": "handle_update_lineitem",
        "DELETE": "handle_delete_lineitem",
    }[method]

    def call(lms: DemoLms, conf: DemoPlatformConf) -> LtiResponse:
        service = _ags(lms, conf, {}, line_item_id)
        return service.handle_resp(getattr(service, handler_name), line_item_id=line_item_id)

    return _service(context_id, LINEITEM_READ if method == "GET" else LINEITEM_WRITE, call)


@bp.post("/api/contexts/<context_id>/lineitems/<line_item_id>/scores")
def scores(context_id: str, line_item_id: str) -> WerkzeugResponse:
    def call(lms: DemoLms, conf: DemoPlatformConf) -> LtiResponse:
        service = _ags(lms, conf, {}, line_item_id)
        return service.handle_resp(service.handle_update_score, line_item_id=line_item_id)

    return _service(context_id, frozenset({SCOPE_SCORE}), call)


@bp.get("/api/contexts/<context_id>/lineitems/<line_item_id>/results")
def results(context_id: str, line_item_id: str) -> WerkzeugResponse:
    def call(lms: DemoLms, conf: DemoPlatformConf) -> LtiResponse:
        service = _ags(lms, conf, _query("user_id", "limit", "page"), line_item_id)
        return service.handle_resp(service.handle_get_results, line_item_id=line_item_id)

    return _service(context_id, frozenset({SCOPE_RESULT_READONLY}), call)


@bp.get("/api/contexts/<context_id>/memberships")
def memberships(context_id: str) -> WerkzeugResponse:
    def call(lms: DemoLms, conf: DemoPlatformConf) -> LtiResponse:
        query = _query("role", "limit", "page", "rlid", "since")
        service = DemoNrpsService(
            FlaskRequest(flask.request, query), conf, store=lms.store, urls=lms.urls
        )
        return service.handle_resp(service.handle_get_members)

    return _service(context_id, frozenset({SCOPE_NRPS}), call)
