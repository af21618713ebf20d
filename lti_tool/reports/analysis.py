"""The training reports' analysis: aggregates computed from plain rows, nothing else.

What may arrive: one :class:`AgentRow` per agent and activity (the query layer builds them
from the database, the LRS path from statements), the content (:class:`Content`) and the
training themes. What must never happen: a figure that depends on the order of the rows, a
division by zero on an empty course, or — outside the teacher's own course — a group of fewer
than :data:`MIN_GROUP` agents shown on its own (:func:`breakdown` merges or hides them).

Pure like ``lti_tool.domain`` (the model is Flask's ``sansio``): no Flask, no SQLAlchemy, no
I/O, so each figure of the pages, the exports and ``socle report`` is tested without an app.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from lti_tool.domain.categories import AGENT_CATEGORIES
from lti_tool.domain.framework import Content
from lti_tool.domain.scoring import FEELING_BANDS

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
FINISHED = "finished"
STATUSES = (NOT_STARTED, IN_PROGRESS, FINISHED)

CATEGORIES = AGENT_CATEGORIES
"""What an agent may declare (``lti_tool.domain.categories``)."""

MIN_GROUP = 5
"""Outside the teacher's own course, no figure describes fewer agents than this: with a job
family and a category, a group of two or three agents names them (the usual small-cell rule of
public statistics, which uses 5 for personnel data)."""

MAX_LEVEL = 8



def competence_key(code: str) -> tuple[int, ...]:
    """``"4.10"`` after ``"4.2"``: codes sort as numbers."""
    return tuple(int(part) for part in code.split(".") if part.isdigit())


@dataclass(frozen=True, slots=True)
class AgentRow:
    """One agent in one activity: where they are and what their latest finished attempt
    measured. ``key`` is unique in a report (the platform's ``sub``, with the activity when a
    report spans several)."""

    key: str
    sub: str
    status: str
    name: str | None = None
    course: str | None = None
    activity: str | None = None
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    last_activity: datetime | None = None
    duration_seconds: float | None = None
    mastery: float | None = None
    stage: int | None = None
    job_family: str | None = None
    category: str | None = None
    levels: Mapping[str, int] = field(default_factory=dict)
    expected: Mapping[str, int] = field(default_factory=dict)
    feelings: Mapping[str, int] = field(default_factory=dict)
    failed_skills: frozenset[str] = frozenset()
    attempt_id: str | None = None

    def gap(self, code: str) -> int | None:
        """Measured level minus the job profile's expectation; None without either."""
        level, expected = self.levels.get(code), self.expected.get(code)
        if level is None or expected is None:
            return None
        return level - expected


def stage_index(thresholds: Sequence[int], mastery: float | None) -> int | None:
    """The index of the highest stage reached (thresholds in % of mastery), as on the agent's
    results page; None when no stage is reached or there is no mastery yet."""
    if mastery is None:
        return None
    reached = None
    for index, threshold in enumerate(sorted(thresholds)):
        if threshold <= mastery * 100 + 1e-9:
            reached = index
    return reached


def median(values: Iterable[float]) -> float | None:
    data = list(values)
    return statistics.median(data) if data else None


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- overview --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Overview:
    agents: int
    statuses: Mapping[str, int]
    completion_rate: float | None
    median_duration_seconds: float | None
    median_mastery: float | None
    mean_mastery: float | None
    levels: Mapping[str, tuple[int, ...]]
    """Per competence, how many finished agents reached each level 0..8."""
    median_levels: Mapping[str, float | None]
    stages: tuple[int, ...]
    """How many finished agents reached each stage (index 0 first)."""
    no_stage: int


