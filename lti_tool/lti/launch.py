"""Hardened validation of LTI 1.3 launches (the OIDC redirect URI, ``POST /lti/launch``).

pylti1p3 checks the signature but leaves gaps (see ``shared/docs/lti-notes.md``): no clock
leeway, ``aud`` and ``azp`` unchecked, the nonce only checked for presence, no timeout on
JWKS requests, its message validators reject anonymous launches and launches without a roles
claim, which the 1EdTech certification expects a tool to accept. This module owns the whole
order of checks so every rule of ``architecture.md`` is enforced in one readable place, and it
writes nothing: the caller stores the launch only once every check has passed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jwt
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import ResponseCacheControl
from werkzeug.http import parse_cache_control_header

from lti_tool.models import Deployment, LoginState, Platform, UsedNonce

if TYPE_CHECKING:
    from lti_tool.lti.login import LoginBinding

# What a state or nonce issued at login can look like (URL-safe, at most the column's length).
_ISSUED_VALUE = re.compile(r"[A-Za-z0-9._~-]{1,100}")

log = logging.getLogger(__name__)

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
SUPPORTED_MESSAGES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)
BROWSER_COOKIE = "socle-lti-browser"
"""One cookie per browser, holding the id its login states are bound to (see ``login.py``)."""
USER_CLAIMS = ("name", "given_name", "family_name", "middle_name", "email", "picture")


class LaunchRejected(Exception):
    """A launch refused for a reason a person can be told (``code`` keys the message)."""

    def __init__(self, code: str, detail: str, status: int = 400) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status


@dataclass(frozen=True)
class ValidatedLaunch:
    platform: Platform
    deployment: Deployment
    claims: dict[str, Any]
    message_type: str
    nonce: str
    state: str
    anonymous: bool

    def claim(self, name: str, default: Any = None) -> Any:
        return self.claims.get(CLAIM + name, default)


JWKS_MAX_BYTES = 256 * 1024
"""A platform key set holds a few RSA keys of about 1 KB each; 256 KiB leaves room for
hundreds while a hostile or broken URL cannot make the tool read megabytes per launch."""


@dataclass
class _KeySetSlot:
    """What is known of one key-set URL; ``lock`` allows one fetch in flight per URL."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    keys: dict[str, dict[str, Any]] | None = None
    expires_at: float = float("-inf")
    refetched_at: float | None = None
    failures: int = 0
    retry_at: float = float("-inf")
    last_error: str = ""


