"""Keep the page token ``lt`` (and a dynamic registration's token) out of every log line.

The token travels in URLs (links and redirects in the LMS iframe cannot use cookies), and any
access log writes URLs: a log reader could replay a live token. Three writers are covered:

- gunicorn's access log (``socle serve``): :class:`GunicornLogger`, passed as
  ``--logger-class``, redacts the token in every atom a log format can use (request line,
  query string, referrer, headers, environ);
- werkzeug's development server (``socle demo``) and anything else logging through the
  ``werkzeug``, ``gunicorn.*`` or ``lti_tool`` loggers: :class:`RedactPageTokens`, a logging
  filter that rewrites the formatted message;
- our own messages name launches by id, never by token.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

from lti_tool.lti.tokens import TOKEN_FIELD

REDACTED = "[redacted]"
# ``lt=`` at the start of a query string or after ``?``, ``&`` or ``;``, also percent-encoded
# (a URL quoted inside another one, e.g. a referrer's ``next=``).
# Secrets that travel as query parameters: the page token, and the one-time token a platform
# gives with its dynamic registration request (``/lti/register?registration_token=…``).
SECRET_PARAMETERS = (TOKEN_FIELD, "registration_token")
_NAMES = "|".join(re.escape(name) for name in SECRET_PARAMETERS)
_TOKEN = re.compile(
    rf"(?P<lead>(?:^|[?&;\s\"']|%3[Ff]|%26)(?:{_NAMES})(?:=|%3[Dd]))[^&;\s\"'%]*"
)
LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "lti_tool")


def redact(text: str) -> str:
    """``text`` with the value of every ``lt`` (and ``registration_token``) parameter replaced."""
    if not any(name in text for name in SECRET_PARAMETERS):
        return text
    return _TOKEN.sub(lambda m: m.group("lead") + REDACTED, text)


class RedactPageTokens(logging.Filter):
    """A logging filter that redacts page tokens from the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction() -> None:
    """Add the filter to the loggers that write URLs (once; safe to call again)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactPageTokens) for f in logger.filters):
            logger.addFilter(RedactPageTokens())


class GunicornLogger(Logger):  # type: ignore[misc]
    """Gunicorn's logger with page tokens redacted from every access-log atom."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        install_log_redaction()
        from lti_tool.observability.logs import install_json_logging, json_requested

        if json_requested():
            install_json_logging(self.error_log, self.access_log)

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        """The access line; as JSON, its fields too (``SOCLE_LOG_FORMAT=json``)."""
        from lti_tool.observability.logs import json_requested

        if not json_requested() or not (self.cfg.accesslog or self.cfg.logconfig):
            super().access(resp, req, environ, request_time)
            return
        atoms = self.atoms(resp, req, environ, request_time)
        fields = {
            "method": atoms.get("m"),
            "path": atoms.get("U"),
            "status": resp.status_code if hasattr(resp, "status_code") else atoms.get("s"),
            "bytes": atoms.get("B"),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "remote": atoms.get("h"),
        }
        self.access_log.info(
            "%s %s %s", fields["method"], fields["path"], fields["status"],
            extra={"access": fields},
        )
