"""``socle calibrate``: fit challenge parameters from recorded answers, review, export.

Registered by ``lti_tool.cli`` with the session factory it uses for every database command.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.calibration_store import (
    ALL_PLATFORMS,
    export_yaml,
    recorded_responses,
    save_fits,
    stored_calibrations,
)
from lti_tool.content.commands import _load, _table, content_dir_option
from lti_tool.domain.calibration import (
    MIN_ANSWERS,
    CalibrationResult,
    CalibrationSettings,
    calibrate,
    current_parameters,
)
from lti_tool.domain.calibration_review import review_list
from lti_tool.domain.framework import Content
from lti_tool.models import Platform

SessionFactory = Callable[[], AbstractContextManager[tuple[Any, Session]]]


def _platform(session: Session, issuer: str, client_id: str | None) -> Platform:
    query = select(Platform).where(Platform.issuer == issuer)
    if client_id is not None:
        query = query.where(Platform.client_id == client_id)
    platforms = list(session.scalars(query))
    if not platforms:
        raise click.ClickException(f"no platform registered with issuer {issuer}")
    if len(platforms) > 1:
        raise click.ClickException(
            f"{len(platforms)} registrations of {issuer}: say which with --client-id"
        )
    return platforms[0]


def _changes(content: Content, result: CalibrationResult, session: Session) -> str:
    stored = stored_calibrations(session)
    rows: list[Sequence[object]] = [
        (
            "challenge",
            "level",
            "answers",
            "right",
            "difficulty before",
            "difficulty after",
            "discrimination before",
            "discrimination after",
        )
    ]
    for challenge_id in sorted(result.fits):
        fit = result.fits[challenge_id]
        row = stored.get(challenge_id)
        if row is not None:
            before_a, before_b = row.discrimination, row.difficulty
        else:
            before_a, before_b = current_parameters(content.challenges[challenge_id], fit.level)
        rows.append(
            (
                challenge_id,
                fit.level,
                fit.answers,
                f"{100 * fit.right / fit.answers:.0f} %",
                f"{before_b:.2f}",
                f"{fit.difficulty:.2f} ± {fit.difficulty_se:.2f}",
                f"{before_a:.2f}",
                f"{fit.discrimination:.2f} ± {fit.discrimination_se:.2f}",
            )
        )
    return _table(rows)


def create_calibrate_command(session_factory: SessionFactory) -> click.Command:
    @click.command("calibrate")
    @content_dir_option
    @click.option("--platform", "issuer", default=None, help="Only the answers of this issuer")
    @click.option("--client-id", default=None, help="With --platform, when it has several")
    @click.option(
        "--min-answers",
        type=click.IntRange(10, None),
        default=MIN_ANSWERS,
        show_default=True,
        help="Fit only challenges with at least this many answers",
    )
    @click.option("--dry-run", is_flag=True, help="Show the changes; store nothing.")
    @click.option(
        "--review",
        is_flag=True,
        help="List the challenges authors should review; store nothing.",
    )
    @click.option(
        "--export",
        "export_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Write the stored calibrations to this YAML file ('-': stdout) and stop.",
    )
    def calibrate_command(
        *,
        content_dir: Path | None,
        issuer: str | None,
        client_id: str | None,
        min_answers: int,
        dry_run: bool,
        review: bool,
        export_path: Path | None,
    ) -> None:
        """Fit each challenge's difficulty and discrimination from the recorded answers.

        The fitted values are stored in the database and override the content's
        ``calibration`` when the tool (re)starts. See docs/adaptive-algorithm.md.
        """
        with session_factory() as (_, session):
            if export_path is not None:
                text = export_yaml(session)
                if str(export_path) == "-":
                    click.echo(text, nl=False)
                else:
                    export_path.write_text(text, encoding="utf-8")
                    click.echo(f"stored calibrations written to {export_path}")
                return
            _, content = _load(content_dir)
            platform = _platform(session, issuer, client_id) if issuer else None
            source = ALL_PLATFORMS if platform is None else f"platform {platform.issuer}"
            started = time.process_time()
            result = calibrate(
                content,
                recorded_responses(session, platform),
                CalibrationSettings(min_answers=min_answers),
            )
            click.echo(
                f"{result.answers} answers of {result.attempts} attempts ({source}); "
                f"{len(result.fits)} challenges fitted, {len(result.too_few)} with fewer than "
                f"{min_answers} answers left as they are; {result.iterations} EM passes"
                f"{'' if result.converged else ' (not converged)'}; "
                f"{time.process_time() - started:.1f} s CPU"
            )
            if result.unknown_answers:
                click.echo(
                    f"{result.unknown_answers} answers to challenges no longer in the content "
                    "were ignored"
                )
            if review:
                from lti_tool.player.problem_reports import report_counts

                # Problems agents reported (« Signaler un problème ») count as evidence too.
                flags = review_list(content, result, reports=report_counts(session))
                if not flags:
                    click.echo("nothing to review")
                    return
                rows: list[Sequence[object]] = [("challenge", "skill", "reason", "detail")]
                rows += [(f.challenge_id, f.skill_id, f.reason, f.detail) for f in flags]
                click.echo(_table(rows))
                return
            if not result.fits:
                click.echo("nothing to store")
                return
            click.echo(_changes(content, result, session))
            if dry_run:
                click.echo("dry run: nothing stored")
                session.rollback()
                return
            count = save_fits(session, result.fits, source)
            click.echo(f"{count} calibrations stored; they apply when the tool restarts")

    return calibrate_command
