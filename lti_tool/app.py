"""The application factory: it wires settings, extensions and blueprints, nothing more."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from flask import Flask, g, request
from flask_babel import Babel, get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from lti_tool.config import PACKAGE_DIR, Settings
from lti_tool.content_store import Catalogue
from lti_tool.db import Database, private_dir
from lti_tool.i18n import SUPPORTED_LOCALES, install_request_translations
from lti_tool.logging_setup import install_log_escaping
from lti_tool.lti.launch import JwksCache
from lti_tool.lti.limits import init_login_limits
from lti_tool.lti.tokens import LaunchTokens

if TYPE_CHECKING:
    from lti_tool.player.grades import GradeSync
    from lti_tool.player.service import Player
    from lti_tool.reports.snapshots import ReportKeeper

log = logging.getLogger(__name__)


class FramingPolicy:
    """Origins allowed in ``frame-ancestors``, re-read from the database every few seconds.

    Registrations can change from another process (``socle platform add``); a short cache
    keeps one query off every response without making a new platform wait long.
    """

    def __init__(self, database: Database, ttl: float = 10.0) -> None:
        self.database = database
        self.ttl = ttl
        self._origins: list[str] = []
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def origins(self) -> list[str]:
        from lti_tool.lti.registrations import framing_origins

        with self._lock:
            if time.monotonic() - self._read_at > self.ttl:
                with self.database.session() as session:
                    self._origins = framing_origins(session)
                self._read_at = time.monotonic()
            return list(self._origins)

    def invalidate(self) -> None:
        with self._lock:
            self._read_at = float("-inf")


def _static_version(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _select_locale() -> str:
    locale = getattr(g, "locale", None)
    if locale in SUPPORTED_LOCALES:
        return str(locale)
    return request.accept_languages.best_match(SUPPORTED_LOCALES, default="fr") or "fr"


def _with_stored_calibrations(catalogue: Catalogue, database: Database) -> Catalogue:
    """The catalogue with the parameters ``socle calibrate`` stored applied to its content."""
    from lti_tool.calibration_store import calibrated_content

    with database.session() as session:
        content = calibrated_content(catalogue.content, session)
    return catalogue if content is catalogue.content else Catalogue(content)


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    settings = settings or Settings.from_env(**overrides)
    private_dir(settings.instance_dir)  # local state (secret, SQLite, demo LMS): owner only
    install_log_escaping()
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        MAX_CONTENT_LENGTH=1 * 1024 * 1024,
        BABEL_DEFAULT_LOCALE="fr",
        BABEL_TRANSLATION_DIRECTORIES=str(PACKAGE_DIR / "translations"),
    )
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 365 * 24 * 3600
    static_version = _static_version(PACKAGE_DIR / "static")

    @app.url_defaults
    def _version_static_urls(endpoint: str, values: dict[str, Any]) -> None:
        # Static files are cached for a year; the version in their URL changes with them.
        if endpoint == "static" and "filename" in values:
            values.setdefault("v", static_version)

    if settings.trust_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    from lti_tool.content_store import load_catalogue
    from lti_tool.player.events import XapiEvents, XapiOptions
    from lti_tool.player.grades import GradeSync
    from lti_tool.player.service import Player
    from lti_tool.reports.snapshots import ReportKeeper

    catalogue = load_catalogue(settings.content_dir)
    database = Database(settings.database_url)
    catalogue = _with_stored_calibrations(catalogue, database)
    http = requests.Session()
    http.headers["User-Agent"] = "Socle LTI tool"
    app.extensions["socle"] = SocleExtension(
        settings=settings,
        database=database,
        catalogue=catalogue,
        jwks=JwksCache(
            http,
            settings.http_timeout,
            settings.jwks_refetch_interval,
            default_max_age=settings.jwks_default_max_age,
            min_max_age=settings.jwks_min_max_age,
            max_max_age=settings.jwks_max_max_age,
            failure_backoff=settings.jwks_failure_backoff,
            failure_backoff_max=settings.jwks_failure_backoff_max,
        ),
        tokens=LaunchTokens(settings.secret_key, settings.token_idle_lifetime),
        framing=FramingPolicy(database),
        player=Player(
            catalogue.content,
            XapiEvents(
                settings.base_url,
                catalogue.content,
                XapiOptions.from_env(settings.content_dir),
            ),
            retry_delay=settings.retry_delay,
        ),
        grades=GradeSync(database, settings),
        reports=ReportKeeper(
            database, stale_for=settings.report_stale_for, background=not settings.testing
        ),
    )
    install_request_translations(app, Babel(app, locale_selector=_select_locale))
    app.jinja_env.globals["get_locale"] = get_locale

    from lti_tool.lti.views import bp as lti_bp
    from lti_tool.player.views import bp as player_bp
    from lti_tool.reports.views import bp as reports_bp
    from lti_tool.web import errors, security
    from lti_tool.web.activity import bp as activity_bp
    from lti_tool.web.views import bp as web_bp
    from lti_tool.web.xapi_views import bp as xapi_bp

    app.register_blueprint(web_bp)
    app.register_blueprint(lti_bp)
    app.register_blueprint(activity_bp)
    app.register_blueprint(player_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(xapi_bp)
    security.init_app(app)
    errors.init_app(app)
    from lti_tool.admin import views as _admin_views  # noqa: F401 - adds the pages to the blueprint
    from lti_tool.admin.web import init_app as init_admin
    from lti_tool.privacy.views import bp as privacy_bp

    init_admin(app)
    app.register_blueprint(privacy_bp)
    init_login_limits(app, settings)
    from lti_tool.observability import metrics

    metrics.init_app(app, database.sessions)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    return app


@dataclass
class SocleExtension:
    """What the views need, reachable as ``current_app.extensions['socle']``."""

    settings: Settings
    database: Database
    catalogue: Catalogue
    jwks: JwksCache
    tokens: LaunchTokens
    framing: FramingPolicy
    player: Player
    grades: GradeSync
    reports: ReportKeeper
