"""The player's pages: start, self-assessment, challenge, feedback, checkpoint, results.

Views are thin: they read the launch from the signed token, call :class:`Player` inside one
transaction and render. Every state change is a POST answered by a redirect (a refresh never
resubmits), and every page works without JavaScript.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from lti_tool.domain.answers import AnswerStatus
from lti_tool.domain.categories import AGENT_CATEGORIES, parse_category
from lti_tool.domain.framework import ChallengeType
from lti_tool.lti.launch import CLAIM
from lti_tool.lti.tokens import TOKEN_FIELD
from lti_tool.models import Attempt, ChallengeReport, Launch
from lti_tool.observability.metrics import count_answer
from lti_tool.pages import db_session, socle, transaction
from lti_tool.pages.errors import render_error
from lti_tool.pages.launch import PageError, current_launch, start_token_chain
from lti_tool.player import presenter
from lti_tool.player.service import (
    CHECKPOINT_EVERY,
    TIME_FACTORS,
    Player,
    PlayerError,
    answer_record,
    answer_rows,
)

bp = Blueprint("player", __name__)

# Lazy: the texts are marked here for extraction and translated when a page shows them, in
# the language of that page's launch.
MESSAGES = {
    "no_parcours": (
        _l("Cette activité n'est associée à aucun parcours Socle disponible."),
        _l("Prévenez votre formateur : l'activité doit être reconfigurée."),
        404,
    ),
    "retry_too_soon": (
        _l("Vous ne pouvez pas encore recommencer ce parcours."),
        _l("Revenez plus tard : la date est indiquée sur la page de vos résultats."),
        409,
    ),
    "timer_not_started": (
        _l("Cette épreuve chronométrée n'a pas été démarrée."),
        _l("Revenez à l'épreuve et lancez le chronomètre."),
        409,
    ),
}
_NOT_POSSIBLE = (_l("Cette action n'est pas possible."), _l("Revenez à la page précédente."), 409)


def player() -> Player:
    return socle().player


def _go(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **{TOKEN_FIELD: g.token, **values}), code=303)


@bp.errorhandler(PageError)
def _page_error(exc: PageError) -> tuple[str, int]:
    return render_error(exc.message, exc.advice, exc.status)


@bp.errorhandler(PlayerError)
def _player_error(exc: PlayerError) -> Response | tuple[str, int]:
    if exc.code in {"stale_form", "attempt_finished", "concurrent_start"}:
        # A resubmitted or outdated form: show where the attempt really is.
        return _go("player.play")
    if exc.code == "empty_answer":
        # Nothing recorded: the same challenge again, saying what to do.
        return _go("player.play", empty=1)
    message, advice, status = MESSAGES.get(exc.code, _NOT_POSSIBLE)
    return render_error(str(message), str(advice), status, code=exc.code)


def _activity_launch() -> Launch:
    """The launch behind the page token, if it is the launch of an activity.

    A deep-linking launch (a teacher choosing a parcours) has no resource link, hence no
    attempt: its token opens no player page.
    """
    launch = current_launch(player().load_launch)
    if launch.resource_link is None:
        abort(404)
    return launch


def _attempt(launch: Launch) -> Attempt:
    attempt = player().current(db_session(), launch)
    if attempt is None:
        raise PageError(
            _("Vous n'avez pas encore commencé ce parcours."),
            _("Revenez à la page d'accueil du parcours pour le commencer."),
            404,
        )
    return attempt


def learner_home(launch: Launch, summary: Any) -> str:
    """The agent's entry (``GET /activity``): start page, resume, or a link to results."""
    attempt = player().current(db_session(), launch)
    return render_template(
        "player/start.html",
        parcours=summary,
        attempt=attempt,
        anonymous=launch.user_pk is None,
        job_profiles=presenter.job_profiles(launch.locale),
        time_factors=TIME_FACTORS,
        categories=AGENT_CATEGORIES,
    )


def _time_factor() -> float | None:
    raw = request.form.get("time_factor", "")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value in TIME_FACTORS else None


