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

TOOL_ROUTES: dict[tuple[str, str], RouteParams] = {
    ("/", "GET"): RouteParams(),
    ("/healthz", "GET"): RouteParams(),
    ("/readyz", "GET"): RouteParams(),
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
        ("lt", "format"), {**TEACHER_TOKEN, "format": lambda w: ["csv", "html"]}
    ),
    ("/deep-linking", "GET"): RouteParams(("lt",), DEEP_LINKING_TOKEN),
    ("/deep-linking", "POST"): RouteParams(
        ("lt", "parcours"), {**DEEP_LINKING_TOKEN, "parcours": lambda w: w.parcours_ids}
    ),
    ("/play/start", "POST"): RouteParams(
        ("lt", "job_profile", "new"),
        {**TOKEN, "job_profile": lambda w: w.job_profiles, "new": lambda w: ["1", "0"]},
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
            "action": lambda w: ["validate", "skip"],
            "answer": lambda w: ["1", "2", "3", "oui", "42", "3,5"],
        },
        more_names=lambda w: w.answer_names,
    ),
    ("/play/feedback", "GET"): RouteParams(("lt", "seq"), {**TOKEN, "seq": ANSWERED}),
    ("/play/checkpoint", "GET"): RouteParams(("lt", "upto"), {**TOKEN, "upto": ANSWERED}),
    ("/play/results", "GET"): RouteParams(("lt",), TOKEN),
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
}
