"""``socle demo``: the tool and an embedded demo LMS on this machine, zero configuration.

The demo LMS is a real LTI 1.3 platform (lti1p3platform): it signs id_tokens with its own
key and serves its JWKS and token endpoints. It registers itself through the same code path
as ``socle platform add``, so the demo exercises exactly what a real LMS would.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

import click
from werkzeug.serving import make_server

from lti_tool.app import create_app
from lti_tool.config import Settings
from lti_tool.db import make_engine
from lti_tool.demo_lms import ToolEndpoints, create_demo_lms, demo_registration
from lti_tool.demo_lrs import LRS_PASSWORD, LRS_USERNAME, LocalLrs, why_unavailable
from lti_tool.lti.registrations import PlatformInput, add_platform
from lti_tool.migrate import upgrade_database
from xapi.delivery import LrsSettings, Worker

log = logging.getLogger(__name__)


def register_demo_platform(settings: Settings, lms_app: object) -> None:
    from lti_tool.db import Database

    registration = demo_registration(lms_app)  # type: ignore[arg-type]
    database = Database(settings.database_url)
    try:
        with database.session() as session, session.begin():
            add_platform(
                session,
                PlatformInput(
                    issuer=registration.issuer,
                    client_id=registration.client_id,
                    auth_login_url=registration.auth_login_url,
                    auth_token_url=registration.auth_token_url,
                    key_set_url=registration.key_set_url,
                    deployment_ids=(registration.deployment_id,),
                    name="Démo LMS",
                    store_personal_data=False,
                ),
                existing="update",
            )
    finally:
        database.dispose()


def _ensure_signing_key(settings: Settings) -> None:
    """Generate the tool's first signing key now rather than on the first JWKS request."""
    from lti_tool.db import Database
    from lti_tool.lti.keys import KeyService

    database = Database(settings.database_url)
    try:
        with database.session() as session, session.begin():
            KeyService.from_settings(session, settings).ensure_key()
    finally:
        database.dispose()


def run_demo(host: str = "127.0.0.1", port: int = 5001, lms_port: int = 5000) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    tool_url = f"http://{host}:{port}"
    lms_url = f"http://{host}:{lms_port}"
    settings = replace(Settings.from_env(), base_url=tool_url)
    upgrade_database(settings.database_url, secret_key=settings.secret_key)
    tool_app = create_app(settings)
    lms_app = create_demo_lms(
        lms_url,
        ToolEndpoints(
            login_url=f"{tool_url}/lti/login",
            launch_url=f"{tool_url}/lti/launch",
            deep_link_url=f"{tool_url}/lti/launch",
            jwks_url=f"{tool_url}/lti/jwks",
        ),
        settings.instance_dir / "demo-lms",
    )
    register_demo_platform(settings, lms_app)
    _ensure_signing_key(settings)
    tool_app.extensions["socle"].framing.invalidate()

    try:
        tool_server = make_server(host, port, tool_app, threaded=True)
        lms_server = make_server(host, lms_port, lms_app, threaded=True)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port} and {host}:{lms_port} ({exc.strerror}); "
            "choose other ports with --port and --lms-port"
        ) from exc
    threading.Thread(target=tool_server.serve_forever, daemon=True).start()
    stop = threading.Event()
    lrs, lrs_line = _start_delivery(settings, stop)
    tool_app.extensions["socle"].grades.kick()
    click.echo("")
    click.echo("  Socle demo is running.")
    click.echo(f"  Open {lms_url}/ in your browser (Ctrl+C stops the demo).")
    click.echo(f"  xAPI: {lrs_line}")
    click.echo("")
    try:
        lms_server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        stop.set()
        tool_app.extensions["socle"].grades.stop()
        tool_server.shutdown()
        lms_server.server_close()
        tool_server.server_close()
        if lrs is not None:
            lrs.stop()


def _start_delivery(settings: Settings, stop: threading.Event) -> tuple[LocalLrs | None, str]:
    """Start a local LRS when Node is there, and a background worker delivering the outbox.

    An LRS configured with ``SOCLE_LRS_ENDPOINT`` wins over the local one.
    """
    from lti_tool.db import Database
    from lti_tool.maintenance import Retention, idle_attempt_sweep, start_purge_thread

    # hourly: purge expired rows and what is past the retention, report attempts left idle
    start_purge_thread(
        Database(settings.database_url).sessions,
        stop,
        sweep=idle_attempt_sweep(settings),
        retention=Retention.from_settings(settings),
    )
    lrs_settings = LrsSettings.from_env()
    lrs: LocalLrs | None = None
    if lrs_settings.endpoint:
        line = f"statements are delivered to {lrs_settings.endpoint}"
    else:
        missing = why_unavailable()
        if missing is not None:
            line = (
                f"no LRS ({missing}): statements wait in the outbox; `socle xapi status` shows them"
            )
            return None, line
        lrs = LocalLrs(settings.instance_dir / "demo-lrs")
        try:
            lrs.start()
        except RuntimeError as exc:
            return None, f"the local LRS did not start ({exc}); statements wait in the outbox"
        lrs_settings = replace(
            lrs_settings, endpoint=lrs.endpoint, username=LRS_USERNAME, password=LRS_PASSWORD
        )
        line = f"statements are delivered to a local LRS at {lrs.endpoint}"
    worker = Worker(make_engine(settings.database_url), lrs_settings, secret=settings.secret_key)
    threading.Thread(
        target=worker.run_forever, args=(stop,), name="xapi-worker", daemon=True
    ).start()
    return lrs, line