@bp.post("/play/start")
def start() -> Response:
    launch = _activity_launch()
    with transaction() as session:
        attempt = player().start(
            session,
            launch,
            job_profile_id=request.form.get("job_profile") or None,
            new_attempt=request.form.get("new") == "1",
            time_factor=_time_factor(),
        )
        # Optional, declared on the start page; the training reports group by it.
        category = parse_category(request.form.get("category"))
        if category is not None and attempt.status == "started":
            attempt.agent_category = category
        parcours = player().content.parcours[attempt.parcours_id]
        ask_feelings = (
            parcours.self_assessment
            and attempt.self_assessment is None
            and attempt.answer_count == 0
        )
    return _go("player.self_assessment" if ask_feelings else "player.play")


@bp.route("/play/self-assessment", methods=["GET", "POST"])
def self_assessment() -> str | Response:
    launch = _activity_launch()
    if request.method == "POST":
        with transaction():
            attempt = _attempt(launch)
            values = {} if request.form.get("action") == "skip" else request.form
            player().save_self_assessment(attempt, values)
        return _go("player.play")
    attempt = _attempt(launch)
    return render_template(
        "player/self_assessment.html", areas=presenter.areas(launch.locale), attempt=attempt
    )


@bp.get("/play")
def play() -> str | Response:
    launch = _activity_launch()
    with transaction() as session:
        attempt = _attempt(launch)
        served = player().serve(session, attempt, launch)
    if served is None:
        # Finished by now. A page request (GET) never starts a new token chain, even when it
        # is the one that finishes: a token copied before the end must not become one that
        # acts by being the first to open a page. The answer that ends the attempt does.
        _start_grade_sync()
        return _go("player.results")
    page = presenter.challenge_page(attempt, served, launch.locale)
    if served.challenge.timer and served.timer_started_at is None:
        return render_template(
            "player/timer_warning.html", page=page, attempt=attempt, confirmed=_confirmed(attempt)
        )
    return render_template(
        "player/challenge.html",
        page=page,
        attempt=attempt,
        confirmed=_confirmed(attempt),
        empty=request.args.get("empty") == "1",
        reported=request.args.get("reported") == "1",
        report_categories=[(key, str(label)) for key, label in REPORT_CATEGORIES.items()],
    )


def _confirmed(attempt: Attempt) -> int | None:
    """The number of the previous question when it was just answered right (``?ok=N``)."""
    seq = request.args.get("ok", type=int)
    if seq is None or seq != attempt.answer_count:
        return None
    record = next((r for r in answer_rows(attempt) if r.seq == seq), None)
    return seq if record is not None and record.status == AnswerStatus.OK else None


@bp.post("/play/timer")
def start_timer() -> Response:
    launch = _activity_launch()
    with transaction():
        attempt = _attempt(launch)
        player().start_timer(attempt, request.form.get("challenge_id", ""))
    return _go("player.play")


def _answer_from_form(challenge_type: ChallengeType, fields: list[str]) -> object:
    """The submitted answer in the shape the domain grades, without repairing the form.

    The challenge form sends one ``answer`` (qcu, qroc), several ``answer`` (qcm) or one
    ``answer.<key>`` per field (qrocm-*). Anything else — several values where one is
    expected, a field the challenge does not have — is passed on as sent, so the domain
    grades it ``ko``: taking the first value or dropping unknown keys here would accept a
    forged form that carries the right answer among others.
    """
    form = request.form

    def value(name: str) -> str | list[str]:
        values = form.getlist(name)
        return values[0] if len(values) == 1 else (values or "")

    sent = [name for name in form if name == "answer" or name.startswith("answer.")]
    if challenge_type in (ChallengeType.QROCM_IND, ChallengeType.QROCM_DEP):
        answer: dict[str, str | list[str]] = dict.fromkeys(fields, "")
        for name in sent:  # a bare ``answer`` becomes the key "", unknown to every challenge
            answer[name.removeprefix("answer").removeprefix(".")] = value(name)
        return answer
    if any(name != "answer" for name in sent):
        return {name: value(name) for name in sent}
    if challenge_type is ChallengeType.QCM:
        return form.getlist("answer")
    return value("answer")