def overview(rows: Sequence[AgentRow], codes: Sequence[str], stage_count: int) -> Overview:
    """One pass over the rows (the organisation view gives it every agent of a platform)."""
    statuses = dict.fromkeys(STATUSES, 0)
    measured: dict[str, list[int]] = {code: [] for code in codes}
    stages = [0] * stage_count
    no_stage = finished = 0
    masteries: list[float] = []
    durations: list[float] = []
    for row in rows:
        statuses[row.status] = statuses.get(row.status, 0) + 1
        if row.status != FINISHED:
            continue
        finished += 1
        for code, level in row.levels.items():
            bucket = measured.get(code)
            if bucket is not None:
                bucket.append(level)
        if row.stage is None or not 0 <= row.stage < stage_count:
            no_stage += 1
        else:
            stages[row.stage] += 1
        if row.mastery is not None:
            masteries.append(row.mastery)
        if row.duration_seconds is not None:
            durations.append(row.duration_seconds)
    levels: dict[str, tuple[int, ...]] = {}
    for code, values in measured.items():
        counts = [0] * (MAX_LEVEL + 1)
        for level in values:
            counts[max(0, min(MAX_LEVEL, level))] += 1
        levels[code] = tuple(counts)
    return Overview(
        agents=len(rows),
        statuses={status: statuses.get(status, 0) for status in STATUSES},
        completion_rate=rate(finished, len(rows)),
        median_duration_seconds=median(durations),
        median_mastery=median(masteries),
        mean_mastery=statistics.fmean(masteries) if masteries else None,
        levels=levels,
        median_levels={code: median(values) for code, values in measured.items()},
        stages=tuple(stages),
        no_stage=no_stage,
    )


# --- heatmap ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    code: str
    level: int | None
    expected: int | None
    gap: int | None
    tone: str
    """``gap-2`` (2 or more below), ``gap-1``, ``gap0`` (met), ``gap+`` (above), ``level-N``
    (no expectation: coloured by level), ``none`` (not measured)."""


def cell(row: AgentRow, code: str) -> Cell:
    level = row.levels.get(code)
    expected = row.expected.get(code)
    gap = row.gap(code)
    if level is None:
        tone = "none"
    elif gap is None:
        tone = f"level-{min(level, MAX_LEVEL)}"
    elif gap <= -2:
        tone = "gap-2"
    elif gap == -1:
        tone = "gap-1"
    elif gap == 0:
        tone = "gap0"
    else:
        tone = "gap+"
    return Cell(code, level, expected, gap, tone)


def heatmap(rows: Sequence[AgentRow], codes: Sequence[str]) -> list[tuple[AgentRow, list[Cell]]]:
    return [(row, [cell(row, code) for code in codes]) for row in rows]


# --- filters and sorting ---------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    job_family: str | None = None
    category: str | None = None
    status: str | None = None
    stage: int | None = None

    def keep(self, row: AgentRow) -> bool:
        return (
            (self.job_family is None or (row.job_family or "") == self.job_family)
            and (self.category is None or (row.category or "") == self.category)
            and (self.status is None or row.status == self.status)
            and (self.stage is None or row.stage == self.stage)
        )


def filter_rows(rows: Iterable[AgentRow], filters: Filters) -> list[AgentRow]:
    return [row for row in rows if filters.keep(row)]


SORTS = ("agent", "status", "mastery", "last_activity", "gap")


def sort_rows(
    rows: Iterable[AgentRow], by: str, *, code: str | None = None, descending: bool = False
) -> list[AgentRow]:
    """Sorted by ``by`` (one of :data:`SORTS`; ``gap``: the gap in ``code``, or the sum of the
    negative gaps without a code); rows without the value last, ties by agent."""

    def value(row: AgentRow) -> float | str | None:
        if by == "status":
            return STATUSES.index(row.status)
        if by == "mastery":
            return row.mastery
        if by == "last_activity":
            return row.last_activity.timestamp() if row.last_activity else None
        if by == "gap":
            if code:
                return row.gap(code)
            gaps = [g for c in row.levels if (g := row.gap(c)) is not None]
            return sum(min(0, g) for g in gaps) if gaps else None
        return (row.name or row.sub).casefold()

    present = [row for row in rows if value(row) is not None]
    missing = [row for row in rows if value(row) is None]
    present.sort(key=lambda row: (row.name or row.sub).casefold())
    present.sort(key=value, reverse=descending)  # type: ignore[arg-type]
    missing.sort(key=lambda row: (row.name or row.sub).casefold())
    return present + missing


# --- training needs --------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingTheme:
    """A training offer defined in the content (``training-themes.yaml``): the competences
    and tubes it covers."""

    id: str
    title: str
    competence_codes: tuple[str, ...] = ()
    tube_ids: tuple[str, ...] = ()
    description: str = ""
    url: str | None = None


@dataclass(frozen=True)
class SkillFailure:
    skill_id: str
    tube_id: str
    level: int
    agents: int


