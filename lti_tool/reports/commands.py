"""``socle report competences``: the training-needs table from the LRS alone.

For an LRS consumer without access to Socle's database (an analyst, a BI team): the same
per-competence aggregates as the course report — agents measured, levels 0–8, median, agents
below a job profile's expected level, skills most often failed — computed from ``completed``
and ``answered`` statements (:mod:`lti_tool.reports.lrs`). Added to the ``report`` group that
:mod:`xapi.commands` builds.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import click
import requests

from lti_tool.domain.framework import Content
from lti_tool.reports.analysis import CompetenceLine, competence_key, competence_table
from lti_tool.reports.lrs import rows_from_statements
from xapi import reports
from xapi import vocabulary as v
from xapi.commands import report_target
from xapi.delivery import LrsSettings
from xapi.outbox import LrsTarget


def read_statements(
    target: LrsTarget,
    settings: LrsSettings,
    *,
    base_url: str,
    parcours_id: str,
    iri_base: str | None = None,
    http: requests.Session | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``completed`` statements of the parcours, and the ``answered`` ones under it
    (``related_activities``: the parcours is their parent)."""
    activity = v.parcours_iri(v.normalize_base_url(iri_base or base_url), parcours_id)
    completed = list(
        reports.query_statements(
            target,
            {"verb": v.COMPLETED.iri, "activity": activity, "ascending": "true"},
            settings=settings,
            http=http,
        )
    )
    answered = list(
        reports.query_statements(
            target,
            {
                "verb": v.ANSWERED.iri,
                "activity": activity,
                "related_activities": "true",
                "ascending": "true",
            },
            settings=settings,
            http=http,
        )
    )
    return completed, answered


def write_csv(lines: Sequence[CompetenceLine], out: TextIO) -> None:
    writer = csv.writer(out)
    writer.writerow(
        [
            "competence",
            "agents",
            *(f"level_{level}" for level in range(9)),
            "median",
            "below_expected",
            "most_failed_skills",
        ]
    )
    for line in lines:
        writer.writerow(
            [
                line.code,
                line.assessed,
                *line.levels,
                "" if line.median is None else line.median,
                line.below,
                " ".join(f"{skill}:{count}" for skill, count in line.failed),
            ]
        )


def render_table(lines: Sequence[CompetenceLine], content: Content) -> str:
    header = ["competence", "agents", "median", "below", "levels 0..8", "most failed skills"]
    cells = [
        [
            f"{line.code} {content.competences[line.code].title.get('fr')[:30]}"
            if line.code in content.competences
            else line.code,
            str(line.assessed),
            "-" if line.median is None else f"{line.median:g}",
            str(line.below),
            " ".join(str(count) for count in line.levels),
            ", ".join(f"{skill} ({count})" for skill, count in line.failed),
        ]
        for line in sorted(lines, key=lambda line: (-line.below, competence_key(line.code)))
    ]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    buffer = io.StringIO()
    for row in [header, *cells]:
        buffer.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        buffer.write("\n")
    return buffer.getvalue()


def competences_command(
    get_content: Callable[[], Content],
    get_engine: Callable[[], Any],
    get_secret: Callable[[], str | None],
    get_base_url: Callable[[], str | None],
) -> click.Command:
    @click.command(name="competences")
    @click.option("--parcours", "parcours_id", required=True, help="Parcours id.")
    @click.option(
        "--job-profile",
        help="Job profile whose expected levels every agent is compared with.",
    )
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
    def competences(  # noqa: PLR0917 (one parameter per click option)
        parcours_id: str,
        job_profile: str | None,
        csv_path: str | None,
        lrs_name: str | None,
        base_url: str | None,
        iri_base: str | None,
    ) -> None:
        """Per competence: agents, levels, median, agents below the expected level, skills
        most often failed — read from the LRS."""
        content = get_content()
        if parcours_id not in content.parcours:
            raise click.ClickException(f"no parcours {parcours_id!r} in the content")
        expected = None
        if job_profile is not None:
            profile = content.job_profiles.get(job_profile)
            if profile is None:
                known = ", ".join(sorted(content.job_profiles))
                raise click.ClickException(f"no job profile {job_profile!r} (known: {known})")
            expected = dict(profile.expected)
        base = base_url or get_base_url()
        if not base:
            raise click.ClickException("give --base-url or set SOCLE_BASE_URL")
        try:
            lrs_settings = LrsSettings.from_env()
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        target = report_target(lrs_name, lrs_settings, get_engine=get_engine, get_secret=get_secret)
        try:
            completed, answered = read_statements(
                target, lrs_settings, base_url=base, parcours_id=parcours_id, iri_base=iri_base
            )
        except (reports.LrsQueryError, requests.RequestException, ValueError) as exc:
            raise click.ClickException(f"querying LRS {target.name}: {exc}") from exc
        rows = rows_from_statements(
            completed, answered, base_url=base, iri_base=iri_base, expected=expected
        )
        codes = sorted(
            {content.tubes[t.tube_id].competence_code for t in content.parcours[parcours_id].tubes},
            key=competence_key,
        )
        lines = competence_table(rows, codes, content, expected=expected)
        if csv_path == "-":
            write_csv(lines, sys.stdout)
        elif csv_path:
            with open(csv_path, "w", encoding="utf-8", newline="") as out:
                write_csv(lines, out)
            click.echo(f"{len(lines)} competence(s) written to {csv_path}")
        else:
            click.echo(render_table(lines, content), nl=False)
            click.echo(f"{sum(1 for r in rows if r.status == 'finished')} agent(s) finished")

    return competences
