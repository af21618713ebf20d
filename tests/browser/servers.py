"""The tool and the demo LMS served over HTTPS on two sites, as a real LMS embeds the tool.

Why HTTPS: in a cross-site iframe the browser blocks third-party cookies, and over plain http
the tool's OIDC login cookie (``SameSite=Lax``) never comes back to ``/lti/launch`` from
another site, so the launch is refused (``state_cookie_missing``). Over https the tool sets it
``Secure; SameSite=None; Partitioned``, which Chromium keeps even with third-party cookies
blocked: that is the production set-up, so the browser tests run it. A throw-away test CA
signs one certificate for ``localhost`` and ``127.0.0.1``; Chromium ignores it being unknown
(``ignore_https_errors``) and the two servers' own HTTP clients (``requests``) trust it through
``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import ipaddress
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.live import DeferredApp


@dataclass(frozen=True)
class TestCertificates:
    """A CA (trusted by the servers' HTTP clients) and the servers' certificate and key."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    __test__ = False  # not a pytest test class, despite its name

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(directory: Path) -> TestCertificates:
    """A CA and a server certificate for ``localhost`` and ``127.0.0.1`` (EC keys: fast)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Socle browser tests CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TestCertificates(
        directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    )
    files.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


class _QuietHandler(WSGIRequestHandler):
    """No access log: a parcours makes hundreds of requests and failures say enough."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


class TlsServer:
    """A threaded WSGI server on ``host`` with an ephemeral port, reached at ``url_host``.

    Threaded because the tool and the LMS call each other while serving a browser request
    (JWKS, token endpoint).
    """

    def __init__(self, certificates: TestCertificates, host: str = "127.0.0.1",
                 url_host: str | None = None) -> None:
        self.deferred = DeferredApp()
        self.server: BaseWSGIServer = make_server(
            host, 0, self.deferred, threaded=True, request_handler=_QuietHandler,
            ssl_context=certificates.server_context(),
        )
        self.url = f"https://{url_host or host}:{self.server.server_port}"
        self._thread: threading.Thread | None = None

    def start(self, app: Callable[..., Any]) -> None:
        self.deferred.app = app
        # A short poll: ``shutdown()`` waits for it, once per server and test.
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