@dataclass(frozen=True)
class Need:
    code: str
    below: tuple[str, ...]
    """Keys of the agents below their profile's expectation, largest gap first (empty where
    agents are only counted: the organisation report, which never names anyone, and keeps
    no pseudonymous id in its stored figures)."""
    below_count: int
    """How many agents are below their profile's expectation."""
    assessed: int
    """Finished agents with a level in this competence."""
    expected_known: int
    """Of those, how many declared a job family that expects a level here."""
    skills: tuple[SkillFailure, ...]
    tutorials: tuple[str, ...]
    themes: tuple[str, ...]


def failed_skill_counts(rows: Iterable[AgentRow]) -> Counter[str]:
    """How many agents (finished or not) failed each skill at least once."""
    counts: Counter[str] = Counter()
    for row in rows:
        counts.update(row.failed_skills)
    return counts


def training_needs(
    rows: Sequence[AgentRow],
    codes: Sequence[str],
    content: Content,
    themes: Sequence[TrainingTheme] = (),
    *,
    failures: Mapping[str, int] | None = None,
    top_skills: int = 3,
    top_tutorials: int = 3,
) -> list[Need]:
    """Per competence: who is below the expected level, the skills most often failed, and
    what addresses them; ranked by agents below, then by failures.

    ``failures`` (skill id -> agents who failed it) is computed from the rows unless given
    (the organisation view counts them in the database).
    """
    counts = failures if failures is not None else failed_skill_counts(rows)
    assessed_by: dict[str, int] = dict.fromkeys(codes, 0)
    known_by: dict[str, int] = dict.fromkeys(codes, 0)
    below_by: dict[str, list[tuple[int, str]]] = {code: [] for code in codes}
    for row in rows:  # one pass: the organisation view gives every agent of a platform
        if row.status != FINISHED:
            continue
        expected_of = row.expected
        for code, level in row.levels.items():
            if code not in assessed_by:
                continue
            assessed_by[code] += 1
            expected = expected_of.get(code)
            if expected is not None:
                known_by[code] += 1
                if level < expected:
                    below_by[code].append((level - expected, row.key))
    skills_by_code: dict[str, list[Any]] = defaultdict(list)
    for skill in content.skills.values():
        if counts.get(skill.id, 0) > 0:
            skills_by_code[skill.competence_code].append(skill)
    needs: list[Need] = []
    for code in codes:
        below = [key for _gap, key in sorted(below_by[code])]
        skills = sorted(
            (
                SkillFailure(skill.id, skill.tube_id, skill.level, counts[skill.id])
                for skill in skills_by_code.get(code, ())
            ),
            key=lambda failure: (-failure.agents, failure.level, failure.skill_id),
        )[:top_skills]
        tutorials: list[str] = []
        for failure in skills:
            for tutorial in content.skills[failure.skill_id].tutorials:
                if tutorial not in tutorials and tutorial in content.tutorials:
                    tutorials.append(tutorial)
        tubes = {failure.tube_id for failure in skills}
        matching = [
            theme.id
            for theme in themes
            if code in theme.competence_codes or tubes & set(theme.tube_ids)
        ]
        needs.append(
            Need(
                code=code,
                below=tuple(below),
                below_count=len(below),
                assessed=assessed_by[code],
                expected_known=known_by[code],
                skills=tuple(skills),
                tutorials=tuple(tutorials[:top_tutorials]),
                themes=tuple(matching),
            )
        )
    needs.sort(
        key=lambda need: (
            -need.below_count,
            -sum(s.agents for s in need.skills),
            competence_key(need.code),
        )
    )
    return needs


# --- feeling vs measure ----------------------------------------------------------------------
@dataclass(frozen=True)
class FeelingComparison:
    area: str
    agents: int
    over: int
    """Felt more at ease than measured (over-estimation)."""
    under: int
    matched: int

    @property
    def over_rate(self) -> float | None:
        return rate(self.over, self.agents)

    @property
    def under_rate(self) -> float | None:
        return rate(self.under, self.agents)

    @property
    def matched_rate(self) -> float | None:
        return rate(self.matched, self.agents)


