"""Signed values the demo LMS hands out and must recognise when they come back.

`lti_message_hint` tells the authorization endpoint which launch the browser asked for; the
deep-linking `data` ties a Deep Linking response to the request that opened it. Both travel
through the tool and the browser, so they are signed (and time-limited) rather than trusted:
nobody can make the LMS launch as another user or accept a response nobody asked for.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeTimedSerializer

from .platform import MessageRejectedError

LAUNCH_HINT_MAX_AGE = 600
"""Seconds between the click in the LMS and the tool's authentication request."""

DEEP_LINK_MAX_AGE = 3600
"""Seconds a teacher may spend choosing a parcours in the tool."""


@dataclass(frozen=True)
class LaunchHint:
    """What the person asked to launch: an activity, or (activity_id None) deep linking."""

    user_key: str
    activity_id: str | None
    locale: str
    target: str


@dataclass(frozen=True)
class DeepLinkData:
    """The deep-linking request a response answers; `expires_at` is epoch seconds."""

    user_key: str
    request_id: str
    expires_at: float


class SignedHints:
    """Signs and reads launch hints and deep-linking data with one derived secret."""

    def __init__(self, secret: bytes) -> None:
        self._launch = URLSafeTimedSerializer(secret, salt="lti-message-hint")
        self._deep_link = URLSafeTimedSerializer(secret, salt="deep-linking-data")

    def sign_launch(self, hint: LaunchHint) -> str:
        return self._launch.dumps(
            {"u": hint.user_key, "a": hint.activity_id, "l": hint.locale, "t": hint.target}
        )

    def read_launch(self, value: str) -> LaunchHint:
        try:
            data = self._launch.loads(value, max_age=LAUNCH_HINT_MAX_AGE)
            return LaunchHint(
                user_key=str(data["u"]),
                activity_id=None if data["a"] is None else str(data["a"]),
                locale=str(data["l"]),
                target=str(data["t"]),
            )
        except (BadData, KeyError, TypeError) as exc:
            raise MessageRejectedError(
                "invalid or expired lti_message_hint",
                "le lancement a expiré ou n'a pas été demandé depuis cette plateforme ; "
                "revenez au cours et relancez l'activité",
            ) from exc

    def sign_deep_link_data(self, user_key: str) -> str:
        return self._deep_link.dumps({"u": user_key, "r": secrets.token_urlsafe(12)})

    def read_deep_link_data(self, value: object) -> DeepLinkData:
        try:
            if not isinstance(value, str):
                raise TypeError(value)
            data, signed_at = self._deep_link.loads(
                value, max_age=DEEP_LINK_MAX_AGE, return_timestamp=True
            )
            return DeepLinkData(
                user_key=str(data["u"]),
                request_id=str(data["r"]),
                expires_at=signed_at.timestamp() + DEEP_LINK_MAX_AGE,
            )
        except (BadData, KeyError, TypeError) as exc:
            raise MessageRejectedError(
                "deep linking data missing, altered or expired",
                "cette réponse ne correspond à aucune demande d'ajout en cours "
                "(champ data absent, modifié ou expiré)",
            ) from exc
