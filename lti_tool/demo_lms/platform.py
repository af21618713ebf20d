"""Flask adapter for lti1p3platform, plus the checks the library leaves out.

lti1p3platform ships Django and FastAPI adapters only (and its shared launch template imports
`pkg_resources`, which recent setuptools no longer provides), so this module supplies the Flask
pieces: a request wrapper, the OIDC login and message launch subclasses, the platform
configuration and a JSON response wrapper. It also closes the gaps listed in
`docs/lti-notes.md`: the library accepts any `aud`/`iss` in tool messages, does not allow clock
skew, refetches the tool's JWKS on every request and ignores `redirect_uri` registration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import flask
import jwt
from lti1p3platform.exceptions import LtiDeepLinkingResponseException, LtiException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from lti1p3platform.response import Response as LtiResponse
from typing_extensions import override
from werkzeug.wrappers import Response as WerkzeugResponse

from .config import (
    CLIENT_ID,
    CONTEXT_TYPE_COURSE,
    COURSE,
    DEPLOYMENT_ID,
    LEEWAY_SECONDS,
    DemoUser,
    LmsUrls,
    ToolEndpoints,
)
from .keys import PlatformKey
from .store import Activity
from .tool_keys import ToolKeySet, ToolKeySetUnavailableError

CLAIM_MESSAGE_TYPE = "https://purl.imsglobal.org/spec/lti/claim/message_type"
CLAIM_VERSION = "https://purl.imsglobal.org/spec/lti/claim/version"
CLAIM_DEPLOYMENT_ID = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
CLAIM_LAUNCH_PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
CLAIM_TOOL_PLATFORM = "https://purl.imsglobal.org/spec/lti/claim/tool_platform"
CLAIM_DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CLAIM_DL_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
CLAIM_DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
CLAIM_DL_MSG = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"
CLAIM_DL_ERRORMSG = "https://purl.imsglobal.org/spec/lti-dl/claim/errormsg"


class MessageRejectedError(Exception):
    """A message from the tool (or a browser request) fails a check.

    `reason` is short English for machine-facing JSON errors; `message_fr` is the plain French
    sentence shown to a person on an error page.
    """

    def __init__(self, reason: str, message_fr: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message_fr = message_fr


# --- request / response wrappers -----------------------------------------------------------


class FlaskRequest(Request):  # type: ignore[misc]
    """lti1p3platform's view of a Flask request.

    `query` replaces the query string when a view has already validated and converted it:
    the library does arithmetic on `page` and passes every parameter as a keyword argument to
    our hooks, so it must only ever see known keys with proper types.
    """

    def __init__(self, request: flask.Request, query: Mapping[str, Any] | None = None) -> None:
        self._query = dict(query) if query is not None else None
        super().__init__(request)

    @override
    def build_metadata(self, request: flask.Request) -> TRequest:
        return {
            "method": request.method,
            "form_data": request.form.to_dict(),
            "get_data": self._query if self._query is not None else request.args.to_dict(),
            "headers": request.headers,
            "content_type": request.content_type,
            "path": request.path,
            "json": request.get_json(silent=True) if request.is_json else None,
        }


def to_flask_response(resp: LtiResponse) -> flask.Response:
    """Turn a service response of lti1p3platform into a Flask response.

    The `next` page goes to a `Link` header written `rel="next"` (quoted), the form pylti1p3
    recognises; the library's own adapters write it unquoted.
    """
    if not 200 <= resp.code < 300:
        return flask.Response(
            json.dumps({"error": resp.message}), status=resp.code, mimetype="application/json"
        )
    result = resp.result
    next_url = None
    if isinstance(result, dict):
        result = dict(result)
        next_url = result.pop("next", None)
        if "content" in result:
            result = result["content"]
    body = "" if result is None else json.dumps(result, ensure_ascii=False)
    response = flask.Response(body, status=resp.code, content_type=resp.media_type)
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


# --- platform configuration ----------------------------------------------------------------


def _audiences(claims: Mapping[str, Any]) -> list[str]:
    aud = claims.get("aud")
    return [aud] if isinstance(aud, str) else [a for a in aud or [] if isinstance(a, str)]


_JWT_ERRORS: tuple[tuple[type[jwt.PyJWTError], str, str], ...] = (
    (jwt.ExpiredSignatureError, "token expired", "le message de l'outil a expiré"),
    (
        jwt.ImmatureSignatureError,
        "token issued in the future",
        "le message de l'outil est daté dans le futur (horloges désynchronisées ?)",
    ),
    (
        jwt.InvalidAudienceError,
        "wrong audience",
        "le message de l'outil n'est pas adressé à cette plateforme (aud)",
    ),
    (
        jwt.InvalidIssuerError,
        "wrong issuer",
        "le message ne vient pas de l'outil enregistré (iss ≠ identifiant client)",
    ),
    (
        jwt.MissingRequiredClaimError,
        "missing required claim",
        "il manque une information obligatoire dans le message de l'outil",
    ),
    (
        jwt.InvalidSignatureError,
        "invalid signature",
        "la signature du message ne correspond pas aux clés publiées par l'outil",
    ),
)


class DemoRegistration(Registration):  # type: ignore[misc]
    """The library's registration, signing with the already loaded key (see `PlatformKey`)."""

    def __init__(self, key: PlatformKey) -> None:
        self._demo_key = key

    @override
    def get_kid(self) -> str:
        return self._demo_key.kid

    @override
    def platform_encode_and_sign(
        self, payload: dict[str, Any], expiration: int | None = None
    ) -> str:
        return str(
            Registration.encode_and_sign(
                payload,
                self._demo_key.private_key,
                {"kid": self._demo_key.kid},
                expiration=expiration,
            )
        )