def compare_feeling(feeling: int, measured: Sequence[int]) -> str | None:
    """``over``, ``under`` or ``matched`` for a 1–4 feeling and the area's measured levels."""
    if feeling not in FEELING_BANDS or not measured:
        return None
    average = sum(measured) / len(measured)
    low, high = FEELING_BANDS[feeling]
    if average < low:
        return "over"
    if average > high:
        return "under"
    return "matched"


def feeling_vs_measure(rows: Iterable[AgentRow], content: Content) -> list[FeelingComparison]:
    tallies: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        if row.status != FINISHED:
            continue
        for area in content.areas:
            feeling = row.feelings.get(area.code)
            if feeling is None:
                continue
            measured = [row.levels[c] for c in area.competence_codes if c in row.levels]
            verdict = compare_feeling(feeling, measured)
            if verdict:
                tallies[area.code][verdict] += 1
    return [
        FeelingComparison(
            area=area.code,
            agents=sum(tallies[area.code].values()),
            over=tallies[area.code]["over"],
            under=tallies[area.code]["under"],
            matched=tallies[area.code]["matched"],
        )
        for area in content.areas
        if tallies[area.code]
    ]


# --- groups (organisation view) --------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    label: str
    agents: int
    finished: int
    median_mastery: float | None
    mean_levels: Mapping[str, float]
    below: int
    """Finished agents below their expectation in at least one competence."""
    merged: tuple[str, ...] = ()
    """For the group of small groups: the labels it merges."""


@dataclass(frozen=True)
class Breakdown:
    groups: tuple[Group, ...]
    hidden_agents: int
    """Agents of small groups that could not be shown even merged (fewer than the minimum)."""
    merged_groups: int
    min_group: int


def _group(label: str, rows: Sequence[AgentRow], codes: Sequence[str]) -> Group:
    """One pass over the group's rows."""
    wanted = set(codes)
    sums: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    subs: set[str] = set()
    masteries: list[float] = []
    finished = below = 0
    for row in rows:
        subs.add(row.sub)
        if row.status != FINISHED:
            continue
        finished += 1
        if row.mastery is not None:
            masteries.append(row.mastery)
        expected_of = row.expected
        is_below = False
        for code, level in row.levels.items():
            if code in wanted:
                sums[code] += level
                counts[code] += 1
            expected = expected_of.get(code)
            if expected is not None and level < expected:
                is_below = True
        below += is_below
    return Group(
        label=label,
        agents=len(subs),
        finished=finished,
        median_mastery=median(masteries),
        mean_levels={code: sums[code] / counts[code] for code in codes if counts.get(code)},
        below=below,
    )


def breakdown(
    rows: Sequence[AgentRow],
    key: Callable[[AgentRow], str],
    codes: Sequence[str],
    *,
    min_group: int = MIN_GROUP,
    other_label: str = "other",
    exempt: Callable[[str], bool] = lambda _label: False,
) -> Breakdown:
    """Aggregates per value of ``key``; groups of fewer than ``min_group`` agents are merged
    into one ``other_label`` group, which is hidden in turn if it is still too small.

    ``exempt(label)`` keeps a small group as it is: the teacher's own course, whose agents
    the teacher sees one by one anyway.
    """
    by_label: dict[str, list[AgentRow]] = defaultdict(list)
    for row in rows:
        by_label[key(row)].append(row)
    shown: list[Group] = []
    small: list[tuple[str, list[AgentRow]]] = []
    for label in sorted(by_label, key=str.casefold):
        members = by_label[label]
        agents = len({row.sub for row in members})
        if agents >= min_group or exempt(label):
            shown.append(_group(label, members, codes))
        else:
            small.append((label, members))
    hidden = 0
    if small:
        merged_rows = [row for _label, members in small for row in members]
        if len({row.sub for row in merged_rows}) >= min_group:
            merged = _group(other_label, merged_rows, codes)
            shown.append(replace(merged, merged=tuple(label for label, _m in small)))
        else:
            hidden = len({row.sub for row in merged_rows})
    return Breakdown(tuple(shown), hidden, len(small), min_group)


# --- trends ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trends:
    attempts_per_month: tuple[tuple[str, int], ...]
    """``("2026-11", 42)``, oldest first, months without attempts included."""
    levels_per_quarter: tuple[tuple[str, Mapping[str, float | None]], ...]
    """``("2026-T4", {"1.1": 2.4, ...})``: mean level of the attempts finished in the quarter;
    None where fewer than the minimum group finished."""


