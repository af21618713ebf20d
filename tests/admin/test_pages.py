"""The console's pages call the CLI's services, refuse what the CLI refuses, and audit every
change with its before and after."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from lti_tool.admin.models import AuditEntry, AuditLogIsReadOnly, RegistrationHost
from lti_tool.lti.keys import KeyService
from lti_tool.models import Platform
from tests.admin.helpers import csrf_token, link_sign_in
from xapi.outbox import add_lrs, enqueue, outbox_table

PLATFORM = {
    "name": "Moodle de Lille",
    "issuer": "https://moodle.lille.fr",
    "client_id": "socle-1",
    "auth_login_url": "https://moodle.lille.fr/mod/lti/auth.php",
    "auth_token_url": "https://moodle.lille.fr/mod/lti/token.php",
    "key_set_url": "https://moodle.lille.fr/mod/lti/certs.php",
    "deployment_ids": "1\n2",
}


def _admin(app: Flask) -> FlaskClient:
    client = app.test_client()
    link_sign_in(app, client)
    return client


def _post(client: FlaskClient, page: str, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client.get(page)), **data})


def _audit(app: Flask) -> list[AuditEntry]:
    with app.extensions["socle"].database.session() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        session.expunge_all()
        return rows


def _platform(app: Flask) -> Platform:
    with app.extensions["socle"].database.session() as session:
        row = session.scalars(select(Platform)).one()
        _ = row.deployments
        session.expunge_all()
        return row


def test_pages_need_a_signed_in_administrator(client: FlaskClient) -> None:
    for path in (
        "/admin/",
        "/admin/platforms",
        "/admin/xapi",
        "/admin/keys",
        "/admin/audit",
        "/admin/agents",
        "/admin/registration-hosts",
    ):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert "/admin/login" in answer.headers["Location"]


def test_a_platform_is_added_changed_and_removed_with_an_audit_trail(app: Flask) -> None:
    admin = _admin(app)
    added = _post(admin, "/admin/platforms", "/admin/platforms", PLATFORM)
    assert added.status_code == 302
    platform = _platform(app)
    assert [d.deployment_id for d in platform.deployments] == ["1", "2"]
    detail = f"/admin/platforms/{platform.id}"
    assert "Moodle de Lille" in admin.get("/admin/platforms").get_data(as_text=True)

    _post(admin, detail, f"{detail}/deployments", {"deployment_id": "3"})
    _post(admin, detail, f"{detail}/deployments/remove", {"deployment_id": "1"})
    _post(admin, detail, f"{detail}/settings", {"store_personal_data": "on"})
    assert [d.deployment_id for d in _platform(app).deployments] == ["2", "3"]
    assert _platform(app).store_personal_data is True
    refused = _post(admin, detail, f"{detail}/remove", {"confirm": "wrong"})
    assert refused.status_code == 400
    assert _post(admin, detail, f"{detail}/remove", {"confirm": "socle-1"}).status_code == 302

    with app.extensions["socle"].database.session() as session:
        assert session.scalars(select(Platform)).first() is None
    actions = [(e.action, e.actor) for e in _audit(app)]
    assert [a for a, _ in actions if a != "sign_in"] == [
        "platform.add",
        "deployment.add",
        "deployment.remove",
        "platform.update",
        "platform.remove",
    ]
    update_entry = next(e for e in _audit(app) if e.action == "platform.update")
    assert update_entry.before is not None
    assert update_entry.after is not None
    assert update_entry.before["store_personal_data"] is False
    assert update_entry.after["store_personal_data"] is True
    assert update_entry.actor == "dpo@lille.fr"


def test_a_refused_deployment_change_says_why_and_changes_nothing(app: Flask) -> None:
    admin = _admin(app)
    _post(admin, "/admin/platforms", "/admin/platforms", PLATFORM)
    detail = f"/admin/platforms/{_platform(app).id}"
    unknown = _post(admin, detail, f"{detail}/deployments/remove", {"deployment_id": "9"})
    assert unknown.status_code == 400
    assert "no deployment &#39;9&#39;" in unknown.get_data(as_text=True)
    empty = _post(admin, detail, f"{detail}/deployments", {"deployment_id": " "})
    assert empty.status_code == 400
    assert [d.deployment_id for d in _platform(app).deployments] == ["1", "2"]
    assert [e.action for e in _audit(app) if e.action != "sign_in"] == ["platform.add"]


def test_the_console_refuses_what_the_cli_refuses(app: Flask) -> None:
    admin = _admin(app)
    insecure = {**PLATFORM, "key_set_url": "http://moodle.lille.fr/certs.php"}

    answer = _post(admin, "/admin/platforms", "/admin/platforms", insecure)

    assert answer.status_code == 400
    assert "key set URL must be an https URL" in answer.get_data(as_text=True)
    with app.extensions["socle"].database.session() as session:
        assert session.scalars(select(Platform)).first() is None
    assert [e.action for e in _audit(app)] == ["sign_in"]  # nothing audited: nothing happened


def test_a_platform_gets_its_own_lrs(app: Flask) -> None:
    with app.extensions["socle"].database.session() as session, session.begin():
        lrs_id = add_lrs(
            session,
            name="lrs-lille",
            endpoint="https://lrs.lille.fr/xAPI/",
            username="u",
            password="p",
            secret="test-secret-key-not-for-production",
        )
    admin = _admin(app)
    _post(admin, "/admin/platforms", "/admin/platforms", {**PLATFORM, "lrs_id": str(lrs_id)})
    assert _platform(app).lrs_id == lrs_id
    detail = f"/admin/platforms/{_platform(app).id}"
    _post(admin, detail, f"{detail}/settings", {"lrs_id": ""})
    assert _platform(app).lrs_id is None
    bad = _post(admin, detail, f"{detail}/settings", {"lrs_id": "999"})
    assert bad.status_code == 400


def test_dynamic_registration_hosts_are_managed_here(app: Flask) -> None:
    from lti_tool.lti.registrations import allowed_registration_hosts

    admin = _admin(app)
    _post(
        admin,
        "/admin/registration-hosts",
        "/admin/registration-hosts",
        {"host": "https://Moodle.Rennes.fr/admin"},
    )
    bad = _post(
        admin, "/admin/registration-hosts", "/admin/registration-hosts", {"host": "not a host"}
    )
    assert bad.status_code == 400
    settings = app.extensions["socle"].settings
    with app.extensions["socle"].database.session() as session:
        assert allowed_registration_hosts(session, settings) == ("moodle.rennes.fr",)
    _post(
        admin,
        "/admin/registration-hosts",
        "/admin/registration-hosts/remove",
        {"host": "moodle.rennes.fr"},
    )
    with app.extensions["socle"].database.session() as session:
        assert session.scalars(select(RegistrationHost)).first() is None
    assert [e.action for e in _audit(app)][-2:] == [
        "registration_host.add",
        "registration_host.remove",
    ]


def test_dead_letters_are_shown_with_the_lrs_answer_and_retried(app: Flask) -> None:
    statements = [
        {"id": f"00000000-0000-4000-8000-00000000000{i}", "actor": {}, "verb": {}, "object": {}}
        for i in range(3)
    ]
    with app.extensions["socle"].database.session() as session, session.begin():
        enqueue(session, statements)
        session.execute(
            update(outbox_table)
            .where(outbox_table.c.statement_id == statements[0]["id"])
            .values(
                status="dead",
                attempts=1,
                last_status_code=400,
                last_error="HTTP 400: actor is invalid",
            )
        )
        session.execute(
            update(outbox_table)
            .where(outbox_table.c.statement_id == statements[1]["id"])
            .values(status="delivered")
        )
    admin = _admin(app)
    page = admin.get("/admin/xapi").get_data(as_text=True)
    assert "HTTP 400: actor is invalid" in page
    assert "data-pending>1<" in page
    assert "data-delivered>1<" in page
    assert "data-dead>1<" in page

    with app.extensions["socle"].database.session() as session:
        dead_id = session.scalars(
            select(outbox_table.c.id).where(outbox_table.c.status == "dead")
        ).one()
    _post(admin, "/admin/xapi", "/admin/xapi/retry", {"id": str(dead_id)})

    with app.extensions["socle"].database.session() as session:
        statuses = sorted(session.scalars(select(outbox_table.c.status)))
    assert statuses == ["delivered", "pending", "pending"]
    assert _audit(app)[-1].action == "xapi.retry"


def test_keys_are_rotated_with_the_publish_delay_and_retired(app: Flask) -> None:
    admin = _admin(app)
    admin.get("/admin/keys")  # creates the first key
    _post(admin, "/admin/keys", "/admin/keys/rotate", {"delay": "3600"})
    socle = app.extensions["socle"]
    with socle.database.session() as session:
        infos = KeyService.from_settings(session, socle.settings).describe()
    assert [i.status for i in infos] == ["active", "next"]
    active, upcoming = infos

    refused = _post(admin, "/admin/keys", "/admin/keys/retire", {"kid": active.kid})
    assert refused.status_code == 400
    assert (
        _post(admin, "/admin/keys", "/admin/keys/retire", {"kid": upcoming.kid}).status_code == 302
    )
    with socle.database.session() as session:
        kids = [i.kid for i in KeyService.from_settings(session, socle.settings).describe()]
    assert kids == [active.kid]
    assert [e.action for e in _audit(app)][-2:] == ["key.rotate", "key.retire"]
    assert _post(admin, "/admin/keys", "/admin/keys/rotate", {"delay": "-5"}).status_code == 400


def test_the_audit_log_is_read_only(app: Flask) -> None:
    admin = _admin(app)
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert 'data-audit-action="sign_in"' in page
    assert '<form method="post"' not in page.split("admin-signout")[1]  # no form but sign-out
    import pytest

    with app.extensions["socle"].database.session() as session:
        entry = session.scalars(select(AuditEntry)).first()
        assert entry is not None
        entry.actor = "someone else"
        with pytest.raises(AuditLogIsReadOnly):
            session.flush()
        session.rollback()
        entry = session.scalars(select(AuditEntry)).first()
        session.delete(entry)
        with pytest.raises(AuditLogIsReadOnly):
            session.flush()


def test_problems_reported_by_agents_are_listed_without_naming_them(app: Flask) -> None:
    from datetime import UTC, datetime

    from lti_tool.models import Attempt, ChallengeReport, LtiContext, LtiUser, ResourceLink

    content = app.extensions["socle"].catalogue.content
    challenge_id = next(iter(content.challenges))
    client = _admin(app)
    _post(client, "/admin/platforms", "/admin/platforms", PLATFORM)
    platform = _platform(app)
    deployment = platform.deployments[0].id
    with app.extensions["socle"].database.session() as session, session.begin():
        user = LtiUser(platform_id=platform.id, sub="agent-secret-sub")
        context = LtiContext(deployment_pk=deployment, context_id="course-1")
        session.add_all([user, context])
        session.flush()
        link = ResourceLink(
            deployment_pk=deployment,
            context_pk=context.id,
            resource_link_id="rl-1",
            parcours_id="socle-commun",
        )
        session.add(link)
        session.flush()
        attempt = Attempt(
            user_pk=user.id,
            resource_link_pk=link.id,
            parcours_id="socle-commun",
            algorithm="socle",
            seed=1,
            started_at=datetime(2026, 3, 2, tzinfo=UTC),
        )
        session.add(attempt)
        session.flush()
        session.add(
            ChallengeReport(
                attempt_id=attempt.id,
                challenge_id=challenge_id,
                parcours_id="socle-commun",
                category="answer",
                message="Ma réponse « 12 Mo » a été refusée",
                created_at=datetime(2026, 3, 2, 10, tzinfo=UTC),
            )
        )
    page = client.get("/admin/problem-reports").get_data(as_text=True)
    assert f'data-problem-report="{challenge_id}"' in page
    assert "Ma réponse « 12 Mo » a été refusée" in page
    assert "right answer refused" in page
    assert "agent-secret-sub" not in page
    assert app.test_client().get("/admin/problem-reports").status_code != 200
    # The platform's organisation report, from the console.
    report = client.get(f"/admin/platforms/{platform.id}/report")
    assert report.status_code == 200
    assert "Rapport de l'organisation" in report.get_data(as_text=True)
    assert client.get("/admin/platforms/999999/report").status_code == 404
