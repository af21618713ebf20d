"""The tool's public keys, fetched from its JWKS URL and cached.

lti1p3platform fetches the JWKS again on every token or deep-linking request; real platforms
cache it and refetch when a message names a key they do not know (key rotation). This cache
does that, with one refetch at most every `min_refetch_seconds`, so a stream of forged `kid`s
cannot turn the LMS into a request amplifier against the tool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from .config import HTTP_TIMEOUT_SECONDS


class ToolKeySetUnavailableError(Exception):
    """The tool's JWKS could not be fetched or is not a JWKS."""


class ToolKeySet:
    """Thread-safe cache of one tool's JWKS."""

    def __init__(
        self,
        url: str,
        *,
        ttl_seconds: float = 300.0,
        min_refetch_seconds: float = 10.0,
        timeout: float = HTTP_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._ttl = ttl_seconds
        self._min_refetch = min_refetch_seconds
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, Any] | None = None
        self._fetched_at = 0.0
        self._forced_at: float | None = None

    def _fetch(self) -> dict[str, Any]:
        try:
            response = requests.get(self._url, timeout=self._timeout)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ToolKeySetUnavailableError(f"{self._url}: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ToolKeySetUnavailableError(f"{self._url} did not return a JWKS")
        return {"keys": [key for key in data["keys"] if isinstance(key, dict)]}

    def get(self) -> dict[str, Any]:
        """The cached JWKS, fetched when absent or older than the TTL."""
        with self._lock:
            now = self._clock()
            if self._keys is None or now - self._fetched_at > self._ttl:
                self._keys = self._fetch()
                self._fetched_at = now
            return self._keys

    def refresh_for_unknown_kid(self, kid: str) -> dict[str, Any]:
        """Refetch because a message named `kid`, unless such a refetch happened very recently.

        Only refetches caused by unknown keys count against the limit: a tool that rotates its
        key right after a regular fetch is still recognised at once.
        """
        with self._lock:
            now = self._clock()
            known = self._keys is not None and any(
                key.get("kid") == kid for key in self._keys["keys"]
            )
            recently_forced = (
                self._forced_at is not None and now - self._forced_at < self._min_refetch
            )
            if self._keys is None or (not known and not recently_forced):
                self._forced_at = now
                self._keys = self._fetch()
                self._fetched_at = now
            return self._keys
