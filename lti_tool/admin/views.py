"""The console's pages: thin views over the services the CLI uses, each action audited.

Every change is one transaction that holds the change and its audit entry; a refusal by a
service (``RegistrationError``, ``ValueError``…) is shown on the page, in the service's words,
and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.admin.audit import entries
from lti_tool.admin.models import RegistrationHost
from lti_tool.admin.web import admin_required, audit, bp, console
from lti_tool.models import Attempt, Launch, LtiUser, Platform
from lti_tool.web import db_session, socle, transaction

PER_PAGE = 50


def _platform_snapshot(platform: Platform) -> dict[str, Any]:
    return {
        "name": platform.name,
        "issuer": platform.issuer,
        "client_id": platform.client_id,
        "auth_login_url": platform.auth_login_url,
        "auth_token_url": platform.auth_token_url,
        "key_set_url": platform.key_set_url,
        "auth_audience": platform.auth_audience,
        "store_personal_data": platform.store_personal_data,
        "lrs_id": platform.lrs_id,
        "deployments": [d.deployment_id for d in platform.deployments],
    }


def _lrs_names() -> dict[int, str]:
    from xapi.outbox import list_lrs

    return {record.id: record.name for record in list_lrs(db_session())}


def _form(name: str) -> str:
    return (request.form.get(name) or "").strip()


@bp.get("/")
@admin_required
def home() -> str:
    session = db_session()
    counts = {
        "platforms": session.scalar(select(func.count()).select_from(Platform)) or 0,
        "agents": session.scalar(select(func.count()).select_from(LtiUser)) or 0,
        "attempts": session.scalar(select(func.count()).select_from(Attempt)) or 0,
    }
    return render_template("admin/home.html", counts=counts)


# --- platform registrations -------------------------------------------------------------
@bp.get("/platforms")
@admin_required
def platforms() -> str:
    from lti_tool.lti.registrations import list_platforms

    return render_template(
        "admin/platforms.html",
        platforms=list_platforms(db_session()),
        lrs_names=_lrs_names(),
        values={},
    )


@bp.post("/platforms")
@admin_required
def platform_add() -> Any:
    from lti_tool.lti.registrations import PlatformInput, RegistrationError, add_platform

    deployments = tuple(
        item.strip() for item in _form("deployment_ids").replace(",", "\n").splitlines()
    )
    data = PlatformInput(
        issuer=_form("issuer"),
        client_id=_form("client_id"),
        auth_login_url=_form("auth_login_url"),
        auth_token_url=_form("auth_token_url"),
        key_set_url=_form("key_set_url"),
        deployment_ids=deployments,
        name=_form("name") or None,
        auth_audience=_form("auth_audience") or None,
        store_personal_data=request.form.get("store_personal_data") == "on",
    )
    try:
        with transaction() as session:
            row = add_platform(session, data, existing="refuse")
            row.lrs_id = _lrs_choice()
            session.flush()
            audit("platform.add", f"{row.issuer} {row.client_id}", after=_platform_snapshot(row))
            platform_id = row.id
    except RegistrationError as exc:
        from lti_tool.lti.registrations import list_platforms

        return (
            render_template(
                "admin/platforms.html",
                platforms=list_platforms(db_session()),
                lrs_names=_lrs_names(),
                error=str(exc),
                values=request.form,
            ),
            400,
        )
    socle().framing.invalidate()
    flash(_("Plateforme enregistrée."))
    return redirect(url_for("admin.platform_detail", platform_id=platform_id))


def _lrs_choice() -> int | None:
    raw = _form("lrs_id")
    if not raw:
        return None
    try:
        lrs_id = int(raw)
    except ValueError:
        abort(400)
    if lrs_id not in _lrs_names():
        abort(400)
    return lrs_id


def _platform(platform_id: int) -> Platform:
    platform = db_session().get(Platform, platform_id)
    if platform is None:
        abort(404)
    return platform


@bp.get("/platforms/<int:platform_id>")
@admin_required
def platform_detail(platform_id: int, error: str | None = None) -> str:
    platform = _platform(platform_id)
    return render_template(
        "admin/platform.html", platform=platform, lrs_names=_lrs_names(), error=error
    )


@bp.get("/platforms/<int:platform_id>/report")
@admin_required
def organisation_report(platform_id: int) -> str:
    """The training-needs report of every course and deployment of one registration."""
    from flask_babel import get_locale

    from lti_tool.reports.views import render_organisation_report

    platform = _platform(platform_id)
    return render_organisation_report(platform, locale=str(get_locale()), export_args={})


@bp.post("/platforms/<int:platform_id>/settings")
@admin_required
def platform_settings(platform_id: int) -> Any:
    with transaction():
        platform = _platform(platform_id)
        before = _platform_snapshot(platform)
        platform.store_personal_data = request.form.get("store_personal_data") == "on"
        platform.lrs_id = _lrs_choice()
        after = _platform_snapshot(platform)
        if after != before:
            audit("platform.update", f"{platform.issuer} {platform.client_id}", before, after)
    flash(_("Réglages enregistrés."))
    return redirect(url_for("admin.platform_detail", platform_id=platform_id))


def _change_deployment(
    platform_id: int,
    action: str,
    change: Callable[[Session, Platform, str], None],
    done: str,
) -> Any:
    """Add or remove the form's deployment of a registration, audited; a refusal of the
    registration rules shows on the platform's page."""
    from lti_tool.lti.registrations import RegistrationError

    deployment_id = _form("deployment_id")
    try:
        with transaction() as session:
            platform = _platform(platform_id)
            before = _platform_snapshot(platform)
            change(session, platform, deployment_id)
            audit(
                action,
                f"{platform.issuer} {platform.client_id} {deployment_id}",
                before,
                _platform_snapshot(platform),
            )
    except RegistrationError as exc:
        db_session().rollback()
        return platform_detail(platform_id, error=str(exc)), 400
    flash(done)
    return redirect(url_for("admin.platform_detail", platform_id=platform_id))


