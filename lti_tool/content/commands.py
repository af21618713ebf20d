"""``socle content lint|stats`` and ``socle simulate``, as click objects.

The lead's ``lti_tool/cli.py`` registers them (``cli.add_command(content)``,
``cli.add_command(simulate)``). Errors a person can cause end with one clear line and a
non-zero exit status (``click.ClickException``).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import click

from lti_tool.content.audit import audit as run_audit
from lti_tool.content.audit import format_summary
from lti_tool.content.durations import Method, read_measures
from lti_tool.content.durations import write as write_durations
from lti_tool.content.loader import DURATIONS_FILE, lint_content
from lti_tool.content.published import PUBLISHED_FILE, publish
from lti_tool.domain.adaptive import (
    DEFAULT_ALGORITHM,
    BaselineAlgorithm,
    SocleAlgorithm,
    SocleSettings,
    get_algorithm,
)
from lti_tool.domain.adaptive.base import Algorithm
from lti_tool.domain.durations import DEFAULT_LEARNERS, DurationMeasure, measure_parcours
from lti_tool.domain.framework import Content
from lti_tool.domain.simulation import WORLD_PRESETS, format_table
from lti_tool.domain.simulation import simulate as run_simulation
from lti_tool.domain.synthetic import SYNTHETIC_PARCOURS, synthetic_content
from lti_tool.domain.target import parcours_view

DEFAULT_CONTENT_DIR = "content"


def default_content_dir() -> Path:
    """``$SOCLE_CONTENT_DIR`` or ``./content``."""
    return Path(os.environ.get("SOCLE_CONTENT_DIR") or DEFAULT_CONTENT_DIR)


content_dir_option = click.option(
    "--content-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Content directory (default: $SOCLE_CONTENT_DIR, else ./content).",
)


def _load(content_dir: Path | None) -> tuple[Path, Content]:
    directory = content_dir or default_content_dir()
    report = lint_content(directory)
    if report.content is None:
        count = len(report.errors)
        first = report.errors[0] if report.errors else "unknown problem"
        raise click.ClickException(
            f"invalid content in {directory} ({count} error{'s' if count != 1 else ''}; "
            f"first: {first}); run 'socle content lint' for the list"
        )
    return directory, report.content


def _table(rows: Sequence[Sequence[object]]) -> str:
    """Left-align the first column, right-align the others."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


@click.group("content")
def content() -> None:
    """Validate and describe the assessment content (content/)."""


@content.command("lint")
@content_dir_option
def lint(content_dir: Path | None) -> None:
    """Check every file; print problems as path:line: message; exit 1 on any error."""
    directory = content_dir or default_content_dir()
    report = lint_content(directory)
    for problem in [*report.errors, *report.warnings]:
        click.echo(str(problem))
    if report.errors:
        raise click.ClickException(
            f"{directory}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)"
        )
    assert report.content is not None
    loaded = report.content
    click.echo(
        f"OK {directory}: {len(loaded.competences)} competences, {len(loaded.tubes)} tubes, "
        f"{len(loaded.skills)} skills, {len(loaded.challenges)} challenges, "
        f"{len(loaded.tutorials)} tutorials, {len(loaded.parcours)} parcours, "
        f"{len(loaded.job_profiles)} job profiles, {len(report.warnings)} warning(s)"
    )


@content.command("publish")
@content_dir_option
def publish_command(content_dir: Path | None) -> None:
    """Record the challenges not yet in published.yaml (what each id measures, so that
    'socle content lint' refuses an id turned into another question). Run it when content is
    released to agents; recorded entries are never rewritten."""
    directory, loaded = _load(content_dir)
    added = publish(directory, loaded.challenges)
    click.echo(
        f"{directory / PUBLISHED_FILE}: {len(added)} challenge(s) recorded"
        + (f" ({', '.join(added[:10])}{'…' if len(added) > 10 else ''})" if added else "")
    )


@content.command("audit")
@content_dir_option
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: findings as path:line: message, then the summary tables; json: one object.",
)
@click.option(
    "--quiet", is_flag=True, help="Unmet thresholds only: no findings, no summary tables."
)
@click.option("--strict", is_flag=True, help="Exit 1 when a threshold of the audit is not met.")
def audit_command(content_dir: Path | None, output: str, quiet: bool, strict: bool) -> None:
    """Item-writing audit: length cues, k of n, near-duplicates, stale links, depth."""
    directory = content_dir or default_content_dir()
    loaded = lint_content(directory)
    if loaded.content is None:
        _load(directory)  # raises with the first error
    assert loaded.content is not None
    report = run_audit(loaded.content, loaded.places)
    if output == "json":
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        for finding in [] if quiet else report.findings:
            click.echo(str(finding))
        if report.findings and not quiet:
            click.echo("")
        if not quiet:
            click.echo(format_summary(report))
        elif not report.failures:
            click.echo(
                f"OK audit: every threshold met ({len(report.findings)} item-level finding(s); "
                "`socle content audit` lists them)"
            )
    failures = report.failures
    if strict and failures:
        for measure in failures:
            click.echo(
                f"threshold not met: {measure.name} = {measure.value} (want {measure.limit})"
            )
        raise click.ClickException(f"{len(failures)} threshold(s) of the audit not met")


