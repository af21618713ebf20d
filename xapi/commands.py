"""Click commands ``xapi worker|status|retry|lrs`` and ``report completions``, built by a factory.

Why a factory: the ``xapi`` package cannot import the web app, yet its commands need the app's
database engine, settings and secret. The app's CLI (``socle``) calls :func:`create_commands`
with callables that produce them lazily (so ``--help`` works without a database) and adds the
returned groups to its own::

    xapi_group, report_group = create_commands(get_engine=lambda: db.engine)
    cli.add_command(xapi_group)
    cli.add_command(report_group)
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from types import FrameType

import click
import requests
from sqlalchemy.engine import Engine

from xapi import reports
from xapi import vocabulary as v
from xapi.delivery import XAPI_VERSION, LrsSettings, Worker
from xapi.outbox import LrsSecretError, LrsTarget, add_lrs, find_lrs_id, list_lrs, load_lrs
from xapi.status import OutboxStatus, outbox_status, retry_dead_letters


def _env_secret() -> str | None:
    return os.environ.get("SOCLE_SECRET_KEY") or None


def _env_base_url() -> str | None:
    return os.environ.get("SOCLE_BASE_URL") or None


def _format_age(age: timedelta | None) -> str:
    if age is None:
        return "-"
    seconds = int(age.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172_800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86_400} d"


def render_status(status: OutboxStatus) -> str:
    """The text of ``socle xapi status``: a line per LRS, hints, then recent dead letters.

    ``pending`` counts rows waiting for a worker; ``in flight`` those a worker holds right now
    (claimed, lease running): a row stuck there while nothing is delivered is a stuck request.
    """
    header = [
        "lrs",
        "endpoint",
        "pending",
        "in-flight",
        "retrying",
        "delivered",
        "dead",
        "oldest pending",
    ]
    rows = [
        [
            line.name + (" (credentials refused)" if line.credentials_rejected else ""),
            line.endpoint or "(not configured)",
            str(line.pending - line.in_flight),
            str(line.in_flight),
            str(line.retrying),
            str(line.delivered),
            str(line.dead),
            _format_age(line.oldest_pending_age),
        ]
        for line in status.lrs
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=False)]
    text = [
        "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
        for cells in [header, *rows]
    ]
    for line in status.lrs:
        if line.last_error and line.pending:
            text.append(f"last error from {line.name}: {line.last_error.splitlines()[0][:300]}")
    text.extend(f"hint: {hint}" for hint in status.hints)
    if status.dead_letters:
        text.append("dead letters (most recent first):")
        for letter in status.dead_letters:
            error = (letter.error or "").replace("\n", " ")[:300]
            text.append(
                f"  #{letter.id} statement {letter.statement_id} → {letter.lrs_name}, "
                f"{letter.attempts} attempt(s): {error}"
            )
    return "\n".join(text) + "\n"


def _run_until_signal(worker: Worker) -> None:
    """Run the worker loop until SIGTERM or SIGINT.

    The signal cuts the request in flight (:meth:`Worker.interrupt`): its rows go back to
    pending, unmarked, and are sent again by the next worker; an LRS that trickles its answer
    cannot keep the process alive.
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("xapi.delivery").info("signal %s: stopping", signum)
        stop.set()
        worker.interrupt()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    worker.run_forever(stop)


