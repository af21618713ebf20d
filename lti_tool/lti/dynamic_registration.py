"""LTI Dynamic Registration (``GET /lti/register``): an LMS administrator pastes one URL.

The request is unauthenticated and names the URL the tool fetches, so this is where the tool
is most exposed. pylti1p3's ``DynamicRegistration`` builds the tool's half of the exchange;
the fetching is ours (:mod:`lti_tool.lti.safe_fetch`): the configuration URL must be on a
host of ``SOCLE_REGISTRATION_HOSTS``, over https unless that host is also in
``SOCLE_REGISTRATION_LOCAL_HOSTS`` (development), and resolve only to public addresses;
every endpoint the configuration names (issuer, authorization, token, JWKS, registration)
must be on that same host; redirects are refused. A registration only ever adds a client id:
an existing (issuer, client id) is refused, never updated (see ``add_platform``).

Every refusal is a :class:`RegistrationRefused` with a code; the page says in French what was
wrong, and neither the page nor the log carries a lower-level error text or the registration
token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pylti1p3.dynamic_registration import DynamicRegistration

from lti_tool.lti.registrations import PlatformInput
from lti_tool.lti.safe_fetch import CheckedUrl, FetchPolicy, FetchRefused, check_url, fetch_json

AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


class RegistrationRefused(FetchRefused):
    """A registration refused before anything is stored; ``code`` selects the message."""


CONFIGURATION_ENDPOINTS = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "registration_endpoint",
)


class SocleRegistration(DynamicRegistration):
    client_name = "Socle"
    description = (
        "Parcours d'évaluation adaptatifs des compétences numériques des agents publics"
    )

    def __init__(
        self,
        *,
        base_url: str,
        openid_configuration: str,
        registration_token: str | None,
        policy: FetchPolicy,
    ) -> None:
        self.base_url = base_url
        self.openid_configuration = openid_configuration
        self.registration_token = registration_token
        self.policy = policy

    def get_request_session(self) -> Any:
        """pylti1p3 would fetch with a plain ``requests`` session (redirects followed, every
        address reachable): this class overrides each of its fetching methods, and this guard
        makes any path left to it fail loudly instead of fetching unchecked."""
        raise RuntimeError("dynamic registration fetches only through lti_tool.lti.safe_fetch")

    def get_initiate_login_uri(self) -> str:
        return f"{self.base_url}/lti/login"

    def get_jwks_uri(self) -> str:
        return f"{self.base_url}/lti/jwks"

    def get_redirect_uris(self) -> list[str]:
        return [f"{self.base_url}/lti/launch"]

    def get_scopes(self) -> list[str]:
        return AGS_SCOPES

    def get_domain(self) -> str:
        return urlsplit(self.base_url).netloc

    def get_target_link_uri(self) -> str:
        return f"{self.base_url}/lti/launch"

    def get_claims(self) -> list[str]:
        return ["iss", "sub"]

    def get_messages(self) -> list[dict[str, str]]:
        return [
            {
                "type": "LtiDeepLinkingRequest",
                "target_link_uri": f"{self.base_url}/lti/launch",
                "label": "Socle : ajouter un parcours",
            }
        ]

    def get_description(self) -> str:
        return self.description

    def get_logo_uri(self) -> str:
        return f"{self.base_url}/static/img/socle.svg"

    def get_openid_configuration_endpoint(self) -> str:
        return self.openid_configuration

    def get_registration_token(self) -> str:
        return self.registration_token or ""

    def check_configuration_url(self) -> CheckedUrl:
        """The configuration URL, parsed once; refused before any network traffic."""
        return check_url(self.openid_configuration, self.policy, "openid_configuration")

    def get_openid_configuration(self) -> dict[str, Any]:
        checked = self.check_configuration_url()
        status, configuration = fetch_json("GET", checked, self.policy)
        if status != 200 or not isinstance(configuration, dict):
            raise RegistrationRefused("bad_configuration")
        if PLATFORM_CONFIGURATION not in configuration:
            raise RegistrationRefused("not_lti_platform")
        for key in CONFIGURATION_ENDPOINTS:
            value = configuration.get(key)
            if not isinstance(value, str):
                raise RegistrationRefused("bad_configuration", key)
            try:
                endpoint = check_url(value, self.policy, key)
            except FetchRefused as exc:
                outside = exc.code in {"host_not_allowed", "not_https"}
                raise RegistrationRefused(
                    "endpoint_elsewhere" if outside else exc.code, key
                ) from None
            if (endpoint.scheme, endpoint.host, endpoint.port) != (
                checked.scheme,
                checked.host,
                checked.port,
            ):
                # another port of the same host is another service: the registration token
                # and the platform's trust must not go there
                raise RegistrationRefused("endpoint_elsewhere", key)
        audience = configuration.get("authorization_server")
        if audience is not None and not isinstance(audience, str):
            raise RegistrationRefused("bad_configuration", "authorization_server")
        return configuration

    def register_with_platform(self) -> PlatformInput:
        """Fetch the configuration, register with the platform, and return what to store.

        Nothing is stored here: the caller stores the result in its own transaction, so no
        database transaction stays open while the platform answers."""
        configuration = self.get_openid_configuration()
        endpoint = check_url(
            configuration["registration_endpoint"], self.policy, "registration_endpoint"
        )
        headers = {}
        if self.registration_token:
            headers["Authorization"] = "Bearer " + self.registration_token
        status, registration = fetch_json(
            "POST", endpoint, self.policy, body=self.lti_registration_data(), headers=headers
        )
        if not 200 <= status < 300 or not isinstance(registration, dict):
            raise RegistrationRefused("registration_refused_by_platform")
        return self.platform_input(configuration, registration)

    def platform_input(
        self, openid_configuration: dict[str, Any], openid_registration: dict[str, Any]
    ) -> PlatformInput:
        tool = openid_registration.get(TOOL_CONFIGURATION)
        client_id = openid_registration.get("client_id")
        if not isinstance(tool, dict) or not isinstance(client_id, str | int) or not client_id:
            raise RegistrationRefused("bad_registration_answer")
        deployment_id = tool.get("deployment_id")
        if not isinstance(deployment_id, str | int) or not str(deployment_id):
            raise RegistrationRefused("no_deployment_id")
        platform_conf = openid_configuration.get(PLATFORM_CONFIGURATION)
        family = platform_conf.get("product_family_code") if isinstance(platform_conf, dict) else ""
        return PlatformInput(
            issuer=openid_configuration["issuer"],
            client_id=str(client_id),
            auth_login_url=openid_configuration["authorization_endpoint"],
            auth_token_url=openid_configuration["token_endpoint"],
            key_set_url=openid_configuration["jwks_uri"],
            deployment_ids=(str(deployment_id),),
            name=family if isinstance(family, str) and family else None,
            auth_audience=openid_configuration.get("authorization_server"),
        )