@content.command("stats")
@content_dir_option
def stats(content_dir: Path | None) -> None:
    """Counts per area, competence, level and challenge type, and per parcours."""
    _, loaded = _load(content_dir)
    click.echo(stats_report(loaded))


def stats_report(loaded: Content) -> str:
    """The text printed by ``socle content stats`` (served = status validated)."""
    sections: list[str] = []
    rows: list[list[object]] = [["competence", "tubes", "skills", "challenges", "served"]]
    area_rows: list[list[object]] = [["area", "competences", "tubes", "skills", "challenges"]]
    for area in loaded.areas:
        area_counts = Counter[str]()
        for code in area.competence_codes:
            tubes = loaded.tubes_of_competence(code)
            skills = [skill for tube in tubes for skill in tube.skills]
            challenges = [c for skill in skills for c in skill.challenges]
            served = sum(1 for c in challenges if c.is_served)
            rows.append([code, len(tubes), len(skills), len(challenges), served])
            area_counts.update(tubes=len(tubes), skills=len(skills), challenges=len(challenges))
        area_rows.append(
            [
                f"{area.code} {area.title.fr}",
                len(area.competence_codes),
                area_counts["tubes"],
                area_counts["skills"],
                area_counts["challenges"],
            ]
        )
    sections.extend([_table(area_rows), _table(rows)])
    level_skills = Counter(skill.level for skill in loaded.skills.values())
    level_challenges = Counter(
        loaded.skills[c.skill_id].level for c in loaded.challenges.values() if c.is_served
    )
    sections.append(
        _table(
            [["level", "skills", "served challenges"]]
            + [
                [level, level_skills[level], level_challenges[level]]
                for level in sorted(level_skills)
            ]
        )
    )
    types = Counter(c.type.value for c in loaded.challenges.values())
    served_types = Counter(c.type.value for c in loaded.challenges.values() if c.is_served)
    sections.append(
        _table(
            [["type", "challenges", "served"]]
            + [[kind, types[kind], served_types[kind]] for kind in sorted(types)]
        )
    )
    parcours_rows: list[list[object]] = [
        ["parcours", "competences", "tubes", "target skills", "served challenges"]
    ]
    for parcours_id in sorted(loaded.parcours):
        view = parcours_view(loaded, parcours_id)
        parcours_rows.append(
            [
                parcours_id,
                len(view.competences),
                sum(len(c.tubes) for c in view.competences),
                len(view.skills),
                len(view.challenges),
            ]
        )
    sections.append(_table(parcours_rows))
    return "\n\n".join(sections)


