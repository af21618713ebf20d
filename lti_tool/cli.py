"""The ``socle`` command: demo, serve, database, registrations, keys, content, simulation.

Errors a person can cause end as one clear line on stderr and a non-zero exit.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy.orm import Session

from lti_tool.config import Settings


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def _session(upgrade: bool = True) -> Iterator[tuple[Settings, Session]]:
    from lti_tool.db import Database
    from lti_tool.migrate import upgrade_database

    settings = _settings()
    if upgrade:
        upgrade_database(settings.database_url, secret_key=settings.secret_key)
    from lti_tool.lti.keys import KeySecretError

    database = Database(settings.database_url)
    try:
        with database.session() as session, session.begin():
            yield settings, session
    except KeySecretError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        database.dispose()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Socle: adaptive assessment of digital competences, as an LTI 1.3 tool."""


# --- database -----------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations to SOCLE_DATABASE_URL (SQLite under instance/ by default)."""
    from lti_tool.migrate import upgrade_database

    settings = _settings()
    upgrade_database(settings.database_url, secret_key=settings.secret_key)
    click.echo(f"database up to date: {_redact(settings.database_url)}")


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- platforms ----------------------------------------------------------------------------
@main.group()
def platform() -> None:
    """LMS registrations (issuer, client id, deployments, endpoints)."""


@platform.command("add")
@click.option("--issuer", required=True, help="Platform ID (iss), e.g. https://moodle.example.org")
@click.option("--client-id", required=True, help="Client ID given by the platform")
@click.option(
    "--deployment-id",
    "deployment_ids",
    multiple=True,
    required=True,
    help="Deployment ID (repeat for several)",
)
@click.option("--auth-login-url", required=True, help="Authentication request URL")
@click.option("--auth-token-url", required=True, help="Access token URL")
@click.option("--key-set-url", required=True, help="Public keyset URL (JWKS)")
@click.option("--name", default=None, help="A name shown in listings")
@click.option("--lrs", default=None, help="Named LRS for this platform (see `socle xapi lrs add`)")
@click.option("--audience", default=None, help="Token audience, when it differs from the token URL")
@click.option(
    "--store-personal-data/--no-personal-data",
    default=False,
    help="Keep agents' names and emails sent by the platform (default: pseudonymous ids only)",
)
@click.option(
    "--update",
    is_flag=True,
    default=False,
    help="Replace the URLs and settings of an existing registration (issuer and client id)",
)
def platform_add(**options: Any) -> None:
    """Register a platform, or add deployments to an existing registration.

    Running it again for a registered issuer and client id adds the deployment ids given,
    provided every other setting is the same; changing them takes --update."""
    from lti_tool.lti.registrations import PlatformInput, RegistrationError, add_platform

    data = PlatformInput(
        issuer=options["issuer"],
        client_id=options["client_id"],
        auth_login_url=options["auth_login_url"],
        auth_token_url=options["auth_token_url"],
        key_set_url=options["key_set_url"],
        deployment_ids=tuple(options["deployment_ids"]),
        name=options["name"],
        auth_audience=options["audience"],
        store_personal_data=options["store_personal_data"],
    )
    try:
        with _session() as (_, session):
            row = add_platform(
                session, data, existing="update" if options["update"] else "add_deployments"
            )
            if options["lrs"]:
                from xapi.outbox import find_lrs_id

                lrs_id = find_lrs_id(session, options["lrs"])
                if lrs_id is None:
                    raise RegistrationError(
                        f"no LRS named {options['lrs']!r}: add it with `socle xapi lrs add`"
                    )
                row.lrs_id = lrs_id
            deployments = ", ".join(d.deployment_id for d in row.deployments)
            click.echo(
                f"registered {row.issuer} client {row.client_id} (deployments: {deployments})"
            )
    except RegistrationError as exc:
        raise click.ClickException(str(exc)) from exc


@platform.command("list")
def platform_list() -> None:
    """List registrations."""
    from lti_tool.lti.registrations import list_platforms

    with _session() as (_, session):
        rows = list_platforms(session)
        if not rows:
            click.echo("no platform registered: see `socle platform add --help`")
            return
        for row in rows:
            deployments = ", ".join(d.deployment_id for d in row.deployments) or "-"
            personal = "names+emails" if row.store_personal_data else "pseudonymous"
            click.echo(
                f"{row.name}\n  issuer: {row.issuer}\n  client id: {row.client_id}\n"
                f"  deployments: {deployments}\n  login: {row.auth_login_url}\n"
                f"  token: {row.auth_token_url}\n  keyset: {row.key_set_url}\n"
                f"  personal data: {personal}"
            )


@platform.command("remove")
@click.option("--issuer", required=True)
@click.option("--client-id", default=None, help="Needed when the issuer has several client ids")
@click.option("--deployment-id", default=None, help="Remove only this deployment")
def platform_remove(issuer: str, client_id: str | None, deployment_id: str | None) -> None:
    """Remove a registration (with its launches and attempts) or one deployment."""
    from lti_tool.lti.registrations import RegistrationError, remove_platform

    try:
        with _session() as (_, session):
            count = remove_platform(session, issuer, client_id, deployment_id)
    except RegistrationError as exc:
        raise click.ClickException(str(exc)) from exc
    what = "deployment" if deployment_id else "registration"
    click.echo(f"removed {count} {what}{'s' if count > 1 else ''}")