@bp.post("/play/answer")
def answer() -> Response:
    launch = _activity_launch()
    challenge_id = request.form.get("challenge_id", "")
    try:
        seq = int(request.form.get("seq", ""))
    except ValueError:
        return _go("player.play")
    finished_now = False
    recorded_now: str | None = None
    try:
        with transaction() as session:
            attempt = _attempt(launch)
            was_started = attempt.status == "started"
            new_record = attempt.answer_count < seq
            challenge = player().view(attempt).challenges.get(challenge_id)
            if challenge is None:
                raise PlayerError("stale_form")
            record = player().submit(
                session,
                attempt,
                launch,
                challenge_id=challenge_id,
                seq=seq,
                skipped=request.form.get("action") == "skip",
                answer=_answer_from_form(challenge.type, [f.key for f in challenge.fields]),
                timeout_claimed=request.form.get("action") == "timeout",
            )
            seq = record.seq
            right = record.status == AnswerStatus.OK
            finished_now = was_started and attempt.status == "completed"
            recorded_now = record.status if record.id is not None and new_record else None
    except PlayerError as exc:
        # The twin request of a double click may have recorded this very answer while this
        # one was running: show its feedback, as when the twin came first.
        current = _attempt(launch)
        twin = next(
            (r for r in answer_rows(current) if r.seq == seq and r.challenge_id == challenge_id),
            None,
        )
        if exc.code != "stale_form" or twin is None:
            raise
        right = twin.status == AnswerStatus.OK
        if right and current.status == "completed":
            return _go("player.results", ok=seq)
    if recorded_now is not None:
        count_answer(recorded_now)
    if finished_now:  # this answer was the last one: its author may start again
        start_token_chain(launch)
        _start_grade_sync()
    if not right:
        # A wrong, skipped or late answer: its page shows the expected answer and tutorials.
        return _go("player.feedback", seq=seq)
    # A right answer goes straight on, confirmed in one line on the next page.
    if finished_now:
        return _go("player.results", ok=seq)
    if seq % CHECKPOINT_EVERY == 0:
        return _go("player.checkpoint", upto=seq, ok=seq)
    return _go("player.play", ok=seq)


@bp.get("/play/feedback")
def feedback() -> str:
    launch = _activity_launch()
    attempt = _attempt(launch)
    # The one answer shown, as an object (its response): not the attempt's other answers.
    record = answer_record(db_session(), attempt, request.args.get("seq", type=int))
    if record is None:
        abort(404)
    page = presenter.feedback_page(attempt, record, launch.locale)
    checkpoint = record.seq % CHECKPOINT_EVERY == 0 and record.seq == attempt.answer_count
    return render_template(
        "player/feedback.html", page=page, attempt=attempt, checkpoint=checkpoint
    )


@bp.get("/play/checkpoint")
def checkpoint() -> str:
    launch = _activity_launch()
    attempt = _attempt(launch)
    upto = request.args.get("upto", type=int) or attempt.answer_count
    page = presenter.checkpoint_page(attempt, upto, launch.locale)
    return render_template(
        "player/checkpoint.html",
        page=page,
        attempt=attempt,
        confirmed=_confirmed(attempt),
        outlook=presenter.attempt_outlook(attempt) if attempt.status == "started" else None,
    )


@bp.get("/play/results")
def results() -> str | Response:
    launch = _activity_launch()
    attempt = _attempt(launch)
    if attempt.status != "completed":
        return _go("player.play")
    page = presenter.results_page(attempt, launch.locale, player().can_retry(attempt))
    return render_template(
        "player/results.html",
        page=page,
        attempt=attempt,
        preview=attempt.preview,
        return_url=return_url(launch),
        confirmed=_confirmed(attempt),
    )


@bp.get("/play/restart")
def restart() -> str | Response:
    """Asks before « Recommencer »: a new attempt replaces these results on the report."""
    launch = _activity_launch()
    attempt = _attempt(launch)
    if attempt.status != "completed":
        return _go("player.play")
    return render_template(
        "player/restart.html",
        attempt=attempt,
        retry_at=player().can_retry(attempt),
        return_url=return_url(launch),
    )


