"""Rate limit of the OIDC login per client address, with Flask-Limiter.

``/lti/login`` is unauthenticated and writes a row per call; the table cap in
``service.start_login`` bounds what is stored, this limit bounds how fast one address can
ask. The storage is in memory (one count per process) unless ``SOCLE_REDIS_URL`` is set, in
which case every process shares Redis; if Redis fails, the limit falls back to memory rather
than refusing logins. The moving-window strategy has no window edge to burst across.

Several agents behind one NAT share an address: the default (``60 per minute``) lets a whole
class launch at once; raise ``SOCLE_LOGIN_RATE_LIMIT`` for larger sites.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, request
from flask_limiter import Limiter, RateLimitExceeded

from lti_tool.config import Settings
from lti_tool.lti.messages import explain
from lti_tool.pages.errors import render_error


def client_address() -> str:
    """The address limits are counted on (``ProxyFix`` corrects it behind a trusted proxy)."""
    return request.remote_addr or "unknown"


def init_login_limits(app: Flask, settings: Settings) -> Limiter:
    """One limiter per application, applied to the ``lti.login`` view only."""
    limiter = Limiter(
        key_func=client_address,
        app=app,
        storage_uri=settings.redis_url or "memory://",
        strategy="moving-window",
        key_prefix="socle",
        headers_enabled=True,
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    login_view: Callable[..., Any] = app.view_functions["lti.login"]
    app.view_functions["lti.login"] = limiter.limit(settings.login_rate_limit)(login_view)

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded) -> tuple[str, int]:
        app.logger.warning("login rate limit %s reached by %s", exc.limit.limit, client_address())
        message, advice = explain("login_rate_limited")
        return render_error(message, advice, 429, code="login_rate_limited")

    return limiter
