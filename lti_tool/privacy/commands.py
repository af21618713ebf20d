"""``socle privacy``: an agent's export and erasure, and the retention purge."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lti_tool.models import LtiUser



#: How the commands open a database session: set by ``lti_tool.cli`` when it registers them
#: (the CLI sits above this package and is not imported from here).
_SESSIONS: list[Callable[[], Any]] = []


def use_sessions(factory: Callable[[], Any]) -> None:
    _SESSIONS[:] = [factory]


def _session() -> Any:
    return _SESSIONS[0]()

@click.group()
def privacy() -> None:
    """Agents' data rights: export, erase, retention."""


def _agent(session: Session, issuer: str, sub: str, client_id: str) -> LtiUser:
    from lti_tool.privacy.agents import AgentNotFound, find_agent_by_issuer

    try:
        return find_agent_by_issuer(session, issuer, sub, client_id)
    except AgentNotFound as exc:
        raise click.ClickException(str(exc)) from exc


_issuer = click.option("--issuer", required=True, help="The platform's issuer (iss)")
_sub = click.option("--sub", required=True, help="The agent's LTI sub on that platform")
_client = click.option("--client-id", default="", help="When the issuer has several client ids")


@privacy.command("export")
@_issuer
@_sub
@_client
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json")
def privacy_export(issuer: str, sub: str, client_id: str, fmt: str) -> None:
    """Print everything held about an agent (JSON or CSV)."""
    from lti_tool.admin.audit import record
    from lti_tool.privacy.agents import agent_digest, export_agent, export_csv

    with _session() as (_, session):
        user = _agent(session, issuer, sub, client_id)
        document = export_agent(session, user)
        record(
            session,
            actor="cli",
            action="agent.export",
            target=f"{issuer} agent {agent_digest(issuer, sub)}",
            after={"format": fmt},
        )
    if fmt == "csv":
        click.echo(export_csv(document), nl=False)
    else:
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))


@privacy.command("erase")
@_issuer
@_sub
@_client
@click.option("--yes", is_flag=True, help="Do not ask for confirmation")
def privacy_erase(issuer: str, sub: str, client_id: str, yes: bool) -> None:
    """Erase an agent: attempts, answers, launches, queued statements; void sent ones."""
    from lti_tool.admin.audit import record
    from lti_tool.privacy.agents import AGS_NOTE, agent_digest, erase_agent

    if not yes:
        click.confirm(f"Erase everything about {sub} on {issuer}?", abort=True)
    with _session() as (settings, session):
        user = _agent(session, issuer, sub, client_id)
        report = erase_agent(
            session,
            user,
            tool_base_url=settings.base_url,
            now=datetime.now(UTC),
        )
        record(
            session,
            actor="cli",
            action="agent.erase",
            target=f"{issuer} agent {agent_digest(issuer, sub)}",
            after=report.as_dict(),
        )
    click.echo(
        f"erased: {report.attempts} attempts, {report.answers} answers, {report.launches} "
        f"launches, {report.statements_deleted} statements; {report.voids_queued} voiding "
        "statements queued for the LRS"
    )
    click.echo(AGS_NOTE)


@privacy.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
def privacy_purge(dry_run: bool) -> None:
    """Delete what is past the retention (the background worker does it too, hourly)."""
    from lti_tool.maintenance import Retention, purge

    with _session() as (settings, session):
        try:
            retention = Retention.from_settings(settings)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        counts = purge(session, datetime.now(UTC), dry_run=dry_run, retention=retention)
        if dry_run:
            session.rollback()
    days = retention.attempts.days
    click.echo(
        f"retention: {days} days for attempts, {retention.dead_letters.days} for dead letters"
    )
    click.echo(("would delete " if dry_run else "deleted ") + str(counts))