@bp.post("/platforms/<int:platform_id>/deployments")
@admin_required
def deployment_add(platform_id: int) -> Any:
    from lti_tool.lti.registrations import PlatformInput, add_platform

    def add(session: Session, platform: Platform, deployment_id: str) -> None:
        add_platform(
            session,
            PlatformInput(
                issuer=platform.issuer,
                client_id=platform.client_id,
                auth_login_url=platform.auth_login_url,
                auth_token_url=platform.auth_token_url,
                key_set_url=platform.key_set_url,
                deployment_ids=(deployment_id,),
                auth_audience=platform.auth_audience,
                store_personal_data=platform.store_personal_data,
            ),
            existing="add_deployments",
        )

    return _change_deployment(platform_id, "deployment.add", add, _("Déploiement ajouté."))


@bp.post("/platforms/<int:platform_id>/deployments/remove")
@admin_required
def deployment_remove(platform_id: int) -> Any:
    from lti_tool.lti.registrations import remove_platform

    def remove(session: Session, platform: Platform, deployment_id: str) -> None:
        remove_platform(session, platform.issuer, platform.client_id, deployment_id)
        session.refresh(platform)

    return _change_deployment(platform_id, "deployment.remove", remove, _("Déploiement retiré."))


@bp.post("/platforms/<int:platform_id>/remove")
@admin_required
def platform_remove(platform_id: int) -> Any:
    from lti_tool.lti.registrations import remove_platform

    with transaction() as session:
        platform = _platform(platform_id)
        if _form("confirm") != platform.client_id:
            session.rollback()
            return platform_detail(
                platform_id,
                error=_("Pour confirmer, recopiez l'identifiant client de la plateforme."),
            ), 400
        before = _platform_snapshot(platform)
        remove_platform(session, platform.issuer, platform.client_id)
        audit("platform.remove", f"{before['issuer']} {before['client_id']}", before, None)
    socle().framing.invalidate()
    flash(_("Plateforme supprimée, avec ses lancements et passages."))
    return redirect(url_for("admin.platforms"))


# --- dynamic registration hosts ------------------------------------------------------------
@bp.get("/registration-hosts")
@admin_required
def registration_hosts(error: str | None = None) -> str:
    rows = list(db_session().scalars(select(RegistrationHost).order_by(RegistrationHost.host)))
    return render_template(
        "admin/registration_hosts.html",
        hosts=rows,
        configured=socle().settings.registration_hosts,
        register_url=socle().settings.base_url + "/lti/register",
        error=error,
    )


def normalise_host(raw: str) -> str:
    """A bare host name as dynamic registration compares it: lower case, no scheme/port."""
    from urllib.parse import urlsplit

    value = raw.strip().lower()
    if "://" in value:
        value = urlsplit(value).hostname or ""
    if not value or any(ch in value for ch in "/ @?#") or ":" in value.strip("[]"):
        raise ValueError(value)
    return value


