"""Which side of the tool a launch gets, from its LTI roles.

Instructors, content developers and administrators get the teacher side; everyone else,
including unknown or missing roles, the agent (learner) side. Context roles win over
institution roles, as in pylti1p3 (Canvas sends institution roles to students too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pylti1p3.roles import DesignerRole, StaffRole, TeacherRole

TEACHER = "teacher"
LEARNER = "learner"


def side_for(claims: Mapping[str, Any]) -> str:
    body = dict(claims)
    roles = body.get("https://purl.imsglobal.org/spec/lti/claim/roles")
    if not isinstance(roles, list):
        body["https://purl.imsglobal.org/spec/lti/claim/roles"] = []
    # pylti1p3.roles is untyped
    teacher = TeacherRole(body).check() or DesignerRole(body).check()  # type: ignore[no-untyped-call]
    if teacher:
        return TEACHER
    staff = StaffRole(body)  # type: ignore[no-untyped-call]
    parsed = [
        staff.parse_role_str(r) for r in body["https://purl.imsglobal.org/spec/lti/claim/roles"]
    ]
    has_context_role = any(kind == "membership" for _name, kind in parsed)
    if not has_context_role and any(
        name in {"Administrator", "SysAdmin"} and kind in {"system", "institution"}
        for name, kind in parsed
    ):
        return TEACHER
    return LEARNER