# --- keys ---------------------------------------------------------------------------------
@main.group()
def keys() -> None:
    """The tool's signing keys (published at /lti/jwks)."""


def _key_service(settings: Settings, session: Session) -> Any:
    from lti_tool.lti.keys import KeyService

    return KeyService.from_settings(session, settings)


@keys.command("list")
def keys_list() -> None:
    """Show keys: active (signing), next (published, not yet signing), retired."""
    with _session() as (settings, session):
        service = _key_service(settings, session)
        service.ensure_key()
        for info in service.describe():
            published = "published" if info.published else "withdrawn"
            click.echo(
                f"{info.kid}  {info.status:<7}  signs from {info.not_before:%Y-%m-%d %H:%M:%S}Z"
                f"  {published}"
            )


@keys.command("rotate")
@click.option(
    "--delay",
    type=int,
    default=None,
    help="Seconds the new key is published before it signs (default SOCLE_KEY_PUBLISH_DELAY, 3600)",
)
def keys_rotate(delay: int | None) -> None:
    """Create a new key: published now, signing after the delay."""
    if delay is not None and delay < 0:
        raise click.ClickException("--delay must be zero or more seconds")
    with _session() as (settings, session):
        service = _key_service(settings, session)
        service.ensure_key()
        key = service.rotate(delay)
        click.echo(
            f"new key {key.kid} published; it signs from {key.not_before:%Y-%m-%d %H:%M:%S}Z"
        )


@keys.command("retire")
@click.argument("kid")
def keys_retire(kid: str) -> None:
    """Withdraw a key that no longer signs (superseded, or a next key not wanted)."""
    with _session() as (settings, session):
        service = _key_service(settings, session)
        try:
            info = service.retire(kid)
        except (LookupError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"key {info.kid} ({info.status}) withdrawn from the JWKS")


# --- running ------------------------------------------------------------------------------
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True, type=int, help="Port of the tool")
@click.option("--lms-port", default=5000, show_default=True, type=int, help="Port of the demo LMS")
def demo(host: str, port: int, lms_port: int) -> None:
    """Run the tool and an embedded demo LMS; open the printed URL in a browser."""
    from lti_tool.demo import run_demo

    run_demo(host=host, port=port, lms_port=lms_port)


@main.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(bind: str, workers: int) -> None:
    """Run the tool for production with gunicorn (put it behind a TLS proxy)."""
    from lti_tool.migrate import upgrade_database

    settings = _settings()
    upgrade_database(settings.database_url, secret_key=settings.secret_key)
    from lti_tool.observability.serving import prepare_metrics_dir

    prepare_metrics_dir()
    # gunicorn of the interpreter running this command: `.venv/bin/socle serve` works without
    # an activated venv, and never picks another gunicorn from PATH
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--threads",
        "4",
        "--access-logfile",
        "-",
        # gunicorn's default line has the query string, which for /lti/register holds the
        # platform's one-time registration token: log the path only.
        "--access-logformat",
        '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"',
        # Page tokens (``lt``) travel in URLs: this logger class also keeps them out of the
        # log, whatever format an operator sets.
        "--logger-class",
        "lti_tool.web.logs.GunicornLogger",
        # metrics of ended workers, graceful shutdown (see that module)
        "--config",
        "python:lti_tool.gunicorn_conf",
        "lti_tool.wsgi:app",
    ]
    os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn


@main.group()
def grades() -> None:
    """Scores sent to LMS gradebooks (LTI Assignment and Grade Services)."""


@grades.command("sync")
def grades_sync() -> None:
    """Send the pending scores now (the tool also retries them in the background)."""
    from lti_tool.db import Database
    from lti_tool.migrate import upgrade_database
    from lti_tool.player.grades import GradeSync

    settings = _settings()
    upgrade_database(settings.database_url, secret_key=settings.secret_key)
    database = Database(settings.database_url)
    try:
        counts = GradeSync(database, settings).run_once(limit=1000)
    finally:
        database.dispose()
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))


@main.command("worker")
@click.option(
    "--grades-interval",
    default=30.0,
    show_default=True,
    type=float,
    help="Seconds between two passes over the pending scores",
)
@click.pass_context
def background_worker(ctx: click.Context, grades_interval: float) -> None:
    """Everything periodic, in one process: xAPI delivery, grade sync, purges, idle attempts.

    Stops gracefully on SIGTERM or Ctrl-C: the batch in flight is delivered and marked."""
    from lti_tool.background import grade_sync_beside
    from lti_tool.observability.logs import install_json_logging, json_requested

    if json_requested():
        install_json_logging()
    settings = _settings()
    xapi_group = main.commands["xapi"]
    assert isinstance(xapi_group, click.Group)
    with grade_sync_beside(settings, grades_interval):
        ctx.invoke(xapi_group.commands["worker"], once=False)


@main.group()
def maintenance() -> None:
    """Housekeeping of the database."""


