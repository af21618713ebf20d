"""Turn the `ltiResourceLink` returned by the tool into a course activity and line item.

The signature and claims are checked in `platform.DemoPlatformConf.verify_deep_link_response`;
this module checks the content item itself, which lti1p3platform stores without looking.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from .config import ToolEndpoints
from .platform import MessageRejectedError
from .store import Activity, LineItem

DEFAULT_TITLE = "Activité Socle"
MAX_TITLE_LENGTH = 200


def _reject(reason: str, message_fr: str) -> MessageRejectedError:
    return MessageRejectedError(reason, message_fr)


def _optional_str(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise _reject(f"{key} must be a string", f"le champ {key} doit être un texte")
    return value


def _custom(item: Mapping[str, Any]) -> dict[str, str]:
    """Custom parameters are string to string in LTI; anything else is a tool bug to report."""
    custom = item.get("custom", {})
    if not isinstance(custom, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in custom.items()
    ):
        raise _reject(
            "custom must map strings to strings",
            "les paramètres personnalisés (custom) doivent être des textes",
        )
    return dict(custom)


def _url(item: Mapping[str, Any], tool: ToolEndpoints) -> str | None:
    """A launch URL must point at the registered tool, never at another site."""
    url = _optional_str(item, "url")
    if url is None:
        return None
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != tool.origin:
        raise _reject(
            "url is not on the tool's origin",
            f"l'adresse de lancement {url} n'appartient pas à l'outil enregistré",
        )
    return url


def _line_item(item: Mapping[str, Any], title: str, resource_link_id: str) -> LineItem | None:
    data = item.get("lineItem")
    if data is None:
        return None
    if not isinstance(data, dict):
        raise _reject("lineItem must be an object", "la colonne de notes (lineItem) est invalide")
    score_maximum = data.get("scoreMaximum")
    if (
        not isinstance(score_maximum, int | float)
        or isinstance(score_maximum, bool)
        or score_maximum <= 0
    ):
        raise _reject(
            "lineItem.scoreMaximum must be a number greater than 0",
            "la note maximale (lineItem.scoreMaximum) doit être un nombre positif",
        )
    grades_released = data.get("gradesReleased")
    if grades_released is not None and not isinstance(grades_released, bool):
        raise _reject(
            "lineItem.gradesReleased must be a boolean",
            "lineItem.gradesReleased doit valoir true ou false",
        )
    return LineItem(
        id=secrets.token_hex(8),
        label=_optional_str(data, "label") or title,
        score_maximum=float(score_maximum),
        resource_link_id=resource_link_id,
        resource_id=_optional_str(data, "resourceId"),
        tag=_optional_str(data, "tag"),
        grades_released=grades_released,
    )


def activity_from_content_item(
    item: Mapping[str, Any], tool: ToolEndpoints
) -> tuple[Activity, LineItem | None]:
    """Build the activity (with a fresh resource link id) and its optional line item."""
    if item.get("type") != "ltiResourceLink":
        raise _reject(
            "only ltiResourceLink items are accepted",
            "seuls les liens d'activité LTI (ltiResourceLink) sont acceptés",
        )
    title = (_optional_str(item, "title") or "").strip() or DEFAULT_TITLE
    if len(title) > MAX_TITLE_LENGTH:
        raise _reject("title too long", f"le titre dépasse {MAX_TITLE_LENGTH} caractères")
    resource_link_id = str(uuid.uuid4())
    line_item = _line_item(item, title, resource_link_id)
    window_only = "window" in item and "iframe" not in item
    activity = Activity(
        id=secrets.token_hex(6),
        resource_link_id=resource_link_id,
        title=title,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        text=_optional_str(item, "text"),
        url=_url(item, tool),
        custom=_custom(item),
        line_item_id=None if line_item is None else line_item.id,
        document_target="window" if window_only else "iframe",
    )
    return activity, line_item