def create_commands(
    get_engine: Callable[[], Engine],
    get_settings: Callable[[], LrsSettings] = LrsSettings.from_env,
    *,
    get_secret: Callable[[], str | None] = _env_secret,
    get_base_url: Callable[[], str | None] = _env_base_url,
) -> tuple[click.Group, click.Group]:
    """Build the ``xapi`` and ``report`` command groups around the app's engine and settings.

    ``get_secret`` returns the application secret that encrypts named LRSs' passwords
    (default ``SOCLE_SECRET_KEY``); ``get_base_url`` the tool's public base URL that minted the
    activity IRIs (default ``SOCLE_BASE_URL``).
    """

    def settings() -> LrsSettings:
        try:
            return get_settings()
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc

    @click.group(name="xapi")
    def xapi_group() -> None:
        """Deliver xAPI statements from the outbox to the LRS, and inspect the outbox."""

    @xapi_group.command(name="worker")
    @click.option("--once", is_flag=True, help="Do one delivery pass, print its summary, exit.")
    def worker_command(once: bool) -> None:
        """Send pending statements to their LRS until SIGTERM/SIGINT (or once with --once)."""
        with Worker(get_engine(), settings(), secret=get_secret()) as worker:
            if once:
                click.echo(str(worker.run_once()))
                return
            _run_until_signal(worker)

    @xapi_group.command(name="status")
    @click.option("--dead", "dead_limit", default=20, show_default=True, help="Dead letters shown.")
    def status_command(dead_limit: int) -> None:
        """Pending, delivered and dead statements per LRS, oldest pending age, and hints."""
        with get_engine().connect() as conn:
            status = outbox_status(conn, settings(), dead_letter_limit=dead_limit)
        click.echo(render_status(status), nl=False)

    @xapi_group.command(name="retry")
    @click.option("--id", "ids", multiple=True, type=int, help="Outbox id (repeatable).")
    def retry_command(ids: tuple[int, ...]) -> None:
        """Re-queue dead letters: all of them, or only those given with --id."""
        with get_engine().begin() as conn:
            count = retry_dead_letters(conn, list(ids) if ids else None)
        if ids and count != len(ids):
            raise click.ClickException(
                f"re-queued {count} of {len(ids)}: the others are not dead letters"
            )
        click.echo(f"{count} statement(s) re-queued")

    @xapi_group.group(name="lrs")
    def lrs_group() -> None:
        """Named LRSs that platforms can point to (passwords stored encrypted).

        The xAPI version spoken with each (1.0.3 or 2.0.0) is set by SOCLE_LRS_VERSION
        (default LRS) and SOCLE_LRS_VERSIONS=name=2.0.0,… (named LRSs).
        """

    @lrs_group.command(name="add")
    @click.argument("name")
    @click.option("--endpoint", required=True, help="xAPI base URL, e.g. https://lrs/xAPI/")
    @click.option("--username", required=True)
    @click.password_option("--password", confirmation_prompt=False, help="Prompted when not given.")
    def lrs_add(name: str, endpoint: str, username: str, password: str) -> None:
        """Register a named LRS."""
        secret = get_secret()
        if not secret:
            raise click.ClickException("SOCLE_SECRET_KEY is needed to store an LRS password")
        try:
            with get_engine().begin() as conn:
                if find_lrs_id(conn, name) is not None:
                    raise click.ClickException(f"an LRS named {name!r} already exists")
                lrs_id = add_lrs(
                    conn,
                    name=name,
                    endpoint=endpoint,
                    username=username,
                    password=password,
                    secret=secret,
                )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"LRS {name!r} registered with id {lrs_id}")

    @lrs_group.command(name="list")
    def lrs_list() -> None:
        """List named LRSs (never their passwords)."""
        with get_engine().connect() as conn:
            records = list_lrs(conn)
        lrs_settings = settings()
        default = lrs_settings.endpoint
        versions = lrs_settings.named_versions()
        click.echo(
            f"default  {default or '(not configured: SOCLE_LRS_ENDPOINT)'}  "
            f"xAPI {lrs_settings.version}"
        )
        for record in records:
            click.echo(
                f"#{record.id} {record.name}  {record.endpoint}  user {record.username}  "
                f"xAPI {versions.get(record.name, XAPI_VERSION)}"
            )

    @click.group(name="report")
    def report_group() -> None:
        """Reports computed from the LRS."""

    @report_group.command(name="completions")
    @click.option("--parcours", "parcours_id", required=True, help="Parcours id.")
    @click.option(
        "--csv", "csv_path", type=click.Path(dir_okay=False), help="Write CSV ('-': stdout)."
    )
    @click.option("--lrs", "lrs_name", help="Named LRS to query (default: SOCLE_LRS_ENDPOINT).")
    @click.option("--base-url", help="Tool base URL of the IRIs (default: SOCLE_BASE_URL).")
    @click.option(
        "--iri-base",
        envvar="SOCLE_XAPI_IRI_BASE",
        help="Base of content activity IRIs (default: SOCLE_XAPI_IRI_BASE, else the base URL).",
    )
    def completions_command(
        parcours_id: str,
        csv_path: str | None,
        lrs_name: str | None,
        base_url: str | None,
        iri_base: str | None,
    ) -> None:
        """Who completed a parcours, when, with which score and levels — read from the LRS."""
        lrs_settings = settings()
        base = base_url or get_base_url()
        if not base:
            raise click.ClickException("give --base-url or set SOCLE_BASE_URL")
        target = _report_target(lrs_name, lrs_settings)
        try:
            rows = reports.completions(
                target, base, parcours_id, settings=lrs_settings, iri_base=iri_base or None
            )
        except (reports.LrsQueryError, requests.RequestException, ValueError) as exc:
            raise click.ClickException(f"querying LRS {target.name}: {exc}") from exc
        if not rows:
            activity = v.parcours_iri(v.normalize_base_url(iri_base or base), parcours_id)
            click.echo(
                f"warning: LRS {target.name} holds no completion of {activity}; if statements "
                "were sent, check --iri-base / SOCLE_XAPI_IRI_BASE and --base-url",
                err=True,
            )
        if csv_path == "-":
            reports.write_csv(rows, sys.stdout)
        elif csv_path:
            with open(csv_path, "w", encoding="utf-8", newline="") as out:
                reports.write_csv(rows, out)
            click.echo(f"{len(rows)} completion(s) written to {csv_path}")
        else:
            click.echo(reports.render_table(rows), nl=False)

    def _report_target(lrs_name: str | None, lrs_settings: LrsSettings) -> LrsTarget:
        return report_target(lrs_name, lrs_settings, get_engine=get_engine, get_secret=get_secret)

    return xapi_group, report_group


def report_target(
    lrs_name: str | None,
    lrs_settings: LrsSettings,
    *,
    get_engine: Callable[[], Engine],
    get_secret: Callable[[], str | None] = _env_secret,
) -> LrsTarget:
    """The LRS a report reads: the named one (``--lrs``), else the default of the settings.

    Public for the reports other packages add to the ``report`` group (``socle report
    competences``); errors are :class:`click.ClickException` with one clear line."""
    if lrs_name is None:
        target = lrs_settings.default_target()
        if target is None:
            raise click.ClickException("no LRS: set SOCLE_LRS_ENDPOINT or give --lrs NAME")
        return target
    with get_engine().connect() as conn:
        lrs_id = find_lrs_id(conn, lrs_name)
        if lrs_id is None:
            raise click.ClickException(f"no LRS named {lrs_name!r} (see `xapi lrs list`)")
        try:
            named = load_lrs(conn, lrs_id, get_secret())
        except LrsSecretError as exc:
            raise click.ClickException(str(exc)) from exc
    if named is None:
        raise click.ClickException(f"no LRS named {lrs_name!r}")
    return named
