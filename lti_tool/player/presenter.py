"""View models of the player's pages: plain dicts and dataclasses built from the content,
the attempt and the engine, so templates only lay them out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from lti_tool.content_store import ParcoursSummary
from lti_tool.domain.answers import AnswerStatus
from lti_tool.domain.framework import Challenge, ChallengeType, Content, Skill, Tutorial
from lti_tool.models import AnswerRecord, Attempt, Launch
from lti_tool.player.markdown import render, render_inline
from lti_tool.player.radar import Axis, radar_svg
from lti_tool.player.service import CHECKPOINT_EVERY, Served
from lti_tool.web import socle

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
    name: str
    size: str
    format: str


def attachment(path: str) -> FileLink:
    name = Path(path).name
    file = socle().settings.content_dir / path
    size = file.stat().st_size if file.exists() else 0
    return FileLink(
        url_name=path.removeprefix("attachments/"),
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
    progress: int
    hint: Markup | None


def challenge_page(attempt: Attempt, served: Served, locale: str) -> ChallengePage:
    challenge = served.challenge
    proposals = tuple(
        Proposal(str(index), render_inline(challenge.proposals[index - 1].get(locale)))
        for index in served.proposal_order
    )
    deadline = None
    if challenge.timer and served.timer_started_at is not None:
        end = served.timer_started_at + timedelta(seconds=challenge.timer)
        deadline = int(end.timestamp() * 1000)
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
        timer=challenge.timer,
        deadline_ms=deadline,
        progress=served.progress,
        hint=render(challenge.hint.get(locale)) if challenge.hint else None,
    )


@dataclass(frozen=True)
class TutorialView:
    id: str
    title: str
    format: str
    duration: int
    source: str
    url: str | None
    body: Markup | None


def tutorial_view(tutorial: Tutorial, locale: str) -> TutorialView:
    return TutorialView(
        id=tutorial.id,
        title=tutorial.title.get(locale),
        format=tutorial.format.value,
        duration=tutorial.duration,
        source=tutorial.source or "",
        url=tutorial.url,
        body=render(tutorial.body.get(locale)) if tutorial.body else None,
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


def checkpoint_page(attempt: Attempt, upto: int, locale: str) -> dict[str, Any]:
    data = content()
    lines = []
    for record in attempt.answers:
        if upto - CHECKPOINT_EVERY < record.seq <= upto:
            skill = data.skills[record.skill_id]
            competence = data.competences[skill.competence_code]
            lines.append(
                CheckpointLine(
                    record.seq,
                    f"{competence.code} {competence.title.get(locale)}",
                    skill.description.get(locale),
                    record.status,
                )
            )
    ok = sum(1 for line in lines if line.status == AnswerStatus.OK)
    return {"lines": lines, "ok": ok, "count": len(lines), "upto": upto}


@dataclass
class CompetenceLine:
    code: str
    title: str
    area: str
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
    from lti_tool.player.views import player

    data = content()
    result = player().assess(attempt)
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
    answers_failed = {r.skill_id for r in attempt.answers if r.status != AnswerStatus.OK}
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
            expected_band = {1: (0, 1), 2: (1, 2), 3: (2, 4), 4: (4, 8)}[feeling]
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
    chart = radar_svg(
        [Axis(line.code, line.title, line.level) for line in lines],
        scale,
        title=_("Niveau atteint par compétence"),
        description="; ".join(
            _("%(label)s : %(value)s", label=f"{line.code} {line.title}", value=line.level)
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
    }
