"""AGS and NRPS service hooks of lti1p3platform, backed by the demo LMS store.

The library routes, authenticates and shapes responses; these classes answer its hooks and
validate what the tool sends, which the library leaves to the platform (it stores any JSON as
a score). Validation errors raise `LtiServiceException(…, 400)`, which the library turns into a
JSON error response.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeGuard

from lti1p3platform.exceptions import LineItemNotFoundException, LtiServiceException
from lti1p3platform.membership import Context
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import (
    AssignmentsGradesService,
    NamesRoleProvisioningService,
    TPage,
)
from typing_extensions import override

from .config import (
    COURSE,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    USERS,
    USERS_BY_SUB,
    LmsUrls,
)
from .platform import DemoPlatformConf, FlaskRequest
from .store import DemoLmsStore, LineItem, NotFoundError, Score, parse_timestamp

ACTIVITY_PROGRESS = frozenset({"Initialized", "Started", "InProgress", "Submitted", "Completed"})
GRADING_PROGRESS = frozenset({"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"})


def _bad_request(message: str) -> LtiServiceException:
    return LtiServiceException(message, 400)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _bad_request(f"{key} must be a string")
    return value


def _optional_timestamp(data: Mapping[str, Any], key: str) -> str | None:
    value = _optional_str(data, key)
    if value is not None:
        try:
            parse_timestamp(value)
        except ValueError as exc:
            raise _bad_request(f"{key} must be an ISO 8601 timestamp with offset") from exc
    return value


def paginate(items: Sequence[Any], page: int, limit: int | None) -> TPage:
    """One page of `items`; without `limit` everything fits on the first page."""
    if limit is None:
        return {"content": list(items), "has_next": False, "next": None}
    start = (page - 1) * limit
    return {
        "content": list(items[start : start + limit]),
        "has_next": start + limit < len(items),
        "next": None,
    }


class DemoAgsService(AssignmentsGradesService):  # type: ignore[misc]
    """Line items, scores and results of the one demo course."""

    def __init__(
        self,
        request: FlaskRequest,
        platform_config: DemoPlatformConf,
        *,
        store: DemoLmsStore,
        urls: LmsUrls,
        line_item_id: str | None = None,
    ) -> None:
        super().__init__(
            request,
            platform_config,
            urls.lineitems,
            urls.lineitem(line_item_id) if line_item_id else None,
        )
        self._store = store
        self._urls = urls

    @property
    @override
    def allowed_scopes(self) -> list[str]:
        """Every AGS scope, read-only ones included.

        The library derives the accepted scopes from the launch claim, which offers
        `lineitem`, so it would refuse a token granted `lineitem.readonly`; the view has already
        required the exact scope of the operation.
        """
        return [SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE]

    def line_item_json(self, item: LineItem) -> dict[str, Any]:
        """AGS JSON of a line item; its `id` is its URL, as the specification requires."""
        data: dict[str, Any] = {
            "id": self._urls.lineitem(item.id),
            "label": item.label,
            "scoreMaximum": item.score_maximum,
        }
        optional = {
            "resourceLinkId": item.resource_link_id,
            "resourceId": item.resource_id,
            "tag": item.tag,
            "startDateTime": item.start_date_time,
            "endDateTime": item.end_date_time,
            "gradesReleased": item.grades_released,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        return data

    def _parse_line_item(self, data: Any, line_item_id: str) -> LineItem:
        if not isinstance(data, dict):
            raise _bad_request("a line item must be a JSON object")
        label = data.get("label")
        if not isinstance(label, str) or not label.strip():
            raise _bad_request("label is required")
        score_maximum = data.get("scoreMaximum")
        if not _is_number(score_maximum) or score_maximum <= 0:
            raise _bad_request("scoreMaximum must be a number greater than 0")
        resource_link_id = _optional_str(data, "resourceLinkId")
        if (
            resource_link_id is not None
            and self._store.activity_by_resource_link(resource_link_id) is None
        ):
            raise _bad_request("resourceLinkId is not a resource link of this course")
        grades_released = data.get("gradesReleased")
        if grades_released is not None and not isinstance(grades_released, bool):
            raise _bad_request("gradesReleased must be a boolean")
        return LineItem(
            id=line_item_id,
            label=label,
            score_maximum=float(score_maximum),
            resource_link_id=resource_link_id,
            resource_id=_optional_str(data, "resourceId"),
            tag=_optional_str(data, "tag"),
            start_date_time=_optional_timestamp(data, "startDateTime"),
            end_date_time=_optional_timestamp(data, "endDateTime"),
            grades_released=grades_released,
        )

    @override
    def find_lineitems(
        self,
        page: int = 1,
        limit: int | None = None,
        line_item_id: str | None = None,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
    ) -> TPage:
        items = [
            item
            for item in self._store.line_items()
            if (resource_link_id is None or item.resource_link_id == resource_link_id)
            and (resource_id is None or item.resource_id == resource_id)
            and (tag is None or item.tag == tag)
            and (line_item_id is None or item.id == line_item_id)
        ]
        return paginate([self.line_item_json(item) for item in items], page, limit)

    @override
    def find_lineitem(self, line_item_id: str) -> dict[str, Any]:
        try:
            return self.line_item_json(self._store.line_item(line_item_id))
        except NotFoundError as exc:
            raise LineItemNotFoundException(line_item_id) from exc

    @override
    def create_lineitem(self, creation_data: Any) -> dict[str, Any]:
        item = self._parse_line_item(creation_data, secrets.token_hex(8))
        self._store.save_line_item(item, must_exist=False)
        return self.line_item_json(item)

    @override
    def update_lineitem(self, update_data: Any) -> dict[str, Any]:
        item = self._parse_line_item(update_data, str(update_data["id"]))
        try:
            self._store.save_line_item(item, must_exist=True)
        except NotFoundError as exc:
            raise LineItemNotFoundException(item.id) from exc
        return self.line_item_json(item)

    @override
    def delete_lineitem(self, line_item_id: str) -> None:
        try:
            self._store.delete_line_item(line_item_id)
        except NotFoundError as exc:
            raise LineItemNotFoundException(line_item_id) from exc

    @override
    def update_score(self, line_item_id: str, score: Any) -> UpdateScoreStatus:
        parsed = parse_score(score)
        try:
            outcome = self._store.record_score(line_item_id, parsed)
        except NotFoundError as exc:
            raise LineItemNotFoundException(line_item_id) from exc
        return {
            "created": UpdateScoreStatus.CREATED,
            "updated": UpdateScoreStatus.SUCCESS,
            "stale": UpdateScoreStatus.OLD_TIMESTAMP,
        }[outcome]

    @override
    def get_results(
        self,
        line_item_id: str,
        page: int = 1,
        limit: int | None = None,
        user_id: str | None = None,
    ) -> TPage:
        try:
            item = self._store.line_item(line_item_id)
        except NotFoundError as exc:
            raise LineItemNotFoundException(line_item_id) from exc
        line_item_url = self._urls.lineitem(line_item_id)
        results = [
            result_json(line_item_url, item, score)
            for user, score in sorted(self._store.scores(line_item_id).items())
            if user_id is None or user == user_id
        ]
        return paginate(results, page, limit)


def parse_score(data: Any) -> Score:
    """Validate an AGS score (AGS 2.0 §3.4) sent by the tool."""
    if not isinstance(data, dict):
        raise _bad_request("a score must be a JSON object")
    user_id = data.get("userId")
    if not isinstance(user_id, str) or user_id not in USERS_BY_SUB:
        raise _bad_request("userId is not a member of this course")
    if data.get("activityProgress") not in ACTIVITY_PROGRESS:
        raise _bad_request(f"activityProgress must be one of {sorted(ACTIVITY_PROGRESS)}")
    if data.get("gradingProgress") not in GRADING_PROGRESS:
        raise _bad_request(f"gradingProgress must be one of {sorted(GRADING_PROGRESS)}")
    timestamp = data.get("timestamp")
    try:
        if not isinstance(timestamp, str):
            raise ValueError(timestamp)
        parse_timestamp(timestamp)
    except ValueError as exc:
        raise _bad_request("timestamp must be an ISO 8601 timestamp with offset") from exc
    score_given = data.get("scoreGiven")
    score_maximum = data.get("scoreMaximum")
    if score_given is not None:
        if not _is_number(score_given) or score_given < 0:
            raise _bad_request("scoreGiven must be a number ≥ 0")
        if not _is_number(score_maximum) or score_maximum <= 0:
            raise _bad_request("scoreMaximum must be a number > 0 when scoreGiven is sent")
    elif score_maximum is not None and (not _is_number(score_maximum) or score_maximum <= 0):
        raise _bad_request("scoreMaximum must be a number > 0")
    return Score(
        user_id=user_id,
        activity_progress=str(data["activityProgress"]),
        grading_progress=str(data["gradingProgress"]),
        timestamp=timestamp,
        received_at=datetime.now(UTC).isoformat(timespec="seconds"),
        score_given=None if score_given is None else float(score_given),
        score_maximum=None if score_maximum is None else float(score_maximum),
        comment=_optional_str(data, "comment"),
    )


def gradebook_score(item: LineItem, score: Score) -> float | None:
    """The value the gradebook shows, on the line item's scale.

    Like Moodle, a score counts only once `gradingProgress` is `FullyGraded`; before that the
    LMS records progress without a grade.
    """
    if score.grading_progress != "FullyGraded" or score.score_given is None:
        return None
    if not score.score_maximum:
        return None
    return score.score_given / score.score_maximum * item.score_maximum


def result_json(line_item_url: str, item: LineItem, score: Score) -> dict[str, Any]:
    """AGS result JSON (AGS 2.0 §3.3) for one user's latest score."""
    data: dict[str, Any] = {
        "id": f"{line_item_url}/results/{score.user_id}",
        "scoreOf": line_item_url,
        "userId": score.user_id,
        "resultMaximum": item.score_maximum,
    }
    value = gradebook_score(item, score)
    if value is not None:
        data["resultScore"] = value
    if score.comment is not None:
        data["comment"] = score.comment
    return data