class DemoPlatformConf(LTI1P3PlatformConfAbstract):  # type: ignore[misc]
    """The demo LMS as lti1p3platform sees it: one registration, one tool.

    One instance per request: the library keeps the JWT being checked on the instance.
    """

    def __init__(
        self,
        *,
        urls: LmsUrls,
        tool: ToolEndpoints,
        key: PlatformKey,
        tool_keys: ToolKeySet,
    ) -> None:
        self._urls = urls
        self._tool = tool
        self._key = key
        self._tool_keys = tool_keys
        super().__init__()
        self.set_accepted_deeplinking_types(["ltiResourceLink"])

    @override
    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = (
            DemoRegistration(self._key)
            .set_iss(self._urls.issuer)
            .set_client_id(CLIENT_ID)
            .set_deployment_id(DEPLOYMENT_ID)
            .set_oidc_login_url(self._tool.login_url)
            .set_launch_url(self._tool.launch_url)
            .set_deeplink_launch_url(self._tool.deep_link_url)
            .set_tool_key_set_url(self._tool.jwks_url)
            .set_platform_public_key(self._key.public_pem)
            .set_platform_private_key(self._key.private_pem)
        )

    @override
    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._registration

    @override
    def get_tool_key_set(self) -> dict[str, Any]:
        """The cached JWKS instead of a fetch per request (see `ToolKeySet`)."""
        return self._tool_keys.get()

    def _tool_public_key(self, kid: str) -> bytes:
        try:
            return bytes(self.get_tool_public_key())
        except LtiException:
            self._tool_keys.refresh_for_unknown_kid(kid)
        try:
            return bytes(self.get_tool_public_key())
        except LtiException as exc:
            raise MessageRejectedError(
                "unknown key",
                "la clé qui a signé le message (kid) n'est pas publiée par l'outil",
            ) from exc

    @override
    def tool_validate_and_decode(self, jwt_token_string: str) -> dict[str, Any]:
        """Verify a JWT signed by the tool: RS256, known `kid`, `iss` = our client id, `aud`
        naming this platform (issuer or token URL), `exp`/`iat` with a 5 s leeway.

        Overrides the library's version, which checks the signature only; the library's token
        endpoint and deep-linking validation call it, so they get these checks too.
        """
        try:
            self.validate_jwt_format(jwt_token_string)
        except LtiException as exc:
            raise MessageRejectedError("malformed JWT", "le message n'est pas un JWT") from exc
        header = self._jwt.get("header")
        if not isinstance(header, dict) or not isinstance(self._jwt.get("body"), dict):
            raise MessageRejectedError("malformed JWT", "le message n'est pas un JWT")
        if header.get("alg") != "RS256":
            raise MessageRejectedError(
                "algorithm must be RS256", "le message doit être signé en RS256"
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise MessageRejectedError(
                "kid missing", "l'en-tête du message n'indique pas sa clé (kid)"
            )
        try:
            public_key = self._tool_public_key(kid)
        except ToolKeySetUnavailableError as exc:
            raise MessageRejectedError(
                f"tool key set unavailable ({exc})",
                "les clés publiques de l'outil (JWKS) sont injoignables",
            ) from exc
        try:
            return jwt.decode(
                jwt_token_string,
                public_key,
                algorithms=["RS256"],
                audience=[self._urls.issuer, self._urls.token],
                issuer=CLIENT_ID,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            for error_type, reason, message_fr in _JWT_ERRORS:
                if isinstance(exc, error_type):
                    raise MessageRejectedError(f"{reason}: {exc}", message_fr) from exc
            raise MessageRejectedError(
                f"invalid JWT: {exc}", "le message de l'outil est invalide"
            ) from exc

    def verify_client_assertion(self, assertion: str) -> dict[str, Any]:
        """Check a client-credentials assertion (IMS Security Framework §4.1.1).

        Returns the claims; the caller records `jti` as used, which the library never does.
        """
        claims = self.tool_validate_and_decode(assertion)
        if claims.get("sub") != CLIENT_ID:
            raise MessageRejectedError("sub must be the client id", "sub ≠ identifiant client")
        if self._urls.token not in _audiences(claims) and self._urls.issuer not in _audiences(
            claims
        ):
            raise MessageRejectedError("wrong audience", "aud ≠ URL du jeton")
        if not isinstance(claims.get("jti"), str) or not claims["jti"]:
            raise MessageRejectedError("jti missing", "jti manquant")
        return claims

    def verify_deep_link_response(self, token: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Check a LtiDeepLinkingResponse and return its claims and content items."""
        claims = self.tool_validate_and_decode(token)
        if self._urls.issuer not in _audiences(claims):
            raise MessageRejectedError(
                "aud must be the platform issuer",
                "la réponse n'est pas adressée à cette plateforme (aud ≠ émetteur)",
            )
        expected = {
            CLAIM_MESSAGE_TYPE: ("LtiDeepLinkingResponse", "type de message"),
            CLAIM_VERSION: ("1.3.0", "version LTI"),
            CLAIM_DEPLOYMENT_ID: (DEPLOYMENT_ID, "déploiement (deployment_id)"),
        }
        for claim, (value, label) in expected.items():
            if claims.get(claim) != value:
                raise MessageRejectedError(
                    f"{claim} must be {value!r}", f"{label} inattendu : {claims.get(claim)!r}"
                )
        if not isinstance(claims.get("nonce"), str) or not claims["nonce"]:
            raise MessageRejectedError("nonce missing", "la réponse n'a pas de nonce")
        items = claims.get(CLAIM_DL_CONTENT_ITEMS, [])
        if not isinstance(items, list) or not all(
            isinstance(item, dict) and isinstance(item.get("type"), str) for item in items
        ):
            raise MessageRejectedError(
                "content_items must be a list of typed objects",
                "la liste des contenus renvoyés est mal formée",
            )
        try:
            self.validate_deeplinking_resp({"JWT": token})
        except LtiDeepLinkingResponseException as exc:
            raise MessageRejectedError(
                f"content items refused: {exc}",
                "seuls les liens d'activité LTI (ltiResourceLink) sont acceptés",
            ) from exc
        return claims, items

    def verify_access_token(self, token: str) -> frozenset[str]:
        """Check a bearer token this platform issued and return its scopes.

        The library's own check turns a malformed token into an uncaught exception (HTTP 500)
        and accepts a token for any one of a service's scopes; views call this first.
        """
        try:
            claims = jwt.decode(
                token,
                self._key.public_pem,
                algorithms=["RS256"],
                issuer=self._urls.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "sub", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise MessageRejectedError(f"invalid access token: {exc}", "jeton invalide") from exc
        if claims.get("sub") != CLIENT_ID:
            raise MessageRejectedError("access token not issued to this tool", "jeton invalide")
        return frozenset(str(claims.get("scopes", "")).split())


# --- OIDC login and message launch ---------------------------------------------------------


class DemoOIDCLogin(OIDCLoginAbstract):  # type: ignore[misc]
    """Third-party initiated login: a redirect to the tool's login URL."""

    @override
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = str(kwargs["lti_message_hint"])

    @override
    def get_redirect(self, url: str) -> WerkzeugResponse:
        return flask.redirect(url, code=302)


@dataclass(frozen=True)
class LaunchPlan:
    """Everything the authorization endpoint decided about one launch.

    `activity` is None for a Deep Linking request; `deep_link_data` is then the opaque value
    the tool must send back unchanged.
    """

    user: DemoUser
    locale: str
    document_target: str
    return_url: str
    activity: Activity | None = None
    line_item_url: str | None = None
    deep_link_data: str | None = None


class DemoMessageLaunch(LTIAdvantageMessageLaunchAbstract):  # type: ignore[misc]
    """Builds the id_token from a `LaunchPlan` and renders the auto-submitting form."""

    def __init__(
        self,
        request: FlaskRequest,
        platform_config: DemoPlatformConf,
        *,
        plan: LaunchPlan,
        urls: LmsUrls,
    ) -> None:
        super().__init__(request, platform_config)
        self._plan = plan
        self._urls = urls

    @override
    def prepare_launch(self, preflight_response: dict[str, Any]) -> None:
        plan = self._plan
        user = plan.user
        self.set_user_data(user.sub, [user.role], full_name=user.name, email_address=user.email)
        self.set_extra_claims(
            {
                "given_name": user.given_name,
                "family_name": user.family_name,
                "locale": plan.locale,
                CLAIM_TOOL_PLATFORM: {
                    "guid": f"{self._urls.issuer}/",
                    "name": "LMS de démonstration Socle",
                    "product_family_code": "socle-demo-lms",
                    "version": "1",
                },
            }
        )
        self.set_launch_context_claim(
            COURSE.id,
            context_types=[CONTEXT_TYPE_COURSE],
            context_title=COURSE.title,
            context_label=COURSE.label,
        )
        self.set_launch_presentation_claim(
            document_target=plan.document_target, return_url=plan.return_url
        )
        # The library's helper has no `locale`; the tool needs it to pick its language.
        self.lti_claim_launch_presentation[CLAIM_LAUNCH_PRESENTATION]["locale"] = plan.locale
        self.set_nrps(self._urls.memberships)
        self.set_ags(self._urls.lineitems, plan.line_item_url)

        activity = plan.activity
        if activity is None:
            self.set_dl(
                self._urls.deep_link_return,
                title="Ajouter une activité Socle",
                description=f"Cours « {COURSE.title} »",
                accept_types={"ltiResourceLink"},
            )
            # lti1p3platform hard-codes several settings; this platform accepts one resource
            # link shown in an iframe or a new window, and sends its own opaque `data`.
            self._deep_linking_launch_data[CLAIM_DL_SETTINGS].update(
                {
                    "accept_presentation_document_targets": ["iframe", "window"],
                    "accept_multiple": False,
                    "accept_lineitem": True,
                    "auto_create": True,
                    "data": plan.deep_link_data,
                }
            )
            return
        self.set_resource_link_claim(activity.resource_link_id, activity.text, activity.title)
        if activity.custom:
            self.set_custom_parameters_claim(dict(activity.custom))
        self.set_launch_url(activity.url or self._tool_launch_url())

    def _tool_launch_url(self) -> str:
        return str(self._platform_config.get_registration().get_launch_url())

    @override
    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> flask.Response:
        html = flask.render_template(
            "demo_lms/launch_form.html",
            launch_url=launch_data["launch_url"],
            id_token=launch_data["id_token"],
            state=launch_data["state"],
        )
        response = flask.make_response(html)
        response.headers["Cache-Control"] = "no-store"
        return response
