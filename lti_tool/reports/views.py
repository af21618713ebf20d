"""The training reports' pages: the course report (teacher launches), the agent detail, the
exports and the organisation report (administrator launches).

Views are thin: the launch behind the page token says what may be seen (its activity, or its
platform registration for an administrator), :mod:`lti_tool.reports.queries` reads it once and
:mod:`lti_tool.reports.analysis` computes. Nothing here takes a course, deployment or platform
from the request: another tenant's data cannot be named, only refused (403).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lti_tool.domain.framework import Content
from lti_tool.lti.roles import TEACHER
from lti_tool.models import Attempt, Launch, LtiUser, Platform
from lti_tool.pages import db_session, socle, transaction
from lti_tool.pages.errors import render_error
from lti_tool.pages.launch import PageError, current_launch
from lti_tool.reports import analysis as a
from lti_tool.reports import exports, svg
from lti_tool.reports.queries import (
    Member,
    Scope,
    attempt_answers,
    change_stamp,
    failure_counts,
    iter_rows,
    load_scope,
    scope_codes,
    scope_parcours,
)
from lti_tool.reports.roster import Roster, fetch_roster, store_names
from lti_tool.reports.snapshots import Kept, variant_of
from lti_tool.reports.themes import load_themes

bp = Blueprint("reports", __name__)
log = logging.getLogger(__name__)

PAGE_SIZE = 50
"""Agents per page of the heatmap: 500 agents stay one click away without a page of 8 000
cells (each with its number, twice: drawing and table)."""

ADMIN_ROLES = (
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
    "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
    "http://purl.imsglobal.org/vocab/lis/v2/system/person#SysAdmin",
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator",
)
ROLES_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/roles"
CONTEXT_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/context"


@bp.errorhandler(PageError)
def _page_error(exc: PageError) -> tuple[str, int]:
    return render_error(exc.message, exc.advice, exc.status)


def _forbidden(message: str) -> PageError:
    return PageError(message, _("Revenez à votre cours."), 403)


def _teacher_launch() -> Launch:
    launch = current_launch()
    if launch.role != TEACHER or launch.resource_link is None:
        raise _forbidden(_("Le suivi de l'activité est réservé aux formateurs."))
    return launch


def is_platform_admin(launch: Launch) -> bool:
    roles = launch.claims.get(ROLES_CLAIM)
    return isinstance(roles, list) and any(role in ADMIN_ROLES for role in roles)


@functools.cache
def _themes(content_dir: Path, content_id: int, locale: str) -> tuple[a.TrainingTheme, ...]:
    return tuple(load_themes(content_dir, socle().catalogue.content, locale))


def themes(locale: str) -> tuple[a.TrainingTheme, ...]:
    ext = socle()
    return _themes(ext.settings.content_dir, id(ext.catalogue.content), locale)


def _filters(args: Mapping[str, str]) -> a.Filters:
    stage = args.get("stage", "")
    return a.Filters(
        job_family=args.get("family") or None,
        category=args.get("category") or None,
        status=args.get("status") if args.get("status") in a.STATUSES else None,
        stage=int(stage) - 1 if stage.isdigit() and int(stage) > 0 else None,
    )


def _int(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() else default


def _roster(launch: Launch) -> Roster:
    """The live roster (names as the platform shares them); names stored only when the
    registration allows personal data."""
    session = db_session()
    roster = fetch_roster(session, launch, socle().settings)
    if roster.members and launch.platform.store_personal_data:
        with transaction() as write:
            store_names(write, launch, roster)
    return roster


@dataclass(frozen=True)
class Labels:
    content: Content
    locale: str

    def competence(self, code: str) -> str:
        competence = self.content.competences.get(code)
        return competence.title.get(self.locale) if competence else code

    def area(self, code: str) -> str:
        for area in self.content.areas:
            if area.code == code:
                return area.title.get(self.locale)
        return code

    def course(self, label: str) -> str:
        return label

    def family(self, family_id: str | None) -> str:
        profile = self.content.job_profiles.get(family_id or "")
        return profile.title.get(self.locale) if profile else str(_("Non précisée"))

    def category(self, category: str | None) -> str:
        if category == "contractuel":
            return str(_("Contractuel"))
        if category:
            return str(_("Catégorie %(category)s", category=category))
        return str(_("Non précisée"))

    def status(self, status: str) -> str:
        labels = {
            a.NOT_STARTED: _("non commencé"),
            a.IN_PROGRESS: _("en cours"),
            a.FINISHED: _("terminé"),
        }
        return str(labels[status])

    def skill(self, skill_id: str) -> str:
        skill = self.content.skills.get(skill_id)
        if skill is None:
            return skill_id
        tube = self.content.tubes.get(skill.tube_id)
        title = tube.title.get(self.locale) if tube else skill.tube_id
        return f"{title} — {_('niveau')} {skill.level}"

    def tutorial(self, tutorial_id: str) -> str:
        tutorial = self.content.tutorials.get(tutorial_id)
        return tutorial.title.get(self.locale) if tutorial else tutorial_id


# --- course report -------------------------------------------------------------------------
@bp.get("/activity/report")
def course() -> str | Response:
    """The course report of the launched activity: roster, overview, heatmap, needs.

    ``?format=csv|xlsx`` (the address of the first report) downloads the agents' table."""
    if request.args.get("format") in {"csv", "xlsx"}:
        return course_export()
    launch = _teacher_launch()
    link = launch.resource_link
    assert link is not None
    ext = socle()
    content = ext.catalogue.content
    roster = _roster(launch)
    data = load_scope(
        db_session(),
        content,
        Scope(resource_link_pk=link.id),
        roster=list(roster.members) if roster.offered and not roster.error else None,
    )
    codes = scope_codes(content, [link.parcours_id] if link.parcours_id else []) or data.codes
    parcours = content.parcours.get(link.parcours_id or "")
    stage_titles = (
        [s.title.get(launch.locale) for s in sorted(parcours.stages, key=lambda s: s.threshold)]
        if parcours
        else []
    )
    filters = _filters(request.args)
    shown = a.filter_rows(data.rows, filters)
    sort = request.args.get("sort", "agent")
    sort = sort if sort in a.SORTS else "agent"
    sort_code = request.args.get("code") if request.args.get("code") in codes else None
    shown = a.sort_rows(shown, sort, code=sort_code, descending=request.args.get("desc") == "1")
    pages = max(1, -(-len(shown) // PAGE_SIZE))
    page = min(max(1, _int(request.args.get("page"), 1)), pages)
    visible = shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    overview = a.overview(shown, codes, len(stage_titles))
    the_themes = themes(launch.locale)
    needs = a.training_needs(shown, codes, content, the_themes)
    labels = Labels(content, launch.locale)
    names = {row.key: row.name or row.sub for row in data.rows}
    lines = a.heatmap(visible, codes)
    return render_template(
        "reports/course.html",
        launch=launch,
        link=link,
        parcours=ext.catalogue.summary(link.parcours_id, launch.locale),
        roster=roster,
        rows=data.rows,
        shown=shown,
        lines=lines,
        codes=codes,
        overview=overview,
        stage_titles=stage_titles,
        needs=needs,
        themes={t.id: t for t in the_themes},
        feelings=a.feeling_vs_measure(shown, content),
        labels=labels,
        names=names,
        heatmap=svg.heatmap_svg(lines, codes, names, title=_("Carte des niveaux par agent")),
        distribution=svg.distribution_svg(
            overview.levels, codes, title=_("Répartition des niveaux par compétence")
        ),
        cell_text=svg.cell_text,
        filters=filters,
        families=sorted({r.job_family for r in data.rows if r.job_family}),
        categories=[c for c in a.CATEGORIES if any(r.category == c for r in data.rows)],
        sort=sort,
        sort_code=sort_code,
        page=page,
        pages=pages,
        # Keyed by the stored values; the template names them (labels.family / category).
        by_family=a.breakdown(shown, lambda r: r.job_family or "", codes, exempt=lambda _l: True),
        by_category=a.breakdown(shown, lambda r: r.category or "", codes, exempt=lambda _l: True),
        admin=is_platform_admin(launch),
    )


def _agent_attempt(session: Session, launch: Launch, sub: str) -> Attempt:
    """The attempt shown for one agent of the launched activity; 403 for anyone else."""
    link = launch.resource_link
    assert link is not None
    attempts = list(
        session.scalars(
            select(Attempt)
            .join(LtiUser, LtiUser.id == Attempt.user_pk)
            .where(
                Attempt.resource_link_pk == link.id,
                Attempt.preview.is_(False),
                LtiUser.platform_id == launch.platform_id,
                LtiUser.sub == sub,
            )
            .options(selectinload(Attempt.answers), selectinload(Attempt.user))
            .order_by(Attempt.number)
        )
    )
    if not attempts:
        raise _forbidden(_("Cet agent n'a pas de passage dans cette activité."))
    finished = [attempt for attempt in attempts if attempt.status == "completed"]
    return finished[-1] if finished else attempts[-1]


@bp.get("/activity/report/agent")
def agent() -> str:
    """One agent's results as they saw them, and their answers per competence."""
    from lti_tool.player import presenter

    launch = _teacher_launch()
    session = db_session()
    attempt = _agent_attempt(session, launch, request.args.get("agent", ""))
    content = socle().catalogue.content
    labels = Labels(content, launch.locale)
    page = (
        presenter.results_page(attempt, launch.locale, None)
        if attempt.status == "completed"
        else None
    )
    answers: dict[str, list[dict[str, Any]]] = {}
    for answer in attempt_answers(session, attempt.id):
        skill = content.skills.get(answer.skill_id)
        code = skill.competence_code if skill else "?"
        challenge = content.challenges.get(answer.challenge_id)
        answers.setdefault(code, []).append(
            {
                "seq": answer.seq,
                "skill": labels.skill(answer.skill_id),
                "status": answer.status,
                "instruction": challenge.instruction.get(launch.locale) if challenge else "",
            }
        )
    user = attempt.user
    return render_template(
        "reports/agent.html",
        attempt=attempt,
        page=page,
        answers=sorted(answers.items(), key=lambda item: a.competence_key(item[0])),
        labels=labels,
        agent_label=(user.name or user.sub) if user else "—",
        sub=user.sub if user else "",
    )


# --- exports -------------------------------------------------------------------------------
def _download(
    body: Iterator[Any], *, kind: str, name: str, session: Session | None = None
) -> Response:
    """A streamed download; ``session`` (the one ``body`` reads from) is closed as soon as
    the last chunk is made."""
    mimetype = (
        "text/csv; charset=utf-8"
        if kind == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = Response(stream_with_context(_closing(body, session)), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _closing(body: Iterator[Any], session: Session | None) -> Iterator[Any]:
    """The download's chunks, then the session they were read with closed.

    The body runs after the view has returned: the request's teardown may already have
    closed that session (a read in the body then begins a new transaction on it, with a
    pooled connection of its own), and the ``g`` the body sees need not be the one that
    held it. So the session is closed here, by name; otherwise its connection would stay
    checked out until the garbage collector found the session."""
    try:
        yield from body
    finally:
        if session is not None:
            session.close()


def export_agents(
    session: Session,
    content: Content,
    scope: Scope,
    *,
    kind: str,
    names: bool,
    roster: list[Member] | None = None,
    name: str = "socle-agents",
) -> Response:
    """Every agent of the scope, one line each, streamed (CSV or XLSX)."""
    codes = scope_codes(content, scope_parcours(session, scope))
    header = exports.agent_header(codes, content)

    def lines() -> Iterator[list[object]]:
        seen: set[str] = set()
        for row in iter_rows(session, content, scope):
            seen.add(row.sub)
            yield exports.agent_line(row, codes, content, names=names)
        for member in roster or ():
            if member.learner and member.sub not in seen:
                missing = a.AgentRow(key=member.sub, sub=member.sub, status=a.NOT_STARTED)
                yield exports.agent_line(missing, codes, content, names=False)

    if kind == "xlsx":
        return _download(
            exports.stream_xlsx(header, lines(), title="Agents"),
            kind=kind,
            name=name,
            session=session,
        )
    return _download(exports.stream_csv(header, lines()), kind="csv", name=name, session=session)


@bp.get("/activity/report/export")
def course_export() -> Response:
    """``format=csv|xlsx``; ``content=agents`` (default) or ``plan`` (« plan de formation »,
    ``by=competence|theme``)."""
    launch = _teacher_launch()
    link = launch.resource_link
    assert link is not None
    kind = "xlsx" if request.args.get("format") == "xlsx" else "csv"
    content = socle().catalogue.content
    session = db_session()
    scope = Scope(resource_link_pk=link.id)
    names = launch.platform.store_personal_data
    if request.args.get("content") == "plan":
        by = "theme" if request.args.get("by") == "theme" else "competence"
        data = load_scope(session, content, scope)
        codes = scope_codes(content, [link.parcours_id] if link.parcours_id else []) or data.codes
        the_themes = themes(launch.locale)
        needs = a.training_needs(data.rows, codes, content, the_themes)
        plan = a.training_plan(data.rows, needs, content, the_themes, by=by, locale="fr")
        lines = (exports.plan_line(line, content, names=names) for line in plan)
        body: Iterator[str] | Iterator[bytes] = (
            exports.stream_xlsx(exports.PLAN_HEADER, lines, title="Plan de formation")
            if kind == "xlsx"
            else exports.stream_csv(exports.PLAN_HEADER, lines)
        )
        return _download(body, kind=kind, name=f"plan-de-formation-{by}", session=session)
    roster = fetch_roster(session, launch, socle().settings)
    return export_agents(
        session,
        content,
        scope,
        kind=kind,
        names=names,
        roster=list(roster.members) if not roster.error else None,
        name="suivi-socle",
    )


# --- organisation report -------------------------------------------------------------------
@dataclass(frozen=True)
class OrganisationReport:
    platform_id: int
    agents: int
    codes: list[str]
    overview: a.Overview
    by_course: a.Breakdown
    by_family: a.Breakdown
    by_category: a.Breakdown
    needs: list[a.Need]
    feelings: list[a.FeelingComparison]
    trends: a.Trends


def organisation_report(
    session: Session,
    content: Content,
    platform_id: int,
    *,
    own_course: str | None = None,
    themes: tuple[a.TrainingTheme, ...] = (),
    min_group: int = a.MIN_GROUP,
) -> Kept[OrganisationReport]:
    """The aggregates of every course and deployment of one platform registration.

    For the administrator's launch and the admin console: it takes the registration and
    returns figures only — no agent is named, and no group under ``min_group`` agents is
    shown outside ``own_course`` (merged into « autres », or hidden when still too small).
    Served from the figures kept for every process until the platform's attempts change, and
    for a while after (:mod:`lti_tool.reports.snapshots`).
    """
    other_label = _("Autres (groupes de moins de %(num)s agents)", num=min_group)
    no_course_label = _("Sans cours")
    scope = Scope(platform_id=platform_id)
    variant = variant_of(
        {
            "own_course": own_course,
            "min_group": min_group,
            "themes": [t.id for t in themes],
            "labels": [other_label, no_course_label],
        }
    )

    def compute(reading: Session) -> OrganisationReport:
        return _organisation_report(
            reading,
            content,
            platform_id,
            own_course=own_course,
            themes=themes,
            min_group=min_group,
            other_label=other_label,
            no_course_label=no_course_label,
        )

    def stamp_of(reading: Session) -> str:
        return json.dumps(change_stamp(reading, scope))

    return socle().reports.get(
        session,
        platform_id=platform_id,
        variant=variant,
        stamp=stamp_of(session),
        kind=OrganisationReport,
        compute=compute,
        current_stamp=stamp_of,
    )


def _organisation_report(
    session: Session,
    content: Content,
    platform_id: int,
    *,
    own_course: str | None,
    themes: tuple[a.TrainingTheme, ...],
    min_group: int,
    other_label: str,
    no_course_label: str,
) -> OrganisationReport:
    scope = Scope(platform_id=platform_id)
    data = load_scope(session, content, scope, failures=False)
    codes = scope_codes(content, scope_parcours(session, scope)) or data.codes
    stage_count = max((len(p.stages) for p in content.parcours.values()), default=0)
    needs = a.training_needs(
        data.rows, codes, content, themes, failures=failure_counts(session, scope)
    )
    # The organisation view never lists agents: a need says how many, not who (and the kept
    # figures hold no pseudonymous id).
    needs = [
        replace(need, below=())
        for need in needs
        if need.below_count == 0 or need.below_count >= min_group
    ]
    return OrganisationReport(
        platform_id=platform_id,
        agents=len({row.sub for row in data.rows}),
        codes=codes,
        overview=a.overview(data.rows, codes, stage_count),
        by_course=a.breakdown(
            data.rows,
            lambda r: r.course or no_course_label,
            codes,
            min_group=min_group,
            other_label=other_label,
            exempt=lambda label: own_course is not None and label == own_course,
        ),
        by_family=a.breakdown(
            data.rows,
            lambda r: r.job_family or "",
            codes,
            min_group=min_group,
            other_label=other_label,
        ),
        by_category=a.breakdown(
            data.rows,
            lambda r: r.category or "",
            codes,
            min_group=min_group,
            other_label=other_label,
        ),
        needs=needs,
        feelings=[f for f in a.feeling_vs_measure(data.rows, content) if f.agents >= min_group],
        trends=a.trends(data.started, data.finished, codes, min_group=min_group),
    )


def render_organisation_report(
    platform: Platform, *, locale: str, own_course: str | None = None, export_args: dict[str, str]
) -> str:
    """The organisation report's page body for ``platform``, for any caller that has already
    checked who may see it (an administrator's launch here, the admin console later)."""
    ext = socle()
    content = ext.catalogue.content
    kept = organisation_report(
        db_session(), content, platform.id, own_course=own_course, themes=themes(locale)
    )
    report = kept.report
    return render_template(
        "reports/organisation.html",
        report=report,
        kept=kept,
        platform=platform,
        labels=Labels(content, locale),
        themes={t.id: t for t in themes(locale)},
        own_course=own_course,
        export_args=export_args,
        distribution=svg.distribution_svg(
            report.overview.levels, report.codes, title=_("Répartition des niveaux par compétence")
        ),
    )


def _admin_launch() -> Launch:
    launch = current_launch()
    if not is_platform_admin(launch):
        raise _forbidden(
            _("Le rapport de l'organisation est réservé aux administrateurs de la plateforme.")
        )
    return launch


def _own_course(launch: Launch) -> str | None:
    context = launch.claims.get(CONTEXT_CLAIM)
    if isinstance(context, dict):
        return str(context.get("title") or context.get("label") or "") or None
    return None


@bp.get("/organisation/report")
def organisation() -> str:
    launch = _admin_launch()
    return render_organisation_report(
        launch.platform, locale=launch.locale, own_course=_own_course(launch), export_args={}
    )


@bp.get("/organisation/report/export")
def organisation_export() -> Response:
    """The organisation's aggregates by group (no agent line: groups under the minimum are
    merged or hidden as on the page)."""
    launch = _admin_launch()
    kind = "xlsx" if request.args.get("format") == "xlsx" else "csv"
    content = socle().catalogue.content
    report = organisation_report(
        db_session(),
        content,
        launch.platform_id,
        own_course=_own_course(launch),
        themes=themes(launch.locale),
    ).report
    labels = Labels(content, "fr")
    header = [
        "Regroupement",
        "Groupe",
        "Agents",
        "Terminés",
        "Maîtrise médiane (%)",
        "Agents sous le niveau attendu",
        *(f"Niveau moyen {code}" for code in report.codes),
    ]

    def lines() -> Iterator[list[object]]:
        for dimension, groups in (
            ("Cours", report.by_course),
            ("Famille de métiers", report.by_family),
            ("Catégorie", report.by_category),
        ):
            for group in groups.groups:
                label = group.label
                if dimension == "Famille de métiers" and not group.merged:
                    label = labels.family(label or None)
                elif dimension == "Catégorie" and not group.merged:
                    label = labels.category(label or None)
                yield [
                    dimension,
                    label,
                    group.agents,
                    group.finished,
                    "" if group.median_mastery is None else round(group.median_mastery * 100),
                    group.below,
                    *(
                        "" if code not in group.mean_levels else round(group.mean_levels[code], 2)
                        for code in report.codes
                    ),
                ]

    body: Iterator[str] | Iterator[bytes] = (
        exports.stream_xlsx(header, lines(), title="Organisation")
        if kind == "xlsx"
        else exports.stream_csv(header, lines())
    )
    return _download(body, kind=kind, name="socle-organisation")
