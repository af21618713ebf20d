"""Static description of the demo LMS: who the tool is, what the platform publishes, the course.

Everything here is plain data so that `socle demo`, the tool's end-to-end tests and the demo
LMS itself agree on one set of URLs and identifiers without importing Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

CLIENT_ID = "socle-demo-client"
"""The client id the demo LMS gives to the tool; fixed so the tool's registration never changes."""

DEPLOYMENT_ID = "demo-deployment-1"
"""The single deployment of the tool in the demo LMS."""

LEEWAY_SECONDS = 5
"""Clock skew tolerated on `iat`/`exp` of messages coming from the tool (architecture.md)."""

HTTP_TIMEOUT_SECONDS = 5.0
"""Every outbound HTTP call of the demo LMS uses this timeout."""

ROLE_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
ROLE_LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
CONTEXT_TYPE_COURSE = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

LOCALES = {"fr-FR": "Français", "en": "English"}
"""Locales the language switch offers; sent as `launch_presentation.locale`."""

DEFAULT_LOCALE = "fr-FR"


@dataclass(frozen=True)
class ToolEndpoints:
    """Where the tool lives, as an LMS administrator would type it into the platform."""

    login_url: str
    launch_url: str
    deep_link_url: str
    jwks_url: str

    @property
    def redirect_uris(self) -> frozenset[str]:
        """The redirect URIs registered for the tool: the only places an id_token may go.

        lti1p3platform posts the id_token to whatever `redirect_uri` the request names; a real
        platform refuses anything that was not registered, so the demo does too.
        """
        return frozenset({self.launch_url, self.deep_link_url})

    @property
    def origin(self) -> str:
        """Scheme and host of the tool, used to accept deep-linked URLs on the tool only."""
        parts = urlsplit(self.launch_url)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class PlatformRegistration:
    """What an LMS admin would copy into the tool (`socle platform add`)."""

    issuer: str
    client_id: str
    deployment_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str


@dataclass(frozen=True)
class DemoUser:
    """A person of the sample course, with the stable pseudonymous `sub` a real LMS would send."""

    key: str
    sub: str
    given_name: str
    family_name: str
    email: str
    role: str
    label: str

    @property
    def name(self) -> str:
        """Full name as LMSs send it in the `name` claim."""
        return f"{self.given_name} {self.family_name}"

    @property
    def is_instructor(self) -> bool:
        """Instructors may add activities and read scores; learners may only launch."""
        return self.role == ROLE_INSTRUCTOR


TEACHER = DemoUser(
    key="enseignant",
    sub="7d0c8a4e-2f1b-4c3d-9e5a-6b7c8d9e0f11",
    given_name="Claire",
    family_name="Martin",
    email="claire.martin@collectivite.example",
    role=ROLE_INSTRUCTOR,
    label="Enseignant",
)
LEARNER = DemoUser(
    key="agent",
    sub="3a9f5e21-8c47-4b6d-a1e2-f3c4d5e6a7b8",
    given_name="Karim",
    family_name="Benali",
    email="karim.benali@collectivite.example",
    role=ROLE_LEARNER,
    label="Agent",
)
USERS: dict[str, DemoUser] = {user.key: user for user in (TEACHER, LEARNER)}
USERS_BY_SUB: dict[str, DemoUser] = {user.sub: user for user in USERS.values()}


@dataclass(frozen=True)
class DemoCourse:
    """The one course (LTI context) of the demo LMS."""

    id: str
    label: str
    title: str


COURSE = DemoCourse(
    id="formation-continue-competences-numeriques",
    label="FC-NUM",
    title="Formation continue — Compétences numériques",
)


@dataclass(frozen=True)
class LmsUrls:
    """Absolute URLs of the demo LMS, built from its public base URL.

    Claims and registration data must carry absolute URLs that the tool can reach, which the
    request's host does not always give (tests, proxies), so they derive from `base_url` only.
    """

    base_url: str

    def absolute(self, path: str) -> str:
        """Join an absolute path (starting with `/`) to the base URL."""
        return f"{self.base_url}{path}"

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def auth(self) -> str:
        return self.absolute("/auth")

    @property
    def token(self) -> str:
        return self.absolute("/token")

    @property
    def jwks(self) -> str:
        return self.absolute("/jwks")

    @property
    def deep_link_return(self) -> str:
        return self.absolute("/deep-link-return")

    @property
    def course(self) -> str:
        return self.absolute("/")

    @property
    def lineitems(self) -> str:
        return self.absolute(f"/api/contexts/{COURSE.id}/lineitems")

    def lineitem(self, line_item_id: str) -> str:
        return f"{self.lineitems}/{line_item_id}"

    @property
    def memberships(self) -> str:
        return self.absolute(f"/api/contexts/{COURSE.id}/memberships")

    def registration(self) -> PlatformRegistration:
        return PlatformRegistration(
            issuer=self.issuer,
            client_id=CLIENT_ID,
            deployment_id=DEPLOYMENT_ID,
            auth_login_url=self.auth,
            auth_token_url=self.token,
            key_set_url=self.jwks,
        )
