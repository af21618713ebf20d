"""Settings read from ``SOCLE_*`` environment variables, with safe defaults for local use.

One frozen dataclass, built once by the app factory (or by the CLI), so that every setting a
deployment can change is listed in a single place and documented in the README.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def _default_instance_dir() -> Path:
    return Path(os.environ.get("SOCLE_INSTANCE_DIR", Path.cwd() / "instance")).resolve()


def _default_content_dir() -> Path:
    here = Path.cwd() / "content"
    if (here / "framework.yaml").exists():
        return here.resolve()
    return PROJECT_DIR / "content"


def _secret_key(instance_dir: Path) -> str:
    """Use ``SOCLE_SECRET_KEY`` or a random key kept in ``instance/secret_key``.

    A generated key survives restarts, so the tokens carried by agents' pages stay valid.
    Processes started together on one empty instance directory (``socle db upgrade`` and
    ``socle serve`` of several containers) agree on one key: each writes its candidate to a
    private file of its own, then links it into place, which succeeds for exactly one of
    them; the others read the winner's key, never a half-written file.
    """
    configured = os.environ.get("SOCLE_SECRET_KEY")
    if configured:
        return configured
    from lti_tool.db import private_dir

    private_dir(instance_dir)
    path = instance_dir / "secret_key"
    if not path.exists():
        fd, candidate = tempfile.mkstemp(dir=instance_dir, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_urlsafe(48))
            # Refused when another process published its key first: that one is used.
            with contextlib.suppress(FileExistsError):
                os.link(candidate, path)
        finally:
            os.unlink(candidate)
    return path.read_text(encoding="utf-8").strip()


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Everything a deployment may configure. Build with :meth:`from_env`."""

    instance_dir: Path
    database_url: str
    secret_key: str
    base_url: str
    content_dir: Path
    http_timeout: float = 5.0
    token_lifetime: int = 4 * 3600
    token_idle_lifetime: int = 30 * 60
    login_state_lifetime: int = 600
    clock_leeway: int = 5
    jwks_refetch_interval: int = 60
    key_publish_delay: int = 3600
    key_retention: int = 7 * 24 * 3600
    trust_proxy: bool = False
    retry_delay: int = 0
    registration_hosts: tuple[str, ...] = ()
    # Hosts of platforms run for development (a local Moodle, the tests): dynamic
    # registration with them may use plain http and loopback or private addresses.
    registration_local_hosts: tuple[str, ...] = ()
    redis_url: str = ""
    # Platform key sets: kept for the platform's Cache-Control max-age, within these bounds.
    jwks_default_max_age: int = 3600
    jwks_min_max_age: int = 60
    jwks_max_max_age: int = 24 * 3600
    # A failed key-set fetch is not retried before this delay, doubled up to the maximum.
    jwks_failure_backoff: int = 10
    jwks_failure_backoff_max: int = 300
    # OIDC login: requests per client address (Flask-Limiter syntax), and the most unexpired
    # login states one client address, and all of them together, may hold.
    login_rate_limit: str = "60 per minute"
    login_states_per_address: int = 1000
    login_states_total: int = 50_000
    # An organisation report computed before the latest results is still shown for this
    # long (saying when it was computed) while a fresh one is computed in the background.
    report_stale_for: int = 1800
    testing: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        instance_dir = Path(str(overrides.pop("instance_dir", _default_instance_dir())))
        database_url = os.environ.get(
            "SOCLE_DATABASE_URL", f"sqlite:///{instance_dir / 'socle.sqlite3'}"
        )
        settings = cls(
            instance_dir=instance_dir,
            database_url=database_url,
            secret_key=_secret_key(instance_dir),
            base_url=os.environ.get("SOCLE_BASE_URL", "http://127.0.0.1:5001").rstrip("/"),
            content_dir=Path(os.environ.get("SOCLE_CONTENT_DIR", _default_content_dir())),
            http_timeout=float(os.environ.get("SOCLE_HTTP_TIMEOUT", "5")),
            token_lifetime=_int("SOCLE_TOKEN_LIFETIME", 4 * 3600),
            token_idle_lifetime=_int("SOCLE_TOKEN_IDLE_LIFETIME", 30 * 60),
            login_state_lifetime=_int("SOCLE_LOGIN_STATE_LIFETIME", 600),
            clock_leeway=min(_int("SOCLE_CLOCK_LEEWAY", 5), 5),
            jwks_refetch_interval=_int("SOCLE_JWKS_REFETCH_INTERVAL", 60),
            key_publish_delay=_int("SOCLE_KEY_PUBLISH_DELAY", 3600),
            key_retention=_int("SOCLE_KEY_RETENTION", 7 * 24 * 3600),
            trust_proxy=os.environ.get("SOCLE_TRUST_PROXY", "") in {"1", "true", "yes"},
            retry_delay=_int("SOCLE_RETRY_DELAY", 0),
            registration_hosts=tuple(
                h.strip().lower()
                for h in os.environ.get("SOCLE_REGISTRATION_HOSTS", "").split(",")
                if h.strip()
            ),
            registration_local_hosts=tuple(
                h.strip().lower()
                for h in os.environ.get("SOCLE_REGISTRATION_LOCAL_HOSTS", "").split(",")
                if h.strip()
            ),
            redis_url=os.environ.get("SOCLE_REDIS_URL", ""),
            jwks_default_max_age=_int("SOCLE_JWKS_DEFAULT_MAX_AGE", 3600),
            jwks_min_max_age=_int("SOCLE_JWKS_MIN_MAX_AGE", 60),
            jwks_max_max_age=_int("SOCLE_JWKS_MAX_MAX_AGE", 24 * 3600),
            jwks_failure_backoff=_int("SOCLE_JWKS_FAILURE_BACKOFF", 10),
            jwks_failure_backoff_max=_int("SOCLE_JWKS_FAILURE_BACKOFF_MAX", 300),
            login_rate_limit=os.environ.get("SOCLE_LOGIN_RATE_LIMIT", "") or "60 per minute",
            login_states_per_address=_int("SOCLE_LOGIN_STATES_PER_ADDRESS", 1000),
            login_states_total=_int("SOCLE_LOGIN_STATES_TOTAL", 50_000),
            report_stale_for=_int("SOCLE_REPORT_STALE_FOR", 1800),
        )
        return replace(settings, **overrides)  # type: ignore[arg-type]