@maintenance.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
def maintenance_purge(dry_run: bool) -> None:
    """Delete expired launches (unless a pending score needs them), login states and nonces,
    and what is past the retention (SOCLE_RETENTION_DAYS; see `socle privacy purge`)."""
    from datetime import UTC, datetime

    from lti_tool.maintenance import Retention, purge

    with _session() as (settings, session):
        retention = Retention.from_settings(settings)
        counts = purge(session, datetime.now(UTC), dry_run=dry_run, retention=retention)
        if dry_run:
            session.rollback()
    click.echo(("would delete " if dry_run else "deleted ") + str(counts))


def _engine() -> Any:
    """The database engine of this command: made (after the migrations) on first use, shared by
    every later call of the same invocation, disposed when the command ends, so its pooled
    connections are closed rather than left to the garbage collector."""
    from lti_tool.db import make_engine
    from lti_tool.migrate import upgrade_database

    root = click.get_current_context().find_root()
    engine = root.meta.get("socle.engine")
    if engine is None:
        settings = _settings()
        upgrade_database(settings.database_url, secret_key=settings.secret_key)
        engine = make_engine(settings.database_url)
        root.meta["socle.engine"] = engine
        root.call_on_close(engine.dispose)
    return engine


def _purge_beside_the_worker(xapi_group: click.Group) -> None:
    """``socle xapi worker`` also purges expired rows and reports idle attempts, hourly, from a
    thread of its own (``xapi`` knows nothing of the tool's tables, so the hook lives here)."""
    worker = xapi_group.commands.get("worker")
    if worker is None or worker.callback is None:
        return
    deliver = worker.callback

    def deliver_and_purge(**options: Any) -> Any:
        import threading

        from lti_tool.db import Database
        from lti_tool.maintenance import Retention, idle_attempt_sweep, start_purge_thread

        if options.get("once"):
            return deliver(**options)
        settings = _settings()
        database = Database(settings.database_url)
        stop = threading.Event()
        start_purge_thread(
            database.sessions,
            stop,
            sweep=idle_attempt_sweep(settings),
            retention=Retention.from_settings(settings),
        )
        try:
            return deliver(**options)
        finally:
            stop.set()
            database.dispose()

    worker.callback = deliver_and_purge


@click.command("reports")
@click.option("--since", type=click.DateTime(), help="Only reports made since this date.")
@click.option("--challenge", help="Only the reports on this challenge id.")
@click.option("--format", "fmt", type=click.Choice(["text", "csv"]), default="text")
def content_reports(since: Any, challenge: str | None, fmt: str) -> None:
    """List the problems agents reported on challenges (« Signaler un problème »)."""
    import csv
    from datetime import UTC

    from lti_tool.player.problem_reports import CATEGORY_LABELS, problem_reports
    from lti_tool.reports.exports import csv_cell

    with _session() as (_, session):
        lines = list(
            problem_reports(
                session,
                since=since.replace(tzinfo=UTC) if since else None,
                challenge=challenge,
            )
        )
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(["created_at", "challenge", "parcours", "category", "message"])
        for line in lines:
            # A spreadsheet must not run an agent's words as a formula.
            writer.writerow(
                [
                    line.created_at.isoformat(),
                    line.challenge_id,
                    line.parcours_id,
                    line.category,
                    csv_cell(line.message),
                ]
            )
        return
    if not lines:
        click.echo("no problem reported")
        return
    for line in lines:
        label = CATEGORY_LABELS.get(line.category, line.category)
        click.echo(
            f"{line.created_at:%Y-%m-%d %H:%M}  {line.challenge_id}  ({line.parcours_id})  {label}"
        )
        if line.message:
            click.echo(f"    {line.message}")
    click.echo(f"{len(lines)} report(s)")

def _competences_command() -> click.Command:
    from lti_tool.reports.commands import competences_command

    def content() -> Any:
        from lti_tool.content.loader import load_content

        return load_content(_settings().content_dir)

    return competences_command(
        content,
        _engine,
        get_secret=lambda: _settings().secret_key,
        get_base_url=lambda: _settings().base_url,
    )


def _register_optional_commands() -> None:
    """Commands contributed by other packages of the distribution."""
    from lti_tool.content.commands import content, simulate
    from xapi.commands import create_commands

    content.add_command(content_reports)
    main.add_command(content)
    main.add_command(simulate)
    from lti_tool.calibration_commands import create_calibrate_command

    main.add_command(create_calibrate_command(_session))

    from lti_tool.admin.commands import admin
    from lti_tool.admin.commands import use_sessions as admin_sessions
    from lti_tool.privacy.commands import privacy
    from lti_tool.privacy.commands import use_sessions as privacy_sessions

    admin_sessions(_session)
    privacy_sessions(_session)
    main.add_command(admin)
    main.add_command(privacy)
    xapi_group, report_group = create_commands(
        _engine,
        get_secret=lambda: _settings().secret_key,
        get_base_url=lambda: _settings().base_url,
    )
    _purge_beside_the_worker(xapi_group)
    report_group.add_command(_competences_command())
    main.add_command(xapi_group)
    main.add_command(report_group)


_register_optional_commands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
