"""``socle admin``: the console's commands (a one-time sign-in link when there is no OIDC)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

#: How the commands open a database session: set by ``lti_tool.cli`` when it registers them
#: (the CLI sits above this package and is not imported from here).
_SESSIONS: list[Callable[[], Any]] = []


def use_sessions(factory: Callable[[], Any]) -> None:
    _SESSIONS[:] = [factory]


def _session() -> Any:
    return _SESSIONS[0]()

@click.group()
def admin() -> None:
    """Administration console (/admin)."""


@admin.command("link")
@click.option("--email", required=True, help="Who signs in with the link (kept in the audit log)")
@click.option(
    "--minutes",
    type=int,
    default=None,
    help="Validity of the link (default SOCLE_ADMIN_LINK_MINUTES, 10)",
)
def admin_link(email: str, minutes: int | None) -> None:
    """Print a link that signs in to /admin once, within minutes (deployments without OIDC)."""
    from lti_tool.admin.audit import record
    from lti_tool.admin.auth import create_sign_in_link
    from lti_tool.admin.settings import AdminSettings

    if minutes is not None and minutes < 1:
        raise click.ClickException("--minutes must be at least 1")
    with _session() as (settings, session):
        try:
            admin_settings = AdminSettings.load(settings)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        validity = minutes or admin_settings.link_minutes
        try:
            secret = create_sign_in_link(session, email, minutes=validity)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        record(
            session,
            actor="cli",
            action="sign_in_link.create",
            target=email.strip().lower(),
            after={"minutes": validity},
        )
        base = settings.base_url
    click.echo(f"{base}/admin/link/{secret}")
    click.echo(f"valid {validity} minutes, once; it signs in {email.strip().lower()}", err=True)
