"""The signed page token ``lt`` that carries a launch from page to page.

Browsers block third-party cookies in LMS iframes, so after the launch the tool does not rely
on a session cookie: every link and form carries this token (query parameter or hidden field
``lt``). It is a bearer token, so it is kept as small in power and in time as the pages allow:

- **sliding idle lifetime**: every page issues a fresh token, and a token older than
  ``idle_lifetime`` (``SOCLE_TOKEN_IDLE_LIFETIME``, 30 minutes) is refused; the launch's own
  expiry (``SOCLE_TOKEN_LIFETIME``) still caps the whole session, however active;
- **bound to the launch's user**: the token carries a keyed digest of the user the launch was
  issued to (platform issuer and ``sub``; for an anonymous launch, the launch itself). Every
  request recomputes it from the launch row and refuses a mismatch, so a token can only ever
  act as the person the LMS launched, even if a launch row came to name another user. It does
  not bind the token to a browser (nothing can, without cookies): whoever holds a live token
  acts as that user, which is why it never reaches a log or a ``Referer``;
- **read-only once its attempt is finished**: a token records the *origin* of its chain — the
  moment the LTI launch issued the first token of that chain. Each page's fresh token keeps
  its predecessor's origin, so a form posted with a token whose chain began before an attempt
  finished is refused, however many pages were opened with it since: a token copied from a
  log or a shared screen before the end cannot be refreshed into one that acts. Only two
  things start a new chain: a new LTI launch, and the request that records the attempt's
  last answer (which finishes it: the agent who answered may start the next attempt from
  the results). Opening a page — even the one that happens to finish an attempt — never
  does, so a copied token cannot win a new chain by being the first to open the results.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from itsdangerous import BadData, URLSafeSerializer

if TYPE_CHECKING:
    from lti_tool.models import Launch

TOKEN_FIELD = "lt"  # noqa: S105 - a form field name, not a secret
_SALT = "socle.launch-token.v2"
_BINDING_LABEL = b"socle.launch-token.user\0"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class TokenError(Exception):
    """The page token is missing, forged, expired or not this user's; ``expired`` tells which."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class PageToken:
    launch_id: str
    user: str  # keyed digest of the launch's user (see :meth:`LaunchTokens.user_binding`)
    issued_at: datetime
    origin: datetime  # when the chain this token belongs to began (see the module's notes)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LaunchTokens:
    def __init__(
        self,
        secret_key: str,
        idle_lifetime: int,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt=_SALT)
        self._binding_key = hashlib.sha256(_BINDING_LABEL + secret_key.encode("utf-8")).digest()
        self.idle_lifetime = timedelta(seconds=idle_lifetime)
        self.clock = clock

    def user_binding(self, launch_id: str, issuer: str | None, sub: str | None) -> str:
        """A digest naming the launch's user without showing their LMS id in URLs."""
        subject = f"user\0{issuer}\0{sub}" if sub else f"anonymous\0{launch_id}"
        digest = hmac.new(self._binding_key, subject.encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()[:32]

    def launch_binding(self, launch: Launch) -> str:
        user = launch.user
        return self.user_binding(launch.id, launch.platform.issuer, user.sub if user else None)

    def issue(self, launch: Launch, *, origin: datetime | None = None) -> str:
        """A fresh token for ``launch``, bound to its user, issued now.

        ``origin``: the chain the token continues (the previous token's); a new chain by
        default, which only a launch or the request that finishes an attempt may start.
        """
        return self.issue_raw(launch.id, self.launch_binding(launch), origin=origin)

    def issue_raw(self, launch_id: str, user: str, *, origin: datetime | None = None) -> str:
        stamp = (self.clock() - _EPOCH) // _MICROSECOND
        start = stamp if origin is None else (origin - _EPOCH) // _MICROSECOND
        return str(
            self._serializer.dumps({"l": launch_id, "u": user, "t": stamp, "o": min(start, stamp)})
        )

    def read(self, token: str | None) -> PageToken:
        if not token:
            raise TokenError("no launch token")
        try:
            data = self._serializer.loads(token)
        except BadData as exc:  # a wrong signature, or a payload that is not ours
            raise TokenError("launch token invalid") from exc
        if not isinstance(data, dict):
            raise TokenError("launch token invalid")
        launch_id, user = data.get("l"), data.get("u")
        stamp, start = data.get("t"), data.get("o")
        if not (isinstance(launch_id, str) and isinstance(user, str)):
            raise TokenError("launch token invalid")
        if not (isinstance(stamp, int) and isinstance(start, int)) or start > stamp:
            raise TokenError("launch token invalid")
        issued_at = _EPOCH + stamp * _MICROSECOND
        if self.clock() - issued_at > self.idle_lifetime:
            raise TokenError("launch token expired", expired=True)
        return PageToken(launch_id, user, issued_at, _EPOCH + start * _MICROSECOND)
