"""Outbound HTTP to an address that an unauthenticated caller chose (dynamic registration).

What may arrive: any string. ``GET /lti/register`` takes the platform's configuration URL
from its query string, and that configuration names further URLs; nobody has logged in.
What must never happen: a request to this machine, to the private network behind it or to a
cloud metadata service (server-side request forgery); a connection error echoed back to the
caller (that would make the tool a port scanner); a fetch that hangs or fills the memory.

How: a URL is parsed **once**, strictly, into a :class:`CheckedUrl` (https only, unless the
administrator named the host as local for development; no user info, no backslash, no
whitespace or non-ASCII character, a DNS name and never an IP literal in any notation that
a resolver or a browser accepts: ``2130706433``, ``0x7f.0.0.1``, ``0177.0.0.1``, ``127.1``,
``[::ffff:127.0.0.1]``). The name is resolved once; **every** address it resolves to must be
public, and the TCP connection goes to one of those checked addresses while the ``Host``
header, TLS SNI and certificate verification stay on the name (no second resolution, so no
DNS-rebinding window). The request is made with urllib3's connection class directly, from the
parts of the :class:`CheckedUrl`: nothing parses the URL a second time, no proxy from the
environment applies, redirects are never followed. The body is bounded in size and the whole
fetch by one deadline (an injected clock).

Design anchor: Saleor's ``requests-hardened`` (connect to the resolved, filtered address and
keep the hostname for SNI); we do not use it as is because it checks only the first address,
offers no per-host development exemption and no injectable resolver, and leaves size and
deadline to the caller.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

Resolver = Callable[[str, int], list[str]]
Clock = Callable[[], float]

# A platform configuration or registration answer is a few kilobytes; 1 MiB is generous.
MAX_BYTES = 1024 * 1024
# Longer than any real endpoint URL, short enough to keep logs and pages readable.
MAX_URL_LENGTH = 2048
# One DNS label: letters, digits and inner hyphens (RFC 1123); IDNs arrive as punycode.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Visible ASCII except the backslash (which browsers and urllib3 read as "/" while urlsplit
# does not) and the characters that have no business in a URL.
_URL_CHARS = re.compile(r'^[!#-\[\]-~]+$')


class FetchRefused(Exception):
    """A URL or a response that we refuse. ``code`` names the reason for the page; the
    exception never carries the text of a lower-level error (it could reveal what is
    listening on a port)."""

    def __init__(self, code: str, what: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.what = what


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (IPv4 and IPv6)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchRefused("unresolvable") from exc
    return [
        str(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)
    ]


def is_public_address(address: str) -> bool:
    """Whether an address is one a platform on the Internet may have: not loopback, private,
    link-local, multicast, reserved, unspecified or shared (carrier-grade NAT)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return False  # fec0::/10: deprecated, yet still routed inside some networks
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


@dataclass(frozen=True)
class FetchPolicy:
    """Where the tool may go. ``allowed_hosts`` are exact host names (``*``: any);
    ``local_hosts`` are those the administrator runs on this machine or network for
    development: plain http and any address are accepted for them, and for them only."""

    allowed_hosts: tuple[str, ...]
    local_hosts: tuple[str, ...] = ()
    timeout: float = 5.0
    max_bytes: int = MAX_BYTES
    resolver: Resolver = system_resolver
    clock: Clock = field(default=time.monotonic)


@dataclass(frozen=True)
class CheckedUrl:
    """A URL parsed once; the request is built from these parts and nothing else."""

    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent on the request line
    local: bool

    @property
    def url(self) -> str:
        default = 443 if self.scheme == "https" else 80
        netloc = self.host if self.port == default else f"{self.host}:{self.port}"
        path, _, query = self.target.partition("?")
        return urlunsplit((self.scheme, netloc, path, query, ""))


def _is_dns_name(host: str) -> bool:
    """A host name made of DNS labels whose last label starts with a letter. Every IPv4
    notation that resolvers accept (decimal, octal, hex, short forms) ends with a label made
    of digits or ``0x…``, and IPv6 literals need brackets or colons: all fail here."""
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        return False
    return labels[-1][0].isalpha() and not labels[-1].startswith("0x")


