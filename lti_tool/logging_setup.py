"""Log records that cannot forge lines: control characters are escaped in every record.

What may arrive: any value a request carries ends up in some log call sooner or later (an
LMS's ``error_description``, a ``login_hint``, an issuer, an exception's message), and some of
them are written by whoever sends the request. A CR or LF in such a value starts a fake log
line; an ANSI escape rewrites the operator's terminal; a NUL truncates some log shippers.

What must never happen: a raw control character reaching a handler. Escaping at each call
site is a rule someone forgets, so the app factory installs :func:`install_log_escaping`
once: a log-record factory that runs :class:`EscapingFilter` on every record any logger of
the process creates (ours, Flask's, libraries'), whatever handlers are configured later
(gunicorn, pytest's capture). The filter is also usable on its own in a logging
configuration file.

Numbers keep their type so ``%d`` still works; every other argument is wrapped so that its
``%s`` and ``%r`` renderings are escaped; the message is escaped too, since f-strings put
values straight into it.
Tracebacks (``exc_info``) are multi-line by nature and are left to the formatter.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from numbers import Number
from typing import Any

# C0 controls (with TAB, CR, LF), DEL, C1 controls, the Unicode line and paragraph
# separators, and the bidirectional overrides that reorder what an operator reads.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """``text`` with every control character written as a visible escape (``\\n``, ``\\x1b``)."""
    return _UNSAFE.sub(_escape_char, text)


class _Escaped:
    """An argument whose ``%s`` and ``%r`` renderings are escaped."""

    __slots__ = ("_value",)

    def __init__(self, value: object) -> None:
        self._value = value

    def __str__(self) -> str:
        return escape(str(self._value))

    def __repr__(self) -> str:
        return escape(repr(self._value))


def _safe_arg(value: Any) -> Any:
    if value is None or isinstance(value, bool | Number):
        return value
    return _Escaped(value)


class EscapingFilter(logging.Filter):
    """Escapes the message and arguments of each record in place; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_socle_escaped", False):
            return True
        record.msg = escape(record.msg if isinstance(record.msg, str) else str(record.msg))
        args = record.args
        if isinstance(args, Mapping):
            record.args = {key: _safe_arg(value) for key, value in args.items()}
        elif isinstance(args, tuple):
            record.args = tuple(_safe_arg(value) for value in args)
        record._socle_escaped = True
        return True


_FILTER = EscapingFilter()


def install_log_escaping() -> None:
    """Make every log record of the process escaped at creation; safe to call again."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_socle_escaping", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        _FILTER.filter(record)
        return record

    factory._socle_escaping = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
