"""View models of the player's pages: plain dicts and dataclasses built from the content,
the attempt and the engine, so templates only lay them out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal as babel_format_decimal
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from lti_tool.content_store import ParcoursSummary
from lti_tool.domain.adaptive import get_algorithm
from lti_tool.domain.answers import AnswerStatus
from lti_tool.domain.framework import (
    Challenge,
    ChallengeType,
    Content,
    DependentSolution,
    FieldsSolution,
    MultipleChoiceSolution,
    NumberSolution,
    SingleChoiceSolution,
    Skill,
    TextSolution,
    Tutorial,
)
from lti_tool.domain.outlook import Outlook, outlook
from lti_tool.domain.scoring import FEELING_BANDS, POINTS_PER_LEVEL
from lti_tool.domain.target import parcours_view
from lti_tool.models import AnswerRecord, Attempt, Launch
from lti_tool.pages import socle
from lti_tool.player import service as player_service
from lti_tool.player.markdown import render, render_inline
from lti_tool.player.radar import Axis, radar_svg
from lti_tool.player.service import CHECKPOINT_EVERY, Served

# Lazy: marked here for extraction, translated when a page shows them (the launch's language).
FORMAT_LABELS = {
    ".xlsx": _l("Classeur Excel (XLSX)"),
    ".ods": _l("Classeur LibreOffice (ODS)"),
    ".csv": _l("Tableau texte (CSV)"),
    ".docx": _l("Document Word (DOCX)"),
    ".odt": _l("Document LibreOffice (ODT)"),
    ".pdf": _l("Document PDF"),
    ".png": _l("Image PNG"),
    ".jpg": _l("Image JPEG"),
    ".jpeg": _l("Image JPEG"),
    ".svg": _l("Image SVG"),
    ".txt": _l("Texte brut (TXT)"),
}
FEELINGS = {
    1: _l("Pas du tout à l'aise"),
    2: _l("Peu à l'aise"),
    3: _l("Assez à l'aise"),
    4: _l("Très à l'aise"),
}


def content() -> Content:
    return socle().catalogue.content


def parcours_summary(launch: Launch) -> ParcoursSummary | None:
    link = launch.resource_link
    if link is None or not link.parcours_id:
        return None
    return socle().catalogue.summary(link.parcours_id, launch.locale)


def job_profiles(locale: str) -> list[tuple[str, str]]:
    return sorted(
        ((p.id, p.title.get(locale)) for p in content().job_profiles.values()),
        key=lambda item: item[1],
    )


def areas(locale: str) -> list[tuple[str, str]]:
    return [(area.code, area.title.get(locale)) for area in content().areas]


def human_size(size: int) -> str:
    if size < 1024:
        return str(_("%(n)s octets", n=size))
    if size < 1024 * 1024:
        return str(_("%(n)s Ko", n=round(size / 1024)))
    return str(_("%(n)s Mo", n=format_decimal(size / 1024 / 1024, format="0.0")))


@dataclass(frozen=True)
class FileLink:
    url_name: str
    #: What the link says: the file's name as a phrase (« Inscriptions ateliers mediatheque »).
    title: str
    #: The name the file is saved under.
    name: str
    size: str
    format: str


def file_title(name: str) -> str:
    """A readable title from an attachment's file name: ``a1-export-aides-ccas.csv`` →
    « Export aides ccas » (the authoring prefix ``a1-`` and the extension dropped)."""
    stem = Path(name).stem
    words = [w for w in stem.replace("_", "-").split("-") if w]
    if len(words) > 1 and len(words[0]) <= 3 and any(c.isdigit() for c in words[0]):
        words = words[1:]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else name


def attachment(path: str) -> FileLink:
    name = Path(path).name
    file = socle().settings.content_dir / path
    size = file.stat().st_size if file.exists() else 0
    return FileLink(
        url_name=path.removeprefix("attachments/"),
        title=file_title(name),
        name=name,
        size=human_size(size),
        format=str(FORMAT_LABELS.get(Path(name).suffix.lower(), Path(name).suffix.upper()[1:])),
    )


@dataclass(frozen=True)
class Proposal:
    value: str
    html: Markup


@dataclass(frozen=True)
class InputField:
    key: str
    label: str
    options: tuple[str, ...] | None


@dataclass(frozen=True)
class ChallengePage:
    challenge: Challenge
    type: str
    seq: int
    instruction: Markup
    proposals: tuple[Proposal, ...]
    fields: tuple[InputField, ...]
    number: bool
    placeholder: str
    attachments: tuple[FileLink, ...]
    illustration: tuple[str, str] | None
    timer: int | None
    deadline_ms: int | None
    #: Milliseconds left when the page was made (the countdown runs from the page's load,
    #: so a device whose clock is wrong still counts the right time).
    remaining_ms: int | None
    hint: Markup | None
    #: Position in the current step: « 3 / 5 avant le point d'étape ».
    step_position: int
    step_size: int
    outlook: Outlook | None
    #: Language of the challenge's text (French content in an English page: RGAA 8.7).
    lang: str


def challenge_page(attempt: Attempt, served: Served, locale: str) -> ChallengePage:
    challenge = served.challenge
    proposals = tuple(
        Proposal(str(index), render_inline(challenge.proposals[index - 1].get(locale)))
        for index in served.proposal_order
    )
    deadline = remaining = None
    limit = served.time_limit
    if limit and served.timer_started_at is not None:
        end = served.timer_started_at + timedelta(seconds=limit)
        deadline = int(end.timestamp() * 1000)
        remaining = max(0, int((end - player_service.utcnow()).total_seconds() * 1000))
    illustration = None
    if challenge.illustration is not None:
        illustration = (
            challenge.illustration.file.removeprefix("attachments/"),
            challenge.illustration.alt.get(locale),
        )
    return ChallengePage(
        challenge=challenge,
        type=challenge.type.value,
        seq=served.seq,
        instruction=render(challenge.instruction.get(locale)),
        proposals=proposals,
        fields=tuple(InputField(f.key, f.label.get(locale), f.options) for f in challenge.fields),
        number=challenge.answer_format.value == "number",
        placeholder=challenge.placeholder.get(locale) if challenge.placeholder else "",
        attachments=tuple(attachment(a) for a in challenge.attachments),
        illustration=illustration,
        timer=limit,
        deadline_ms=deadline,
        remaining_ms=remaining,
        hint=render(challenge.hint.get(locale)) if challenge.hint else None,
        step_position=(served.seq - 1) % CHECKPOINT_EVERY + 1,
        step_size=CHECKPOINT_EVERY,
        outlook=attempt_outlook(attempt),
        lang=challenge.instruction.language(locale),
    )


#: Outlook per (attempt, number of answers, algorithm): computed once however often the
#: challenge page is shown again (reloads, resumes).
_OUTLOOKS = player_service.LruCache(20_000)


def attempt_outlook(attempt: Attempt) -> Outlook | None:
    key = (attempt.id, attempt.answer_count, attempt.algorithm)
    cached = _OUTLOOKS.get(key)
    if cached is not None:
        return cached if isinstance(cached, Outlook) else None
    found = outlook(
        get_algorithm(attempt.algorithm),
        parcours_view(content(), attempt.parcours_id),
        player_service.Player.answers(attempt),
    )
    _OUTLOOKS.put(key, found if found is not None else False)
    return found


def number_answer(solution: NumberSolution) -> str:
    """A number answer as the content writes it: French digits and the content's unit
    (« 1 200 Mo »), in an English page too — it is shown as content, marked ``lang``."""
    number = babel_format_decimal(solution.accepted[0], locale="fr_FR")
    unit = solution.unit_symbol
    return f"{number} {unit}" if unit else number


def expected_answer(challenge: Challenge, locale: str) -> list[Markup]:
    """The right answer(s) as the agent would give them, one item per line.

    Text answers show their first accepted spelling (the author's reference form); a number
    shows its unit; a ``qrocm-dep`` says how many of the accepted answers were expected.
    """
    solution = challenge.solution
    if isinstance(solution, SingleChoiceSolution):
        return [render_inline(challenge.proposals[solution.index - 1].get(locale))]
    if isinstance(solution, MultipleChoiceSolution):
        return [
            render_inline(challenge.proposals[i - 1].get(locale)) for i in sorted(solution.indexes)
        ]
    if isinstance(solution, TextSolution):
        return [Markup.escape(solution.accepted[0])] if solution.accepted else []
    if isinstance(solution, NumberSolution):
        if not solution.accepted:
            return []
        return [Markup.escape(number_answer(solution))]
    if isinstance(solution, FieldsSolution):
        labels = {f.key: f.label.get(locale) for f in challenge.fields}
        return [
            Markup.escape(_("%(label)s : %(value)s", label=labels.get(key, key), value=values[0]))
            for key, values in solution.accepted
            if values
        ]
    if isinstance(solution, DependentSolution):
        accepted = [group[0] for group in solution.groups if group]
        return [
            Markup.escape(
                ngettext(
                    "%(num)s réponse parmi : %(list)s",
                    "%(num)s réponses parmi : %(list)s",
                    solution.expected,
                    list=" ; ".join(accepted),
                )
            )
        ]
    return []


@dataclass(frozen=True)
class TutorialView:
    id: str
    title: str
    format: str
    duration: int
    source: str
    url: str | None
    body: Markup | None
    lang: str = "fr"


def tutorial_view(tutorial: Tutorial, locale: str) -> TutorialView:
    return TutorialView(
        id=tutorial.id,
        title=tutorial.title.get(locale),
        format=tutorial.format.value,
        duration=tutorial.duration,
        source=tutorial.source or "",
        url=tutorial.url,
        body=render(tutorial.body.get(locale)) if tutorial.body else None,
        lang=tutorial.title.language(locale),
    )


def tutorials_of(skill: Skill, locale: str) -> tuple[list[TutorialView], list[TutorialView]]:
    known = content().tutorials
    succeed = [tutorial_view(known[t], locale) for t in skill.tutorials if t in known]
    more = [tutorial_view(known[t], locale) for t in skill.learn_more if t in known]
    return succeed, more


def _answer_text(challenge: Challenge, record: AnswerRecord, locale: str) -> str:
    response = record.response
    if record.status == AnswerStatus.SKIPPED:
        return str(_("Vous êtes passé à la suite."))
    if response in (None, "", [], {}):
        return str(_("Aucune réponse."))
    if challenge.type in (ChallengeType.QCU, ChallengeType.QCM):
        values = response if isinstance(response, list) else [response]
        texts = []
        for value in values:
            if str(value).isdigit() and 1 <= int(value) <= len(challenge.proposals):
                texts.append(challenge.proposals[int(value) - 1].get(locale))
        return " ; ".join(texts) or _("Aucune réponse.")
    if isinstance(response, dict):
        labels = {f.key: f.label.get(locale) for f in challenge.fields}
        return " ; ".join(
            # TRANSLATORS: a label and its value; French puts a space before the colon.
            _("%(label)s : %(value)s", label=labels.get(k, k), value=v)
            for k, v in response.items()
            if v
        )
    return str(response)


@dataclass(frozen=True)
class FeedbackPage:
    record: AnswerRecord
    status: str
    instruction: Markup
    answer_text: str
    expected: list[Markup]
    lang: str
    skill: Skill
    skill_text: str
    succeed: list[TutorialView]
    learn_more: list[TutorialView]


def feedback_page(attempt: Attempt, record: AnswerRecord, locale: str) -> FeedbackPage:
    data = content()
    challenge = data.challenges[record.challenge_id]
    skill = data.skills[record.skill_id]
    failed = record.status != AnswerStatus.OK
    succeed, more = tutorials_of(skill, locale) if failed else ([], [])
    return FeedbackPage(
        record=record,
        status=record.status,
        instruction=render(challenge.instruction.get(locale)),
        answer_text=_answer_text(challenge, record, locale),
        expected=expected_answer(challenge, locale) if failed else [],
        lang=challenge.instruction.language(locale),
        skill=skill,
        skill_text=skill.description.get(locale),
        succeed=succeed,
        learn_more=more,
    )


@dataclass(frozen=True)
class CheckpointLine:
    seq: int
    competence: str
    skill: str
    status: str
    lang: str = "fr"


def checkpoint_page(attempt: Attempt, upto: int, locale: str) -> dict[str, Any]:
    data = content()
    lines = []
    for record in player_service.answer_rows(attempt):
        if upto - CHECKPOINT_EVERY < record.seq <= upto:
            skill = data.skills[record.skill_id]
            competence = data.competences[skill.competence_code]
            lines.append(
                CheckpointLine(
                    record.seq,
                    f"{competence.code} {competence.title.get(locale)}",
                    skill.description.get(locale),
                    record.status,
                    skill.description.language(locale),
                )
            )
    ok = sum(1 for line in lines if line.status == AnswerStatus.OK)
    return {"lines": lines, "ok": ok, "count": len(lines), "upto": upto}


@dataclass
class CompetenceLine:
    code: str
    title: str
    area: str
    area_code: str
    short: str
    level: int
    max_level: int
    descriptor: str
    pix: int
    validated: int
    target: int
    expected: int | None = None
    gap: int | None = None
    tutorials: list[TutorialView] = field(default_factory=list)


def results_page(attempt: Attempt, locale: str, retry_at: datetime | None) -> dict[str, Any]:
    data = content()
    result = socle().player.assess(attempt)
    areas_by_code = {a.code: a for a in data.areas}
    gaps = {g.competence_code: g for g in result.profile_gaps}
    lines: list[CompetenceLine] = []
    for outcome in result.competences:
        competence = data.competences[outcome.code]
        descriptor = data.level_descriptors.get(outcome.level)
        line = CompetenceLine(
            code=outcome.code,
            title=competence.title.get(locale),
            area=areas_by_code[competence.area_code].title.get(locale),
            area_code=competence.area_code,
            short=competence.label.get(locale),
            level=outcome.level,
            max_level=outcome.max_level,
            descriptor=descriptor.get(locale) if descriptor else _("Pas encore de niveau acquis"),
            pix=outcome.pix,
            validated=outcome.validated_count,
            target=outcome.target_count,
        )
        if outcome.code in gaps:
            line.expected = gaps[outcome.code].expected
            line.gap = gaps[outcome.code].gap
        lines.append(line)

    # Tutorials for the skills the agent failed, grouped by competence, each once.
    by_code = {line.code: line for line in lines}
    answers_failed = {
        r.skill_id for r in player_service.answer_rows(attempt) if r.status != AnswerStatus.OK
    }
    seen: set[str] = set()
    for skill_id in sorted(answers_failed, key=lambda s: (data.skills[s].level, s)):
        skill = data.skills[skill_id]
        succeed, more = tutorials_of(skill, locale)
        for tutorial in succeed + more:
            if tutorial.id not in seen and skill.competence_code in by_code:
                seen.add(tutorial.id)
                by_code[skill.competence_code].tutorials.append(tutorial)

    feelings = []
    if attempt.self_assessment:
        for area in data.areas:
            feeling = attempt.self_assessment.get(area.code)
            measured = [
                line.level for line in lines if data.competences[line.code].area_code == area.code
            ]
            if feeling is None or not measured:
                continue
            average = sum(measured) / len(measured)
            expected_band = FEELING_BANDS[feeling]
            if average < expected_band[0]:
                verdict = _("Le parcours mesure un niveau plus bas que votre ressenti.")
            elif average > expected_band[1]:
                verdict = _("Vous êtes plus à l'aise que vous ne le pensiez.")
            else:
                verdict = _("Votre ressenti correspond à la mesure.")
            feelings.append(
                {
                    "area": area.title.get(locale),
                    "feeling": str(FEELINGS[feeling]),
                    "average": format_decimal(average, format="0.0"),
                    "verdict": verdict,
                }
            )

    scale = max((line.max_level for line in lines), default=0)
    with_profile = any(line.expected is not None for line in lines)
    chart = radar_svg(
        [
            Axis(
                line.code,
                line.short,
                line.level,
                int(line.area_code) if line.area_code.isdigit() else 0,
                line.expected,
            )
            for line in lines
        ],
        scale,
        title=_("Niveau atteint par compétence")
        + (" " + _("et niveau attendu (pointillés)") if with_profile else ""),
        description="; ".join(
            _("%(label)s : %(value)s", label=f"{line.code} {line.title}", value=line.level)
            + (
                " " + _("(attendu : %(expected)s)", expected=line.expected)
                if line.expected is not None
                else ""
            )
            for line in lines
        ),
    )
    profile = data.job_profiles.get(attempt.job_profile_id or "")
    stage = result.stage
    return {
        "result": result,
        "lines": lines,
        "chart": chart,
        "mastery": round(result.mastery_percent),
        "score": result.total_score,
        "stage": {
            "title": stage.stage.title.get(locale),
            "stars": stage.index,
            "count": stage.stage_count - 1,
        }
        if stage
        else None,
        "thematic": [
            {
                "title": t.title.get(locale),
                "acquired": t.acquired,
                "mastery": round(float(t.mastery) * 100),
                "threshold": t.threshold,
            }
            for t in result.thematic_results
        ],
        "profile": profile.title.get(locale) if profile else None,
        "feelings": feelings,
        "retry_at": retry_at,
        "answer_count": attempt.answer_count,
        "scale": scale,
        "max_score": sum(line.max_level for line in lines) * POINTS_PER_LEVEL,
        "points_per_level": POINTS_PER_LEVEL,
        "priorities": priorities(lines),
        "areas": [
            {"code": a.code, "title": a.title.get(locale)}
            for a in data.areas
            if any(line.area_code == a.code for line in lines)
        ],
    }


#: How many competences the summary puts forward.
PRIORITY_COUNT = 3


def priorities(lines: list[CompetenceLine]) -> list[CompetenceLine]:
    """The competences to work on first: below the job family's expected level first (the
    widest gap first), then the lowest levels relative to what the parcours measures; only
    where there is something to gain (a gap, or failed answers with their tutorials)."""

    def key(line: CompetenceLine) -> tuple[int, float, str]:
        gap = min(line.gap, 0) if line.gap is not None else 0
        room = line.level / line.max_level if line.max_level else 1.0
        return (gap, room, line.code)

    candidates = [
        line
        for line in lines
        if (line.gap is not None and line.gap < 0)
        or (line.tutorials and line.level < line.max_level)
    ]
    return sorted(candidates, key=key)[:PRIORITY_COUNT]