def return_url(launch: Launch) -> str | None:
    """Where the LMS asked to send the agent back (``launch_presentation.return_url``).

    Only an http(s) address is a link: anything else (``javascript:``…) is ignored.
    """
    presentation = launch.claims.get(CLAIM + "launch_presentation")
    url = presentation.get("return_url") if isinstance(presentation, dict) else None
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")) and len(url) < 2000:
        return url
    return None


#: Kinds of problem an agent can report on a challenge.
REPORT_CATEGORIES = {
    "answer": _l("Ma réponse est juste mais elle a été refusée"),
    "unclear": _l("La question est ambiguë ou difficile à comprendre"),
    "file": _l("Un fichier ou une image ne s'ouvre pas ou ne s'affiche pas"),
    "error": _l("Il y a une erreur dans la question"),
    "other": _l("Autre problème"),
}
MAX_REPORT_LENGTH = 2000
#: Enough for every problem an agent may meet, not enough to flood the content team.
MAX_REPORTS_PER_ATTEMPT = 20


@bp.post("/play/report")
def report() -> Response:
    """« Signaler un problème » on the challenge being shown: stored for the content team."""
    launch = _activity_launch()
    category = request.form.get("category", "")
    message = " ".join(request.form.get("message", "").split())[:MAX_REPORT_LENGTH]
    with transaction() as session:
        attempt = _attempt(launch)
        challenge_id = request.form.get("challenge_id", "")
        shown = {r.challenge_id for r in answer_rows(attempt)} | {attempt.current_challenge_id}
        reports = session.scalar(
            select(func.count())
            .select_from(ChallengeReport)
            .where(ChallengeReport.attempt_id == attempt.id)
        )
        if (
            category not in REPORT_CATEGORIES
            or challenge_id not in shown
            or (reports or 0) >= MAX_REPORTS_PER_ATTEMPT
        ):
            return _go("player.play")
        session.add(
            ChallengeReport(
                attempt_id=attempt.id,
                challenge_id=challenge_id,
                parcours_id=attempt.parcours_id,
                category=category,
                message=message,
                locale=launch.locale,
            )
        )
    return _go("player.play", reported=1)


@bp.get("/attachments/<path:name>")
def attachment(name: str) -> Response:
    """Files handed to agents (spreadsheets, documents, images) from ``content/attachments``."""
    path = _attachment_path(socle().settings.content_dir / "attachments", name)
    if path is None:
        abort(404)
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    inline = kind.startswith("image/") and request.args.get("download") != "1"
    response = send_file(
        path,
        mimetype=kind,
        as_attachment=not inline,
        download_name=Path(name).name,
        max_age=3600,
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# Longer names are not ours: every file in content/attachments is named by an author, and
# 255 bytes is the longest file name common file systems take.
MAX_ATTACHMENT_NAME = 255


def _attachment_path(folder: Path, name: str) -> Path | None:
    """The file ``name`` names inside ``folder``, or None for anything else.

    The name arrives from the URL already percent-decoded, so it may hold a NUL byte, a
    backslash, ``..`` or a decoded ``/``; ``os.stat`` raises ``ValueError`` on a NUL and
    ``OSError`` on an over-long name. Attachments are flat files: a name with a separator
    or a dot-dot segment is not one of them, and nothing here may become a server error.
    """
    if (
        not name
        or len(name.encode("utf-8", "surrogatepass")) > MAX_ATTACHMENT_NAME
        or any(c in name for c in ("\0", "/", "\\"))
        or name in {".", ".."}
        or name.startswith(".")
    ):
        return None
    try:
        base = folder.resolve()
        path = (base / name).resolve()
        if path.parent != base or not path.is_file():
            return None
    except (OSError, ValueError):
        return None
    return path


def _start_grade_sync() -> None:
    """Send pending scores to the LMS in the background: the agent never waits for it."""
    socle().grades.kick()
