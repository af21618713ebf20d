"""The short-lived signed token that carries a launch from page to page.

Browsers block third-party cookies in LMS iframes, so after the launch the tool does not
rely on a session cookie: every link and form carries this token (query parameter or hidden
field ``lt``). It names a server-side launch row, is signed with the secret key and expires.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

TOKEN_FIELD = "lt"  # noqa: S105 - a form field name, not a secret
_SALT = "socle.launch-token.v1"


class TokenError(Exception):
    """The page token is missing, forged or expired; ``expired`` tells which."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


class LaunchTokens:
    def __init__(self, secret_key: str, lifetime: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
        self.lifetime = lifetime

    def issue(self, launch_id: str) -> str:
        return self._serializer.dumps({"l": launch_id})

    def read(self, token: str | None) -> str:
        if not token:
            raise TokenError("no launch token")
        try:
            data = self._serializer.loads(token, max_age=self.lifetime)
        except SignatureExpired as exc:
            raise TokenError("launch token expired", expired=True) from exc
        except BadSignature as exc:
            raise TokenError("launch token invalid") from exc
        launch_id = data.get("l") if isinstance(data, dict) else None
        if not isinstance(launch_id, str):
            raise TokenError("launch token invalid")
        return launch_id