@bp.post("/registration-hosts")
@admin_required
def registration_host_add() -> Any:
    try:
        host = normalise_host(_form("host"))
    except ValueError:
        return registration_hosts(
            error=_("Indiquez un nom d'hôte, par exemple moodle.ville.fr.")
        ), 400
    with transaction() as session:
        if session.get(RegistrationHost, host) is None:
            session.add(RegistrationHost(host=host, added_by=g.admin.email))
            session.flush()
            audit("registration_host.add", host, None, {"host": host})
    flash(_("Hôte autorisé."))
    return redirect(url_for("admin.registration_hosts"))


@bp.post("/registration-hosts/remove")
@admin_required
def registration_host_remove() -> Any:
    host = _form("host")
    with transaction() as session:
        row = session.get(RegistrationHost, host)
        if row is not None:
            session.delete(row)
            audit("registration_host.remove", host, {"host": host}, None)
    flash(_("Hôte retiré."))
    return redirect(url_for("admin.registration_hosts"))


# --- xAPI outbox --------------------------------------------------------------------------
@bp.get("/xapi")
@admin_required
def xapi() -> str:
    from xapi.delivery import LrsSettings
    from xapi.status import outbox_status

    status = outbox_status(
        db_session(), LrsSettings.from_env(), now=console().clock(), dead_letter_limit=100
    )
    return render_template("admin/xapi.html", status=status, age=_age)


