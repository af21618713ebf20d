"""LTI Dynamic Registration (``GET /lti/register``): an LMS administrator pastes one URL.

pylti1p3's ``DynamicRegistration`` drives the exchange; this subclass adds what it leaves
out: timeouts on its requests, the check that the platform's issuer is on the host that
served its configuration, an allow-list of platform hosts (an open registration endpoint would
let anyone make the tool trust their platform), and storage through the same code path as
``socle platform add``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pylti1p3.dynamic_registration import DynamicRegistration
from sqlalchemy.orm import Session

from lti_tool.lti.registrations import PlatformInput, RegistrationError, add_platform
from lti_tool.models import Platform
from lti_tool.player.grades import TimeoutSession

AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


def host_allowed(url: str, allowed: tuple[str, ...]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return bool(host) and ("*" in allowed or host in allowed)


class SocleRegistration(DynamicRegistration):
    client_name = "Socle"
    description = (
        "Parcours d'évaluation adaptatifs des compétences numériques des agents publics"
    )

    def __init__(
        self,
        session: Session,
        *,
        base_url: str,
        openid_configuration: str,
        registration_token: str | None,
        timeout: float,
    ) -> None:
        self.session = session
        self.base_url = base_url
        self.openid_configuration = openid_configuration
        self.registration_token = registration_token
        self.timeout = timeout
        self.platform: Platform | None = None

    def get_request_session(self) -> TimeoutSession:
        return TimeoutSession(self.timeout)

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

    def get_openid_configuration(self) -> dict[str, Any]:
        configuration: dict[str, Any] = super().get_openid_configuration()
        issuer = str(configuration.get("issuer", ""))
        if urlsplit(issuer).hostname != urlsplit(self.openid_configuration).hostname:
            raise RegistrationError(
                f"the platform's issuer {issuer!r} is not on the host of its configuration"
            )
        if PLATFORM_CONFIGURATION not in configuration:
            raise RegistrationError("this configuration is not an LTI platform configuration")
        return configuration

    def complete_registration(
        self, openid_configuration: dict[str, Any], openid_registration: dict[str, Any]
    ) -> Platform:
        tool = openid_registration.get(TOOL_CONFIGURATION) or {}
        deployment_id = tool.get("deployment_id")
        if not deployment_id:
            raise RegistrationError(
                "the platform did not give a deployment id: register Socle manually"
            )
        platform_conf = openid_configuration.get(PLATFORM_CONFIGURATION) or {}
        self.platform = add_platform(
            self.session,
            PlatformInput(
                issuer=openid_configuration["issuer"],
                client_id=str(openid_registration["client_id"]),
                auth_login_url=openid_configuration["authorization_endpoint"],
                auth_token_url=openid_configuration["token_endpoint"],
                key_set_url=openid_configuration["jwks_uri"],
                deployment_ids=(str(deployment_id),),
                name=platform_conf.get("product_family_code") or None,
                auth_audience=openid_configuration.get("authorization_server"),
            ),
        )
        return self.platform