def _months(first: datetime, last: datetime) -> list[str]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def quarter_of(moment: datetime) -> str:
    return f"{moment.year:04d}-T{(moment.month - 1) // 3 + 1}"


def trends(
    started: Iterable[datetime],
    finished: Iterable[tuple[datetime, Mapping[str, int]]],
    codes: Sequence[str],
    *,
    min_group: int = MIN_GROUP,
) -> Trends:
    """Attempts started per month; mean level per competence per quarter of finishing."""
    starts = sorted(started)
    per_month = Counter(f"{s.year:04d}-{s.month:02d}" for s in starts)
    months = _months(starts[0], starts[-1]) if starts else []
    by_quarter: dict[str, list[Mapping[str, int]]] = defaultdict(list)
    for moment, levels in finished:
        by_quarter[quarter_of(moment)].append(levels)
    quarters = []
    for quarter in sorted(by_quarter):
        levels_list = by_quarter[quarter]
        means: dict[str, float | None] = {}
        for code in codes:
            measured = [levels[code] for levels in levels_list if code in levels]
            means[code] = statistics.fmean(measured) if len(measured) >= min_group else None
        quarters.append((quarter, means))
    return Trends(tuple((m, per_month.get(m, 0)) for m in months), tuple(quarters))


# --- training plan ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanLine:
    """One agent who needs one competence (or a theme that covers it)."""

    subject: str
    """The competence code, or the theme id."""
    subject_title: str
    row: AgentRow
    code: str
    level: int | None
    expected: int | None
    gap: int | None


def training_plan(
    rows: Sequence[AgentRow],
    needs: Sequence[Need],
    content: Content,
    themes: Sequence[TrainingTheme] = (),
    *,
    by: str = "competence",
    locale: str = "fr",
) -> list[PlanLine]:
    """« Plan de formation »: per competence (``by="competence"``) or per training theme
    (``by="theme"``), the agents below the expected level, in the order of the needs."""
    rows_by_key = {row.key: row for row in rows}
    theme_by_id = {theme.id: theme for theme in themes}
    lines: list[PlanLine] = []
    seen: set[tuple[str, str]] = set()
    for need in needs:
        competence = content.competences.get(need.code)
        subjects: list[tuple[str, str]]
        if by == "theme":
            subjects = [(t, theme_by_id[t].title) for t in need.themes if t in theme_by_id]
        else:
            title = competence.title.get(locale) if competence else need.code
            subjects = [(need.code, title)]
        for subject, subject_title in subjects:
            for key in need.below:
                row = rows_by_key[key]
                if (subject, row.key) in seen:
                    continue
                seen.add((subject, row.key))
                lines.append(
                    PlanLine(
                        subject=subject,
                        subject_title=subject_title,
                        row=row,
                        code=need.code,
                        level=row.levels.get(need.code),
                        expected=row.expected.get(need.code),
                        gap=row.gap(need.code),
                    )
                )
    return lines


# --- the per-competence table (database and LRS alike) ---------------------------------------
@dataclass(frozen=True)
class CompetenceLine:
    """One competence across a population: the table ``socle report competences`` prints
    from the LRS, and the course report computes from the database."""

    code: str
    assessed: int
    levels: tuple[int, ...]
    median: float | None
    below: int
    failed: tuple[tuple[str, int], ...]
    """The most failed skills and how many agents failed each."""


def competence_table(
    rows: Sequence[AgentRow],
    codes: Sequence[str],
    content: Content,
    *,
    expected: Mapping[str, int] | None = None,
    top_skills: int = 3,
) -> list[CompetenceLine]:
    """Per competence, in code order: agents measured, level distribution, median, agents
    below ``expected`` (one job profile for all; each row's own expectation when None) and
    the skills most often failed."""
    if expected is not None:
        rows = [replace(row, expected=dict(expected)) for row in rows]
    summary = overview(rows, codes, 0)
    needs = {
        need.code: need for need in training_needs(rows, codes, content, top_skills=top_skills)
    }
    return [
        CompetenceLine(
            code=code,
            assessed=needs[code].assessed,
            levels=summary.levels[code],
            median=summary.median_levels[code],
            below=needs[code].below_count,
            failed=tuple((s.skill_id, s.agents) for s in needs[code].skills),
        )
        for code in codes
    ]