def check_url(url: str, policy: FetchPolicy, what: str = "url") -> CheckedUrl:
    """Parse ``url`` once and refuse anything ambiguous or outside the policy."""
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH or not _URL_CHARS.match(url):
        raise FetchRefused("bad_url", what)
    try:
        parts = urlsplit(url)  # raises on an unbalanced bracket ("https://[::1/x")
    except ValueError as exc:
        raise FetchRefused("bad_url", what) from exc
    if parts.scheme not in {"https", "http"} or not parts.netloc:
        raise FetchRefused("bad_url", what)
    if "@" in parts.netloc or "[" in parts.netloc or "]" in parts.netloc:
        raise FetchRefused("bad_host", what)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise FetchRefused("bad_url", what) from exc
    if not 0 < port < 65536:
        raise FetchRefused("bad_url", what)
    if "*" not in policy.allowed_hosts and host not in policy.allowed_hosts:
        raise FetchRefused("host_not_allowed", what)
    local = host in policy.local_hosts
    if not local and not _is_dns_name(host):
        raise FetchRefused("bad_host", what)
    if parts.scheme != "https" and not local:
        raise FetchRefused("not_https", what)
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    return CheckedUrl(parts.scheme, host, port, target, local)


def _pinned(base: type[HTTPConnection]) -> type[HTTPConnection]:
    """A urllib3 connection class that connects only to addresses checked beforehand.

    urllib3 resolves the host in ``_new_conn``; this one never resolves: it tries the given
    addresses in order. ``host`` stays the name, so the Host header, SNI and certificate
    verification use it."""

    class Pinned(base):  # type: ignore[valid-type,misc]
        addresses: tuple[str, ...] = ()

        def _new_conn(self) -> socket.socket:
            for address in self.addresses:
                try:
                    return socket.create_connection((address, self.port), self.timeout)
                except OSError:
                    continue
            raise FetchRefused("unreachable")

    return Pinned


_PINNED_HTTP = _pinned(HTTPConnection)
_PINNED_HTTPS = _pinned(HTTPSConnection)


def _addresses(checked: CheckedUrl, policy: FetchPolicy) -> tuple[str, ...]:
    addresses = tuple(policy.resolver(checked.host, checked.port))
    if not addresses:
        raise FetchRefused("unresolvable")
    if not checked.local and not all(is_public_address(a) for a in addresses):
        raise FetchRefused("private_address")
    return addresses


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # closed already: the fetch is over
        sock.shutdown(socket.SHUT_RDWR)


def _expired(deadline: float, policy: FetchPolicy) -> bool:
    return policy.clock() >= deadline


def fetch_json(
    method: str,
    checked: CheckedUrl,
    policy: FetchPolicy,
    *,
    body: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, Any]:
    """Make one request to exactly ``checked`` and return (status, parsed JSON body).

    Raises :class:`FetchRefused` for every failure: unreachable, too slow, too large, a
    redirect, not JSON. The status of a complete JSON answer is the caller's to judge."""
    deadline = policy.clock() + policy.timeout

    def remaining() -> float:
        left = deadline - policy.clock()
        if left <= 0:
            raise FetchRefused("too_slow")
        return left

    addresses = _addresses(checked, policy)
    cls = _PINNED_HTTPS if checked.scheme == "https" else _PINNED_HTTP
    connection = cls(checked.host, checked.port, timeout=remaining())
    connection.addresses = addresses  # type: ignore[attr-defined]
    data = None if body is None else json.dumps(body).encode()
    request_headers = {
        "Accept": "application/json",
        "Accept-Encoding": "identity",
        "User-Agent": "Socle LTI tool",
        **(headers or {}),
    }
    if data is not None:
        request_headers["Content-Type"] = "application/json"
    watchdog: threading.Timer | None = None
    try:
        connection.connect()
        # One deadline for the whole exchange: past it, the socket is shut down, which ends a
        # blocked read at once, however slowly a server trickles its headers or body.
        sock = connection.sock
        if sock is not None:
            watchdog = threading.Timer(remaining(), _shutdown, (sock,))
            watchdog.daemon = True
            watchdog.start()
        connection.request(
            method, checked.target, body=data, headers=request_headers, preload_content=False
        )
        response = connection.getresponse()
        if 300 <= response.status < 400:
            raise FetchRefused("redirect")
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > policy.max_bytes:
            raise FetchRefused("too_large")
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read1(64 * 1024, decode_content=False):
            remaining()
            size += len(chunk)
            if size > policy.max_bytes:
                raise FetchRefused("too_large")
            chunks.append(chunk)
        remaining()
    except FetchRefused:
        raise
    except (TimeoutError, Urllib3Timeout) as exc:
        raise FetchRefused("too_slow") from exc
    except (HTTPError, OSError, ValueError) as exc:
        raise FetchRefused("too_slow" if _expired(deadline, policy) else "unreachable") from exc
    finally:
        if watchdog is not None:
            watchdog.cancel()
        connection.close()
    try:
        return response.status, json.loads(b"".join(chunks))
    except ValueError as exc:
        raise FetchRefused("not_json") from exc