def _age(value: timedelta | None) -> str:
    """A waiting time as a person reads it: seconds, minutes, hours or days."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 120:
        return str(_("%(n)d s", n=seconds))
    if seconds < 2 * 3600:
        return str(_("%(n)d min", n=seconds // 60))
    if seconds < 2 * 86400:
        return str(_("%(n)d h", n=seconds // 3600))
    return str(_("%(n)d jours", n=seconds // 86400))


@bp.post("/xapi/retry")
@admin_required
def xapi_retry() -> Any:
    from xapi.status import retry_dead_letters

    ids: list[int] | None = None
    if _form("id"):
        try:
            ids = [int(_form("id"))]
        except ValueError:
            abort(400)
    with transaction() as session:
        count = retry_dead_letters(session, ids, now=console().clock())
        audit(
            "xapi.retry",
            "dead letters" if ids is None else f"outbox #{ids[0]}",
            None,
            {"requeued": count},
        )
    flash(_("%(count)d déclaration(s) remise(s) en file d'envoi.", count=count))
    return redirect(url_for("admin.xapi"))


# --- keys ---------------------------------------------------------------------------------
def _keys() -> Any:
    from lti_tool.lti.keys import KeyService

    return KeyService.from_settings(db_session(), socle().settings)


@bp.get("/keys")
@admin_required
def keys(error: str | None = None) -> str:
    with transaction():
        service = _keys()
        service.ensure_key()
        infos = service.describe()
    return render_template(
        "admin/keys.html",
        keys=infos,
        default_delay=socle().settings.key_publish_delay,
        error=error,
    )


@bp.post("/keys/rotate")
@admin_required
def keys_rotate() -> Any:
    raw = _form("delay")
    try:
        delay = int(raw) if raw else None
    except ValueError:
        delay = -1
    if delay is not None and delay < 0:
        return keys(error=_("Le délai est un nombre de secondes, zéro ou plus.")), 400
    with transaction():
        service = _keys()
        service.ensure_key()
        key = service.rotate(delay)
        audit(
            "key.rotate", key.kid, None, {"kid": key.kid, "signs_from": key.not_before.isoformat()}
        )
    flash(_("Nouvelle clé publiée."))
    return redirect(url_for("admin.keys"))


@bp.post("/keys/retire")
@admin_required
def keys_retire() -> Any:
    kid = _form("kid")
    try:
        with transaction():
            info = _keys().retire(kid)
            audit("key.retire", kid, {"kid": kid, "status": info.status}, None)
    except LookupError:
        abort(404)
    except ValueError:
        db_session().rollback()
        return keys(
            error=_(
                "Cette clé signe les messages de l'outil : publiez-en une nouvelle, puis retirez "
                "celle-ci quand la nouvelle signe."
            )
        ), 400
    flash(_("Clé retirée."))
    return redirect(url_for("admin.keys"))


# --- audit log ----------------------------------------------------------------------------
@bp.get("/audit")
@admin_required
def audit_log() -> str:
    try:
        page = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        page = 1
    rows, total = entries(db_session(), page=page, per_page=PER_PAGE)
    return render_template(
        "admin/audit.html",
        entries=rows,
        page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        as_json=lambda value: json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True),
    )


# --- agents' data rights ------------------------------------------------------------------
@bp.get("/agents")
@admin_required
def agents() -> str:
    from lti_tool.lti.registrations import list_platforms
    from lti_tool.privacy.agents import find_agents

    platform_raw = request.args.get("platform", "")
    platform_id = int(platform_raw) if platform_raw.isdigit() else None
    sub = request.args.get("sub", "")
    email = request.args.get("email", "")
    searched = bool(sub.strip() or email.strip())
    found = find_agents(db_session(), platform_id=platform_id, sub=sub, email=email)
    return render_template(
        "admin/agents.html",
        platforms=list_platforms(db_session()),
        found=found,
        searched=searched,
        values={"platform": platform_raw, "sub": sub, "email": email},
        platform_names={p.id: p.name for p in list_platforms(db_session())},
    )


def _agent(user_id: int) -> LtiUser:
    user = db_session().get(LtiUser, user_id)
    if user is None:
        abort(404)
    return user


def _agent_target(user: LtiUser) -> str:
    from lti_tool.privacy.agents import agent_digest, user_issuer

    issuer = user_issuer(db_session(), user)
    return f"{issuer} agent {agent_digest(issuer, user.sub)}"


@bp.get("/agents/<int:user_id>")
@admin_required
def agent(user_id: int) -> str:
    from lti_tool.privacy.agents import AGS_NOTE, export_agent

    user = _agent(user_id)
    document = export_agent(db_session(), user)
    launches = db_session().scalar(
        select(func.count()).select_from(Launch).where(Launch.user_pk == user.id)
    )
    return render_template(
        "admin/agent.html", user=user, document=document, launches=launches, ags_note=AGS_NOTE
    )


@bp.get("/agents/<int:user_id>/export.<fmt>")
@admin_required
def agent_export(user_id: int, fmt: str) -> Response:
    from lti_tool.privacy.agents import export_agent, export_csv

    if fmt not in {"json", "csv"}:
        abort(404)
    with transaction():
        user = _agent(user_id)
        document = export_agent(db_session(), user)
        audit("agent.export", _agent_target(user), None, {"format": fmt})
    stamp = datetime.now().strftime("%Y%m%d")
    if fmt == "csv":
        body, mimetype = export_csv(document), "text/csv; charset=utf-8"
    else:
        body = json.dumps(document, ensure_ascii=False, indent=2)
        mimetype = "application/json"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="socle-agent-{user_id}-{stamp}.{fmt}"'
    )
    return response


@bp.post("/agents/<int:user_id>/erase")
@admin_required
def agent_erase(user_id: int) -> Any:
    from lti_tool.privacy.agents import erase_agent

    if request.form.get("confirm") != "on":
        flash(_("Cochez la case de confirmation pour effacer cet agent."))
        return redirect(url_for("admin.agent", user_id=user_id))
    with transaction() as session:
        user = _agent(user_id)
        target = _agent_target(user)
        report = erase_agent(
            session, user, tool_base_url=socle().settings.base_url, now=console().clock()
        )
        audit("agent.erase", target, None, report.as_dict())
    return render_template("admin/erased.html", report=report)


# --- problems agents reported on challenges ----------------------------------------------
@bp.get("/problem-reports")
@admin_required
def problem_reports() -> str:
    """« Signaler un problème »: what agents wrote about challenges, newest first, with the
    challenge's text for the content team (no agent identifier is shown)."""
    from lti_tool.player.problem_reports import CATEGORY_LABELS
    from lti_tool.player.problem_reports import problem_reports as reported

    lines = list(reported(db_session()))[: PER_PAGE * 4]
    challenges = socle().catalogue.content.challenges
    rows = [
        {
            "line": line,
            "label": CATEGORY_LABELS.get(line.category, line.category),
            "instruction": challenges[line.challenge_id].instruction.fr
            if line.challenge_id in challenges
            else None,
        }
        for line in lines
    ]
    return render_template("admin/problem_reports.html", rows=rows)
