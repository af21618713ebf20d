"""Every route of the tool with the parameters it reads, taken from its view and templates.

``test_every_route_is_fuzzed`` compares this table with ``app.url_map``: a new route, or a
new method on one, fails the suite until it gets a line here (and so gets fuzzed).
"""

from __future__ import annotations

from typing import Any

from tests.fuzz.strategies import RouteParams

LOGIN = (
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "client_id",
    "lti_deployment_id",
)


def _login_known() -> dict[str, Any]:
    return {
        "iss": lambda w: [w.platform.issuer, w.platform.issuer + "/"],
        "login_hint": lambda w: ["user-hint"],
        "target_link_uri": lambda w: ["http://localhost/lti/launch", "http://evil.example/x"],
        "lti_message_hint": lambda w: ["hint"],
        "client_id": lambda w: [w.platform.client_id],
        "lti_deployment_id": lambda w: [w.platform.deployment_id, "unknown-deployment"],
    }


# The page token of a learner's launch first, then of an anonymous learner, a teacher and a
# deep-linking launch (``World.tokens``); teacher and deep-linking pages want theirs first.
TOKEN: dict[str, Any] = {"lt": lambda w: w.tokens}
TEACHER_TOKEN: dict[str, Any] = {"lt": lambda w: [w.tokens[2], *w.tokens]}
DEEP_LINKING_TOKEN: dict[str, Any] = {"lt": lambda w: [w.tokens[3], *w.tokens]}
ANSWERED = lambda w: [str(w.seq - 1), "0", "-1", str(w.seq), "99"]  # noqa: E731
SEQ = lambda w: [str(w.seq), "0", "1", "2", "3", str(w.seq + 1)]  # noqa: E731

# The admin console, fuzzed without a session: every page must send to the sign-in (302),
# every POST must fail its CSRF check (400) and change nothing.
PLATFORM_ID = {"platform_id": lambda w: ["1", "999"]}
USER_ID = {"user_id": lambda w: ["1", "999"]}
ADMIN_FORM = ("csrf_token",)
ADMIN_ROUTES: dict[tuple[str, str], RouteParams] = {
    ("/admin/", "GET"): RouteParams(),
    ("/admin/login", "GET"): RouteParams(("expired",), {"expired": lambda w: ["1"]}),
    ("/admin/login/oidc", "GET"): RouteParams(),
    ("/admin/callback", "GET"): RouteParams(
        ("code", "state", "iss", "error"), {"state": lambda w: ["s"], "code": lambda w: ["c"]}
    ),
    ("/admin/link/<secret>", "GET"): RouteParams(path={"secret": lambda w: ["a" * 43]}),
    ("/admin/link/<secret>", "POST"): RouteParams(
        ADMIN_FORM, path={"secret": lambda w: ["a" * 43]}
    ),
    ("/admin/logout", "POST"): RouteParams(ADMIN_FORM),
    ("/admin/signed-out", "GET"): RouteParams(),
    ("/admin/platforms", "GET"): RouteParams(),
    ("/admin/platforms", "POST"): RouteParams(
        (*ADMIN_FORM, "issuer", "client_id", "auth_login_url", "auth_token_url",
         "key_set_url", "deployment_ids", "name", "lrs_id", "store_personal_data")
    ),
    ("/admin/platforms/<int:platform_id>", "GET"): RouteParams(path=PLATFORM_ID),
    ("/admin/platforms/<int:platform_id>/settings", "POST"): RouteParams(
        (*ADMIN_FORM, "store_personal_data", "lrs_id"), path=PLATFORM_ID
    ),
    ("/admin/platforms/<int:platform_id>/deployments", "POST"): RouteParams(
        (*ADMIN_FORM, "deployment_id"), path=PLATFORM_ID
    ),
    ("/admin/platforms/<int:platform_id>/deployments/remove", "POST"): RouteParams(
        (*ADMIN_FORM, "deployment_id"), path=PLATFORM_ID
    ),
    ("/admin/platforms/<int:platform_id>/remove", "POST"): RouteParams(
        (*ADMIN_FORM, "confirm"), path=PLATFORM_ID
    ),
    ("/admin/registration-hosts", "GET"): RouteParams(),
    ("/admin/registration-hosts", "POST"): RouteParams((*ADMIN_FORM, "host")),
    ("/admin/registration-hosts/remove", "POST"): RouteParams((*ADMIN_FORM, "host")),
    ("/admin/xapi", "GET"): RouteParams(),
    ("/admin/xapi/retry", "POST"): RouteParams((*ADMIN_FORM, "id")),
    ("/admin/keys", "GET"): RouteParams(),
    ("/admin/keys/rotate", "POST"): RouteParams((*ADMIN_FORM, "delay")),
    ("/admin/keys/retire", "POST"): RouteParams((*ADMIN_FORM, "kid")),
    ("/admin/audit", "GET"): RouteParams(("page",), {"page": lambda w: ["1", "2", "-1"]}),
    ("/admin/problem-reports", "GET"): RouteParams(),
    ("/admin/platforms/<int:platform_id>/report", "GET"): RouteParams(path=PLATFORM_ID),
    ("/admin/agents", "GET"): RouteParams(("platform", "sub", "email")),
    ("/admin/agents/<int:user_id>", "GET"): RouteParams(path=USER_ID),
    ("/admin/agents/<int:user_id>/export.<fmt>", "GET"): RouteParams(
        path={**USER_ID, "fmt": lambda w: ["json", "csv", "xml"]}
    ),
    ("/admin/agents/<int:user_id>/erase", "POST"): RouteParams(
        (*ADMIN_FORM, "confirm"), path=USER_ID
    ),
}