class DemoNrpsService(NamesRoleProvisioningService):  # type: ignore[misc]
    """Memberships of the demo course: the teacher and the agent."""

    def __init__(
        self,
        request: FlaskRequest,
        platform_config: DemoPlatformConf,
        *,
        store: DemoLmsStore,
        urls: LmsUrls,
    ) -> None:
        super().__init__(request, platform_config, urls.memberships)
        self._store = store

    @override
    def get_context_by_id(self) -> Context:
        return Context(id=COURSE.id, label=COURSE.label, title=COURSE.title)

    @override
    def is_resource_link_valid(self, context_id: str, resource_link_id: str) -> bool:
        return (
            context_id == COURSE.id
            and self._store.activity_by_resource_link(resource_link_id) is not None
        )

    @override
    def get_member_data_page(
        self,
        page: int = 1,
        limit: int | None = None,
        role: str | None = None,
        since: str | None = None,
        rlid: str | None = None,
    ) -> TPage:
        members = [
            {
                "user_id": user.sub,
                "roles": [user.role],
                "status": "Active",
                "name": user.name,
                "given_name": user.given_name,
                "family_name": user.family_name,
                "email": user.email,
            }
            for user in USERS.values()
            if role is None or user.role == role or user.role.endswith(f"#{role}")
        ]
        return paginate(members, page, limit)