@click.command("simulate")
@content_dir_option
@click.option("--parcours", "parcours_id", default="socle-commun", show_default=True)
@click.option(
    "--learners",
    type=click.IntRange(1, 100_000),
    default=None,
    help=f"Simulated learners (default: 1000; with --durations: {DEFAULT_LEARNERS}).",
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--algorithm",
    type=click.Choice(["baseline", "socle", "both"]),
    default="both",
    show_default=True,
)
@click.option(
    "--synthetic",
    is_flag=True,
    help="Use generated content shaped like socle-commun instead of the content directory.",
)
@click.option(
    "--world",
    "worlds",
    type=click.Choice([*WORLD_PRESETS, "all"]),
    multiple=True,
    help="Simulated world (repeatable; 'all' runs every preset). Default: standard.",
)
@click.option(
    "--tube-abilities/--competence-ability",
    "tube_abilities",
    default=None,
    help="Socle with one ability per tube, or one per competence (default: the engine's).",
)
@click.option(
    "--durations",
    is_flag=True,
    help="Measure the expected duration of every parcours (median simulated attempt).",
)
@click.option(
    "--write",
    is_flag=True,
    help=f"With --durations: store the measures in the content's {DURATIONS_FILE}.",
)
def simulate(
    *,
    content_dir: Path | None,
    parcours_id: str,
    learners: int | None,
    seed: int,
    algorithm: str,
    synthetic: bool,
    worlds: Sequence[str],
    tube_abilities: bool | None,
    durations: bool,
    write: bool,
) -> None:
    """Run simulated learners through the adaptive engine; print accuracy vs. test length.

    With --durations: measure how long each parcours takes (docs/content-format.md).
    """
    if write and not durations:
        raise click.UsageError("--write goes with --durations")
    if durations:
        _durations(content_dir, learners, seed, worlds, write=write)
        return
    learners = learners or 1000
    if synthetic:
        loaded = synthetic_content(random.Random(seed))
        parcours_id = SYNTHETIC_PARCOURS
        source = "synthetic content (generated in memory)"
    else:
        directory, loaded = _load(content_dir)
        source = str(directory)
    if parcours_id not in loaded.parcours:
        known = ", ".join(sorted(loaded.parcours)) or "none"
        raise click.ClickException(f"unknown parcours '{parcours_id}' (known: {known})")
    view = parcours_view(loaded, parcours_id)
    algorithms: list[Algorithm] = []
    if algorithm in ("baseline", "both"):
        algorithms.append(BaselineAlgorithm())
    if algorithm in ("socle", "both"):
        algorithms.append(
            SocleAlgorithm()
            if tube_abilities is None
            else SocleAlgorithm(SocleSettings(tube_abilities=tube_abilities))
        )
    click.echo(
        f"{source}: parcours {parcours_id}, {len(view.competences)} competences, "
        f"{len(view.skills)} target skills, {len(view.challenges)} challenges; "
        f"{learners} learners, seed {seed}"
    )
    step = max(1, learners // 10)

    def report_progress(done: int) -> None:
        if done % step == 0 or done == learners:
            click.echo(f"  {done}/{learners} learners", err=True)

    names = list(WORLD_PRESETS) if "all" in worlds else list(dict.fromkeys(worlds or ["standard"]))
    for name in names:
        started = time.process_time()
        reports = run_simulation(
            view,
            algorithms,
            learners=learners,
            seed=seed,
            config=WORLD_PRESETS[name],
            clock=time.perf_counter,
            progress=report_progress,
        )
        click.echo(f"\nworld {name}")
        click.echo(format_table(reports))
        if len(reports) == 2:
            baseline, socle = reports
            ratio = (
                socle.mean_challenges / baseline.mean_challenges if baseline.mean_challenges else 0
            )
            click.echo(
                f"socle asks {100 * ratio:.0f} % of the baseline's challenges; exact level "
                f"{100 * (socle.exact_accuracy - baseline.exact_accuracy):+.1f} points"
            )
        click.echo(f"CPU time: {time.process_time() - started:.1f} s")


def _durations(
    content_dir: Path | None,
    learners: int | None,
    seed: int,
    worlds: Sequence[str],
    *,
    write: bool,
) -> None:
    """``socle simulate --durations [--write]``."""
    if len(worlds) > 1 or "all" in worlds:
        raise click.UsageError("--durations measures in one world (default: standard)")
    directory, loaded = _load(content_dir)
    method = Method(
        algorithm=DEFAULT_ALGORITHM,
        world=worlds[0] if worlds else "standard",
        learners=learners or DEFAULT_LEARNERS,
        seed=seed,
    )
    measures = measure_durations(loaded, method)
    stored = read_measures(directory)
    rows: list[list[object]] = [
        ["parcours", "group", "challenges", "minutes", "p10-p90 min", "stored"]
    ]
    for measure in measures:
        old = stored.get(measure.parcours_id)
        rows.append(
            [
                measure.parcours_id,
                loaded.parcours[measure.parcours_id].group.value,
                measure.challenges,
                measure.minutes,
                f"{measure.p10_minutes}-{measure.p90_minutes}",
                f"{old[0]} ch., {old[1]} min" if old else "-",
            ]
        )
    click.echo(
        f"{directory}: median of {method.learners} simulated learners (world {method.world}, "
        f"algorithm {method.algorithm}, seed {method.seed})"
    )
    click.echo(_table(rows))
    if write:
        path = write_durations(directory, method, measures)
        click.echo(f"written: {path}")


def measure_durations(loaded: Content, method: Method) -> list[DurationMeasure]:
    """Measure every parcours of ``loaded`` with ``method`` (the command and its test)."""
    return [
        measure_parcours(
            loaded,
            parcours_id,
            get_algorithm(method.algorithm),
            learners=method.learners,
            seed=method.seed,
            config=WORLD_PRESETS[method.world],
        )
        for parcours_id in sorted(loaded.parcours)
    ]


__all__ = ["content", "measure_durations", "simulate", "stats_report"]
