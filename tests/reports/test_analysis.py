"""The reports' figures, from rows made by hand: no app, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lti_tool.content.loader import load_content
from lti_tool.domain.framework import Content
from lti_tool.reports import analysis as a
from lti_tool.reports.themes import ThemesError, load_themes

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(CONTENT_DIR)


def row(key: str, status: str = a.FINISHED, **values: object) -> a.AgentRow:
    return a.AgentRow(key=key, sub=key, status=status, **values)  # type: ignore[arg-type]


def test_overview_counts_levels_stages_and_completion() -> None:
    rows = [
        row("a", levels={"1.1": 2, "4.1": 1}, mastery=0.5, stage=1, duration_seconds=600),
        row("b", levels={"1.1": 4, "4.1": 1}, mastery=0.7, stage=2, duration_seconds=1200),
        row("c", levels={"1.1": 2}, mastery=0.2, stage=None, duration_seconds=300),
        row("d", a.IN_PROGRESS),
        row("e", a.NOT_STARTED),
    ]
    overview = a.overview(rows, ["1.1", "4.1"], stage_count=3)
    assert overview.agents == 5
    assert overview.statuses == {"not_started": 1, "in_progress": 1, "finished": 3}
    assert overview.completion_rate == pytest.approx(3 / 5)
    assert overview.levels["1.1"] == (0, 0, 2, 0, 1, 0, 0, 0, 0)
    assert overview.levels["4.1"] == (0, 2, 0, 0, 0, 0, 0, 0, 0)
    assert overview.median_levels == {"1.1": 2, "4.1": 1}
    assert overview.stages == (0, 1, 1)
    assert overview.no_stage == 1
    assert overview.median_duration_seconds == 600
    assert overview.median_mastery == 0.5


def test_an_empty_course_has_no_rate_and_no_division_by_zero() -> None:
    overview = a.overview([], ["1.1"], stage_count=2)
    assert overview.completion_rate is None
    assert overview.median_mastery is None
    assert overview.levels["1.1"] == (0,) * 9


@pytest.mark.parametrize(
    ("level", "expected", "tone", "gap"),
    [
        (1, 3, "gap-2", -2),
        (2, 3, "gap-1", -1),
        (3, 3, "gap0", 0),
        (5, 3, "gap+", 2),
        (4, None, "level-4", None),
        (None, 3, "none", None),
    ],
)
def test_heatmap_cells_are_toned_by_gap_then_by_level(
    level: int | None, expected: int | None, tone: str, gap: int | None
) -> None:
    agent = row(
        "a",
        levels={} if level is None else {"4.1": level},
        expected={} if expected is None else {"4.1": expected},
    )
    cell = a.cell(agent, "4.1")
    assert (cell.tone, cell.gap) == (tone, gap)


def test_stage_index_follows_thresholds() -> None:
    assert a.stage_index([0, 30, 60], 0.59) == 1
    assert a.stage_index([0, 30, 60], 0.6) == 2
    assert a.stage_index([10, 30], 0.05) is None
    assert a.stage_index([10, 30], None) is None


def test_filters_and_sorts() -> None:
    rows = [
        row("b", mastery=0.2, job_family="accueil-usagers", category="C"),
        row("a", mastery=0.9, job_family="agents-terrain", category="C"),
        row("c", a.NOT_STARTED),
    ]
    kept = a.filter_rows(rows, a.Filters(category="C", job_family="accueil-usagers"))
    assert [r.key for r in kept] == ["b"]
    assert [r.key for r in a.sort_rows(rows, "mastery")] == ["b", "a", "c"]
    assert [r.key for r in a.sort_rows(rows, "mastery", descending=True)] == ["a", "b", "c"]
    assert [r.key for r in a.sort_rows(rows, "agent")] == ["a", "b", "c"]
    assert [r.key for r in a.sort_rows(rows, "status")] == ["c", "a", "b"]  # ties by agent


def test_training_needs_rank_competences_by_agents_below(content: Content) -> None:
    expected = {"4.1": 3, "1.1": 2}
    rows = [
        row("a", levels={"4.1": 1, "1.1": 2}, expected=expected, failed_skills=frozenset()),
        row("b", levels={"4.1": 2, "1.1": 1}, expected=expected),
        row("c", levels={"4.1": 3, "1.1": 2}, expected=expected),
        row("d", levels={"4.1": 0}),  # no job family: no expectation, not counted as below
    ]
    skill = next(s for s in content.skills.values() if s.competence_code == "4.1" and s.tutorials)
    failures = {skill.id: 2}
    themes = load_themes(CONTENT_DIR, content)
    needs = a.training_needs(rows, ["1.1", "4.1"], content, themes, failures=failures)
    assert [n.code for n in needs] == ["4.1", "1.1"]
    first = needs[0]
    assert first.below == ("a", "b")  # largest gap first
    assert (first.assessed, first.expected_known) == (4, 3)
    assert first.skills[0].skill_id == skill.id
    assert first.skills[0].agents == 2
    assert first.tutorials
    assert first.tutorials[0] in skill.tutorials
    assert "cybersecurite" in first.themes
    assert needs[1].below == ("b",)


def test_feeling_vs_measure_counts_over_and_under_estimations(content: Content) -> None:
    area = next(area for area in content.areas if "4.1" in area.competence_codes)
    rows = [
        row("a", levels={"4.1": 0}, feelings={area.code: 4}),  # felt expert, measured 0
        row("b", levels={"4.1": 6}, feelings={area.code: 1}),  # felt beginner, measured 6
        row("c", levels={"4.1": 3}, feelings={area.code: 3}),
        row("d", a.IN_PROGRESS, feelings={area.code: 4}),  # not measured yet: left out
    ]
    (comparison,) = a.feeling_vs_measure(rows, content)
    assert comparison.area == area.code
    assert (comparison.agents, comparison.over, comparison.under, comparison.matched) == (
        3,
        1,
        1,
        1,
    )
    assert comparison.over_rate == pytest.approx(1 / 3)


def test_small_groups_are_merged_then_hidden() -> None:
    rows = [row(f"big-{i}", job_family="big") for i in range(6)]
    rows += [row(f"s1-{i}", job_family="small-1") for i in range(3)]
    rows += [row(f"s2-{i}", job_family="small-2") for i in range(2)]
    result = a.breakdown(rows, lambda r: r.job_family or "", [], other_label="Autres")
    assert [(g.label, g.agents) for g in result.groups] == [("big", 6), ("Autres", 5)]
    assert result.groups[1].merged == ("small-1", "small-2")
    assert result.hidden_agents == 0

    fewer = [r for r in rows if not r.key.startswith("s2-")]
    hidden = a.breakdown(fewer, lambda r: r.job_family or "", [], other_label="Autres")
    assert [g.label for g in hidden.groups] == ["big"]
    assert hidden.hidden_agents == 3
    assert hidden.merged_groups == 1


def test_the_teachers_own_course_is_shown_however_small() -> None:
    rows = [row(f"x-{i}", course="Mon cours") for i in range(2)]
    rows += [row(f"y-{i}", course="Autre cours") for i in range(2)]
    result = a.breakdown(
        rows, lambda r: r.course or "", [], exempt=lambda label: label == "Mon cours"
    )
    assert [g.label for g in result.groups] == ["Mon cours"]
    assert result.hidden_agents == 2


def test_trends_fill_empty_months_and_hide_thin_quarters() -> None:
    started = [T0, T0 + timedelta(days=62)]  # November, then January
    finished = [(T0 + timedelta(days=i), {"1.1": 2 + i % 2}) for i in range(5)]
    finished.append((datetime(2027, 1, 5, tzinfo=UTC), {"1.1": 7}))
    trends = a.trends(started, finished, ["1.1"])
    assert trends.attempts_per_month == (("2026-11", 1), ("2026-12", 0), ("2027-01", 1))
    quarters = dict(trends.levels_per_quarter)
    assert quarters["2026-T4"]["1.1"] == pytest.approx((2 + 3 + 2 + 3 + 2) / 5)
    assert quarters["2027-T1"]["1.1"] is None


def test_training_plan_by_competence_and_by_theme(content: Content) -> None:
    expected = {"4.1": 3}
    rows = [
        row("a", levels={"4.1": 1}, expected=expected),
        row("b", levels={"4.1": 3}, expected=expected),
    ]
    themes = load_themes(CONTENT_DIR, content)
    needs = a.training_needs(rows, ["4.1"], content, themes)
    plan = a.training_plan(rows, needs, content, themes)
    assert [(line.subject, line.row.key, line.gap) for line in plan] == [("4.1", "a", -2)]
    by_theme = a.training_plan(rows, needs, content, themes, by="theme")
    assert [(line.subject, line.row.key) for line in by_theme] == [("cybersecurite", "a")]


def test_themes_file_refuses_unknown_competences(tmp_path: Path, content: Content) -> None:
    (tmp_path / "training-themes.yaml").write_text(
        "- id: x\n  title: X\n  competences: ['9.9']\n", encoding="utf-8"
    )
    with pytest.raises(ThemesError, match=r"9\.9"):
        load_themes(tmp_path, content)
    assert load_themes(tmp_path / "absent", content) == []
