"""Training themes of the content (``training-themes.yaml``): what a training service offers,
tied to the competences and tubes it works on.

Optional: a content without the file has no themes, and the reports then point at tutorials
only. Read once with the content; an unknown competence or tube is an error naming the file,
as ``socle content lint`` does for the rest of the content.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lti_tool.domain.framework import Content
from lti_tool.reports.analysis import TrainingTheme

THEMES_FILE = "training-themes.yaml"


class ThemesError(ValueError):
    """The themes file is not what the format says."""


def _text(value: Any, locale: str) -> str:
    if isinstance(value, dict):
        return str(value.get(locale) or value.get("fr") or "")
    return "" if value is None else str(value)


def load_themes(content_dir: Path, content: Content, locale: str = "fr") -> list[TrainingTheme]:
    path = content_dir / THEMES_FILE
    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise ThemesError(f"{path}: a list of themes is expected")
    themes: list[TrainingTheme] = []
    seen: set[str] = set()
    for index, item in enumerate(data, start=1):
        where = f"{path}: theme {index}"
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise ThemesError(f"{where}: each theme needs an id")
        if item["id"] in seen:
            raise ThemesError(f"{where}: id {item['id']!r} is used twice")
        seen.add(item["id"])
        codes = tuple(str(code) for code in item.get("competences") or ())
        tubes = tuple(str(tube) for tube in item.get("tubes") or ())
        unknown = [c for c in codes if c not in content.competences]
        unknown += [t for t in tubes if t not in content.tubes]
        if unknown:
            raise ThemesError(f"{where} ({item['id']}): unknown competence or tube {unknown}")
        if not codes and not tubes:
            raise ThemesError(f"{where} ({item['id']}): give competences or tubes")
        themes.append(
            TrainingTheme(
                id=item["id"],
                title=_text(item.get("title"), locale) or item["id"],
                competence_codes=codes,
                tube_ids=tubes,
                description=_text(item.get("description"), locale),
                url=str(item["url"]) if item.get("url") else None,
            )
        )
    return themes
