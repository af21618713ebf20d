"""Settings of the administration console and of the data-rights features.

Read from ``SOCLE_*`` environment variables, then from ``Settings.extra`` (which tests and
embedding code fill), so that one dataclass lists what a deployment may set here:

========================== =====================================================================
``SOCLE_OIDC_ISSUER``      the OpenID provider's issuer (discovery at
                           ``<issuer>/.well-known/openid-configuration``)
``SOCLE_OIDC_CLIENT_ID``   the console's client id at the provider
``SOCLE_OIDC_CLIENT_SECRET`` its secret (``client_secret_post``, as ProConnect expects)
``SOCLE_OIDC_SCOPES``      default ``openid email given_name usual_name uid siret`` (ProConnect)
``SOCLE_ADMIN_EMAILS``     comma-separated emails of administrators
``SOCLE_ADMIN_CLAIM``      ``claim=value`` (e.g. ``siret=21590350100017``): everyone whose
                           userinfo has that value is an administrator
``SOCLE_ADMIN_IDLE_MINUTES`` idle time after which an admin session ends (default 30)
``SOCLE_ADMIN_LINK_MINUTES`` lifetime of a ``socle admin link`` link (default 10)
``SOCLE_RETENTION_DAYS``   attempts and answers are deleted this long after their last
                           activity (default 1095, three years)
``SOCLE_DEAD_LETTER_DAYS`` dead xAPI letters are deleted after this many days (default 90)
``SOCLE_DPO_CONTACT``      how to reach the data protection officer (shown on /confidentialite)
========================== =====================================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lti_tool.config import Settings

PROCONNECT_SCOPES = "openid email given_name usual_name uid siret"


def _lookup(settings: Settings | None, environ: Mapping[str, str] | None) -> dict[str, str]:
    values = dict(os.environ if environ is None else environ)
    if settings is not None:
        values.update(settings.extra)
    return values


def _whole(values: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = values.get(name, "").strip()
    if not raw:
        return default
    try:
        number = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc
    if number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {number}")
    return number


@dataclass(frozen=True)
class AdminSettings:
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = PROCONNECT_SCOPES
    admin_emails: frozenset[str] = frozenset()
    admin_claim: tuple[str, str] | None = None
    idle_minutes: int = 30
    link_minutes: int = 10

    @property
    def oidc_configured(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @classmethod
    def load(
        cls, settings: Settings | None = None, environ: Mapping[str, str] | None = None
    ) -> AdminSettings:
        values = _lookup(settings, environ)
        claim = values.get("SOCLE_ADMIN_CLAIM", "").strip()
        admin_claim: tuple[str, str] | None = None
        if claim:
            name, sep, value = claim.partition("=")
            if not sep or not name.strip() or not value.strip():
                raise ValueError(
                    f"SOCLE_ADMIN_CLAIM must read claim=value (e.g. siret=21590350100017), "
                    f"got {claim!r}"
                )
            admin_claim = (name.strip(), value.strip())
        return cls(
            oidc_issuer=values.get("SOCLE_OIDC_ISSUER", "").strip().rstrip("/"),
            oidc_client_id=values.get("SOCLE_OIDC_CLIENT_ID", "").strip(),
            oidc_client_secret=values.get("SOCLE_OIDC_CLIENT_SECRET", ""),
            oidc_scopes=values.get("SOCLE_OIDC_SCOPES", "").strip() or PROCONNECT_SCOPES,
            admin_emails=frozenset(
                e.strip().lower()
                for e in values.get("SOCLE_ADMIN_EMAILS", "").split(",")
                if e.strip()
            ),
            admin_claim=admin_claim,
            idle_minutes=_whole(values, "SOCLE_ADMIN_IDLE_MINUTES", 30),
            link_minutes=_whole(values, "SOCLE_ADMIN_LINK_MINUTES", 10),
        )


@dataclass(frozen=True)
class PrivacySettings:
    retention_days: int = 3 * 365
    dead_letter_days: int = 90
    dpo_contact: str = ""

    @classmethod
    def load(
        cls, settings: Settings | None = None, environ: Mapping[str, str] | None = None
    ) -> PrivacySettings:
        values = _lookup(settings, environ)
        return cls(
            retention_days=_whole(values, "SOCLE_RETENTION_DAYS", 3 * 365),
            dead_letter_days=_whole(values, "SOCLE_DEAD_LETTER_DAYS", 90),
            dpo_contact=values.get("SOCLE_DPO_CONTACT", "").strip(),
        )