@dataclass
class JwksCache:
    """Platform key sets, kept in memory per key-set URL.

    * One fetch in flight per URL, made outside any lock shared with other URLs: a platform
      whose JWKS hangs delays only its own launches (they wait at most ``timeout`` for the
      fetch under way, then fail with 503), never another platform's.
    * Keys are kept for the ``Cache-Control: max-age`` of the response (``default_max_age``
      when absent), bounded by ``min_max_age`` and ``max_max_age``: a key a platform removed
      stops being accepted once its set has expired.
    * A failed fetch is remembered: the URL is not fetched again before ``failure_backoff``
      seconds, doubled on each further failure up to ``failure_backoff_max``; meanwhile its
      launches fail at once with 503 instead of hammering a dead platform.
    * An unknown ``kid`` triggers one refetch at most every ``refetch_interval`` seconds (the
      platform may have rotated its key); a stream of forged ``kid`` values cannot turn the
      tool into a request amplifier.
    * Every fetch has a timeout and reads at most ``max_bytes``.
    """

    http: requests.Session
    timeout: float
    refetch_interval: float
    clock: Callable[[], float] = time.monotonic
    default_max_age: float = 3600
    min_max_age: float = 60
    max_max_age: float = 24 * 3600
    failure_backoff: float = 10
    failure_backoff_max: float = 300
    max_bytes: int = JWKS_MAX_BYTES
    _slots: dict[str, _KeySetSlot] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _slot(self, url: str) -> _KeySetSlot:
        with self._lock:  # held only to find the slot: never during a fetch
            slot = self._slots.get(url)
            if slot is None:
                slot = self._slots[url] = _KeySetSlot()
            return slot

    def _max_age(self, response: requests.Response) -> float:
        control = parse_cache_control_header(
            response.headers.get("Cache-Control"), cls=ResponseCacheControl
        )
        if control.no_store or control.no_cache:
            return self.min_max_age
        max_age = control.max_age if control.max_age is not None else self.default_max_age
        return float(min(max(max_age, self.min_max_age), self.max_max_age))

    def _read(self, response: requests.Response, url: str) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise LaunchRejected(
                "jwks_unavailable", f"{url} answered {declared} bytes, over {self.max_bytes}", 502
            )
        deadline = time.monotonic() + self.timeout
        # A read waits for a whole chunk, and a server trickling a byte now and then never
        # trips the per-read timeout: past the deadline, the socket is shut down, which ends
        # the blocked read at once.
        watchdog = _watchdog(response, self.timeout)
        body = bytearray()
        try:
            for chunk in response.iter_content(16 * 1024):
                body.extend(chunk)
                if len(body) > self.max_bytes:
                    raise LaunchRejected(
                        "jwks_unavailable", f"{url} sent more than {self.max_bytes} bytes", 502
                    )
                if time.monotonic() >= deadline:
                    break
        except requests.RequestException:
            if time.monotonic() < deadline:  # not cut by the watchdog: a real failure
                raise
        finally:
            if watchdog is not None:
                watchdog.cancel()
        if time.monotonic() >= deadline:
            raise LaunchRejected("jwks_unavailable", f"{url} is too slow to answer", 502)
        return bytes(body)

    def _fetch(self, url: str) -> tuple[dict[str, dict[str, Any]], float]:
        from lti_tool.observability.metrics import count_jwks_fetch

        try:
            found = self._fetch_keys(url)
        except LaunchRejected:
            count_jwks_fetch("error")
            raise
        count_jwks_fetch("ok")
        return found

    def _fetch_keys(self, url: str) -> tuple[dict[str, dict[str, Any]], float]:
        try:
            with self.http.get(
                url, timeout=self.timeout, stream=True, allow_redirects=False
            ) as response:
                if response.is_redirect:
                    # The key set is where the registration says; a redirect could lead the
                    # tool anywhere (an internal address), so it is not followed.
                    raise LaunchRejected(
                        "jwks_unavailable", f"{url} redirects: a key set must be served there", 502
                    )
                response.raise_for_status()
                document = json.loads(self._read(response, url))
                max_age = self._max_age(response)
        except (requests.RequestException, ValueError) as exc:
            raise LaunchRejected(
                "jwks_unavailable", f"cannot fetch the platform keys at {url}: {exc}", 502
            ) from exc
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise LaunchRejected("jwks_unavailable", f"{url} is not a JWKS document", 502)
        found = {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}
        return found, max_age

    def _refresh(self, slot: _KeySetSlot, url: str, now: float) -> dict[str, dict[str, Any]]:
        if now < slot.retry_at:
            raise LaunchRejected(
                "jwks_unavailable",
                f"the keys at {url} failed {slot.failures} time(s), next try in "
                f"{slot.retry_at - now:.0f} s: {slot.last_error}",
                503,
            )
        try:
            keys, max_age = self._fetch(url)
        except LaunchRejected as exc:
            slot.failures += 1
            delay = self.failure_backoff * 2 ** min(slot.failures - 1, 20)
            slot.retry_at = now + min(delay, self.failure_backoff_max)
            slot.last_error = exc.detail
            raise
        slot.keys, slot.expires_at = keys, now + max_age
        slot.failures, slot.retry_at, slot.last_error = 0, float("-inf"), ""
        return keys

    def key(self, url: str, kid: str) -> dict[str, Any] | None:
        slot = self._slot(url)
        if not slot.lock.acquire(timeout=self.timeout):
            raise LaunchRejected(
                "jwks_unavailable", f"the keys at {url} are still being fetched", 503
            )
        try:
            now = self.clock()
            keys = slot.keys
            if keys is None or now >= slot.expires_at:
                keys = self._refresh(slot, url, now)
            if kid in keys:
                return keys[kid]
            if slot.refetched_at is None or now - slot.refetched_at >= self.refetch_interval:
                slot.refetched_at = now
                keys = self._refresh(slot, url, now)
            return keys.get(kid)
        finally:
            slot.lock.release()

    def clear(self) -> None:
        with self._lock:
            self._slots.clear()