TOOL_ROUTES: dict[tuple[str, str], RouteParams] = {
    ("/", "GET"): RouteParams(),
    ("/healthz", "GET"): RouteParams(),
    ("/readyz", "GET"): RouteParams(),
    ("/metrics", "GET"): RouteParams(),
    ("/lti/login", "GET"): RouteParams(LOGIN, _login_known()),
    ("/lti/login", "POST"): RouteParams(LOGIN, _login_known()),
    ("/lti/launch", "POST"): RouteParams(
        ("id_token", "state", "lti_storage_target", "utf8"),
        {"id_token": lambda w: w.id_tokens, "state": lambda w: [w.state]},
    ),
    ("/lti/jwks", "GET"): RouteParams(),
    ("/lti/register", "GET"): RouteParams(
        ("openid_configuration", "registration_token"),
        {"openid_configuration": lambda w: [w.platform.issuer + "/openid-configuration"]},
    ),
    ("/activity", "GET"): RouteParams(("lt",), TOKEN),
    ("/activity/report", "GET"): RouteParams(
        ("lt", "format", "family", "category", "status", "stage", "sort", "code", "desc", "page"),
        {
            **TEACHER_TOKEN,
            "format": lambda w: ["csv", "xlsx", "html"],
            "family": lambda w: w.job_profiles,
            "category": lambda w: ["A", "B", "C", "contractuel"],
            "status": lambda w: ["not_started", "in_progress", "finished"],
            "stage": lambda w: ["1", "2", "0", "-1"],
            "sort": lambda w: ["agent", "status", "mastery", "last_activity", "gap"],
            "code": lambda w: ["1.1", "4.1"],
            "desc": lambda w: ["1"],
            "page": lambda w: ["1", "2", "0", "99"],
        },
    ),
    ("/activity/report/agent", "GET"): RouteParams(
        ("lt", "agent"), {**TEACHER_TOKEN, "agent": lambda w: ["agent-7f3a", "unknown"]}
    ),
    ("/activity/report/export", "GET"): RouteParams(
        ("lt", "format", "content", "by"),
        {
            **TEACHER_TOKEN,
            "format": lambda w: ["csv", "xlsx"],
            "content": lambda w: ["agents", "plan"],
            "by": lambda w: ["competence", "theme"],
        },
    ),
    ("/organisation/report", "GET"): RouteParams(("lt",), TEACHER_TOKEN),
    ("/organisation/report/export", "GET"): RouteParams(
        ("lt", "format"), {**TEACHER_TOKEN, "format": lambda w: ["csv", "xlsx"]}
    ),
    ("/deep-linking", "GET"): RouteParams(("lt",), DEEP_LINKING_TOKEN),
    ("/deep-linking", "POST"): RouteParams(
        ("lt", "parcours"), {**DEEP_LINKING_TOKEN, "parcours": lambda w: w.parcours_ids}
    ),
    ("/play/start", "POST"): RouteParams(
        ("lt", "job_profile", "category", "new"),
        {
            **TOKEN,
            "job_profile": lambda w: w.job_profiles,
            "category": lambda w: ["A", "B", "C", "contractuel"],
            "new": lambda w: ["1", "0"],
        },
    ),
    ("/play/self-assessment", "GET"): RouteParams(("lt",), TOKEN),
    ("/play/self-assessment", "POST"): RouteParams(
        ("lt", "action", "area.1", "area.2", "area.3", "area.4", "area.5"),
        {
            **TOKEN,
            "action": lambda w: ["validate", "skip"],
            **{f"area.{n}": (lambda w: ["1", "2", "3", "4"]) for n in range(1, 6)},
        },
    ),
    ("/play", "GET"): RouteParams(("lt",), TOKEN),
    ("/play/timer", "POST"): RouteParams(
        ("lt", "challenge_id"), {**TOKEN, "challenge_id": lambda w: w.challenge_ids}
    ),
    ("/play/answer", "POST"): RouteParams(
        (
            "lt",
            "challenge_id",
            "seq",
            "action",
            "answer",
            "answer.1",
            "answer.2",
            "answer.a",
            "answer.b",
        ),
        {
            **TOKEN,
            "challenge_id": lambda w: w.challenge_ids,
            "seq": SEQ,
            "action": lambda w: ["validate", "skip", "timeout"],
            "answer": lambda w: ["1", "2", "3", "oui", "42", "3,5"],
        },
        more_names=lambda w: w.answer_names,
    ),
    ("/play/feedback", "GET"): RouteParams(("lt", "seq"), {**TOKEN, "seq": ANSWERED}),
    ("/play/checkpoint", "GET"): RouteParams(("lt", "upto"), {**TOKEN, "upto": ANSWERED}),
    ("/play/results", "GET"): RouteParams(("lt",), TOKEN),
    ("/play/restart", "GET"): RouteParams(("lt",), TOKEN),
    ("/play/report", "POST"): RouteParams(
        ("lt", "challenge_id", "category", "message"),
        {
            **TOKEN,
            "challenge_id": lambda w: w.challenge_ids,
            "category": lambda w: ["answer", "unclear", "file", "error", "other"],
        },
    ),
    ("/attachments/<path:name>", "GET"): RouteParams(
        ("download",),
        {"download": lambda w: ["1", "0"]},
        path={"name": lambda w: w.attachments},
    ),
    ("/xapi/profile.jsonld", "GET"): RouteParams(),
    ("/xapi/<path:rest>", "GET"): RouteParams(
        path={"rest": lambda w: w.xapi_paths},
    ),
    ("/static/<path:filename>", "GET"): RouteParams(
        ("v",), path={"filename": lambda w: ["css/socle.css", "js/player.js", "img/socle.svg"]}
    ),
    ("/confidentialite", "GET"): RouteParams(("lang",), {"lang": lambda w: ["fr", "en", "de"]}),
    **ADMIN_ROUTES,
}