def _watchdog(response: requests.Response, seconds: float) -> threading.Timer | None:
    """Shut the response's socket down after ``seconds`` (cancel the timer when done).

    The socket is the connection's while it is kept alive; when the server closes after the
    answer (HTTP/1.0, ``Connection: close``) http.client has let the connection go and only
    the response's file still holds it.
    """
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:
        reader = getattr(getattr(response.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
    if not isinstance(sock, socket.socket):
        log.warning("no socket to watch for %s: its fetch has only per-read timeouts", response.url)
        return None
    timer = threading.Timer(seconds, _shutdown, (sock,))
    timer.daemon = True
    timer.start()
    return timer


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # closed already: the read is over
        sock.shutdown(socket.SHUT_RDWR)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _unverified_parts(id_token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(id_token)
        body = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise LaunchRejected("malformed_token", f"id_token cannot be decoded: {exc}") from exc
    if not isinstance(body, dict):
        raise LaunchRejected("malformed_token", "id_token body is not a JSON object")
    return header, body


class LaunchValidator:
    """Checks one launch request against the registrations, keys, state and nonce store."""

    def __init__(
        self, session: Session, jwks: JwksCache, binding: LoginBinding, *, leeway: int = 5
    ) -> None:
        self.session = session
        self.jwks = jwks
        self.binding = binding
        self.leeway = min(leeway, 5)

    def validate(self, form: Mapping[str, str], cookies: Mapping[str, str]) -> ValidatedLaunch:
        id_token = form.get("id_token", "")
        if not id_token:
            error = form.get("error")
            if error:
                raise LaunchRejected(
                    "platform_error",
                    f"platform error {error!r}: {form.get('error_description', '')}",
                )
            raise LaunchRejected("missing_id_token", "no id_token in the request")
        header, body = _unverified_parts(id_token)

        alg = header.get("alg")
        if alg != "RS256":
            raise LaunchRejected("bad_algorithm", f"alg {alg!r} refused: RS256 only")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise LaunchRejected("missing_kid", "the id_token header has no kid")

        platform = self._platform(body)
        key = self.jwks.key(platform.key_set_url, kid)
        if key is None:
            raise LaunchRejected("unknown_kid", f"kid {kid!r} is not in the platform JWKS")
        claims = self._verified_claims(id_token, key, platform)

        if claims.get(CLAIM + "version") != "1.3.0":
            raise LaunchRejected(
                "bad_version", f"LTI version {claims.get(CLAIM + 'version')!r}, expected 1.3.0"
            )
        message_type = claims.get(CLAIM + "message_type")
        if not message_type:
            raise LaunchRejected("missing_message_type", "no message_type claim")
        if message_type not in SUPPORTED_MESSAGES:
            raise LaunchRejected("bad_message_type", f"message type {message_type!r} unsupported")

        deployment_id = claims.get(CLAIM + "deployment_id")
        deployment = next(
            (d for d in platform.deployments if d.deployment_id == deployment_id), None
        )
        if deployment is None:
            raise LaunchRejected(
                "unknown_deployment", f"deployment {deployment_id!r} is not registered", 403
            )

        anonymous = self._check_subject(claims, message_type)
        self._check_message(claims, message_type)
        nonce = self._check_nonce_and_state(claims, platform, form, cookies)
        return ValidatedLaunch(
            platform=platform,
            deployment=deployment,
            claims=claims,
            message_type=message_type,
            nonce=nonce,
            state=form.get("state", ""),
            anonymous=anonymous,
        )

    def _platform(self, body: Mapping[str, Any]) -> Platform:
        iss = body.get("iss")
        if not isinstance(iss, str) or not iss:
            raise LaunchRejected("unknown_issuer", "the id_token has no iss")
        platforms = list(self.session.scalars(select(Platform).where(Platform.issuer == iss)))
        if not platforms:
            raise LaunchRejected("unknown_issuer", f"issuer {iss!r} is not registered", 403)
        aud = body.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        matching = [p for p in platforms if p.client_id in audiences]
        if not matching:
            raise LaunchRejected(
                "wrong_audience", f"aud {aud!r} does not contain a registered client id", 403
            )
        platform = matching[0]
        azp = body.get("azp")
        if len(audiences) > 1 and azp != platform.client_id:
            raise LaunchRejected(
                "bad_azp", f"several audiences and azp {azp!r} is not our client id", 403
            )
        if azp is not None and azp != platform.client_id:
            raise LaunchRejected("bad_azp", f"azp {azp!r} is not our client id", 403)
        return platform

    def _verified_claims(
        self, id_token: str, key: Mapping[str, Any], platform: Platform
    ) -> dict[str, Any]:
        try:
            public_key = jwt.PyJWK.from_json(json.dumps(dict(key)), algorithm="RS256")
        except jwt.PyJWTError as exc:
            raise LaunchRejected("unknown_kid", f"platform key unusable: {exc}") from exc
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                public_key,
                algorithms=["RS256"],
                audience=platform.client_id,
                issuer=platform.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise LaunchRejected("expired", "the id_token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise LaunchRejected(
                "issued_in_future", "the id_token is issued in the future"
            ) from exc
        except jwt.InvalidAudienceError as exc:
            raise LaunchRejected("wrong_audience", str(exc), 403) from exc
        except jwt.InvalidIssuerError as exc:
            raise LaunchRejected("unknown_issuer", str(exc), 403) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise LaunchRejected("missing_claim", str(exc)) from exc
        except jwt.InvalidSignatureError as exc:
            raise LaunchRejected("bad_signature", "the id_token signature is wrong") from exc
        except jwt.PyJWTError as exc:
            raise LaunchRejected("malformed_token", str(exc)) from exc
        iat = claims.get("iat")
        if isinstance(iat, int | float) and iat > time.time() + self.leeway:
            raise LaunchRejected("issued_in_future", "the id_token is issued in the future")
        return claims

    @staticmethod
    def _check_subject(claims: Mapping[str, Any], message_type: str) -> bool:
        """A resource-link launch may be anonymous (no ``sub`` and no personal claims)."""
        sub = claims.get("sub")
        if isinstance(sub, str) and sub:
            return False
        if message_type == RESOURCE_LINK_REQUEST and not any(c in claims for c in USER_CLAIMS):
            return True
        raise LaunchRejected("missing_sub", "the launch names no user (sub)")

    @staticmethod
    def _check_message(claims: Mapping[str, Any], message_type: str) -> None:
        roles = claims.get(CLAIM + "roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise LaunchRejected("bad_claims", "roles must be a list of strings")
        if message_type == RESOURCE_LINK_REQUEST:
            link = claims.get(CLAIM + "resource_link")
            if not isinstance(link, dict) or not link.get("id"):
                raise LaunchRejected("missing_resource_link", "resource_link.id is missing")
        else:
            settings = claims.get(DL_CLAIM + "deep_linking_settings")
            if not isinstance(settings, dict) or not settings.get("deep_link_return_url"):
                raise LaunchRejected("bad_deep_linking", "deep_link_return_url is missing")
            accept = settings.get("accept_types") or []
            if "ltiResourceLink" not in accept:
                raise LaunchRejected("bad_deep_linking", "the platform does not accept links")
        for name in ("context", "launch_presentation", "custom"):
            value = claims.get(CLAIM + name)
            if value is not None and not isinstance(value, dict):
                raise LaunchRejected("bad_claims", f"the {name} claim must be an object")

    def _check_nonce_and_state(
        self,
        claims: Mapping[str, Any],
        platform: Platform,
        form: Mapping[str, str],
        cookies: Mapping[str, str],
    ) -> str:
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise LaunchRejected("missing_claim", "the id_token has no nonce")
        if not _ISSUED_VALUE.fullmatch(nonce):
            # Ours are short URL-safe strings; anything else (a NUL, 10 kB) was not issued by
            # us and must not reach a query, where PostgreSQL would refuse it with an error.
            raise LaunchRejected("nonce_mismatch", "the nonce is not one this tool issues", 403)
        used = self.session.scalar(
            select(UsedNonce.id).where(
                UsedNonce.platform_id == platform.id, UsedNonce.nonce == nonce
            )
        )
        if used is not None:
            raise LaunchRejected("replayed", "this id_token nonce was already used", 403)
        state = form.get("state", "")
        if not state:
            raise LaunchRejected("missing_state", "no state in the request")
        row = self.session.get(LoginState, state) if _ISSUED_VALUE.fullmatch(state) else None
        now = datetime.now(UTC)
        if row is None or row.platform_id != platform.id or _aware(row.expires_at) < now:
            raise LaunchRejected(
                "unknown_state", "the state was not issued by this tool or expired"
            )
        browser_id = cookies.get(BROWSER_COOKIE)
        if not browser_id:
            raise LaunchRejected("state_cookie_missing", "the login cookie did not come back")
        if not self.binding.issued_to(state, browser_id):
            raise LaunchRejected("state_mismatch", "the state was issued to another browser")
        if row.nonce != nonce:
            raise LaunchRejected("nonce_mismatch", "the nonce differs from the one we issued", 403)
        return nonce
