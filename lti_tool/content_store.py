"""The content the web layer shows: parcours summaries for the catalogue and start pages.

Content is loaded once at start-up (invalid content refuses to start, with every problem as
``path:line: message``) and is read-only afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lti_tool.domain.framework import Content, Parcours


@dataclass(frozen=True)
class ParcoursSummary:
    id: str
    title: str
    description: str
    audience: str
    duration: int | None
    competence_codes: tuple[str, ...]
    skill_count: int
    self_assessment: bool


class Catalogue:
    """Read-only view of the loaded content for pages and deep linking."""

    def __init__(self, content: Content) -> None:
        self.content = content

    def _summary(self, parcours: Parcours, locale: str) -> ParcoursSummary:
        codes: list[str] = []
        for target in parcours.tubes:
            tube = self.content.tubes[target.tube_id]
            if tube.competence_code not in codes:
                codes.append(tube.competence_code)
        return ParcoursSummary(
            id=parcours.id,
            title=parcours.title.get(locale),
            description=parcours.description.get(locale) if parcours.description else "",
            audience=parcours.audience.get(locale) if parcours.audience else "",
            duration=parcours.duration,
            competence_codes=tuple(sorted(codes, key=lambda c: tuple(map(int, c.split("."))))),
            skill_count=len(self.content.skills_of_parcours(parcours.id)),
            self_assessment=parcours.self_assessment,
        )

    def summaries(self, locale: str) -> list[ParcoursSummary]:
        return [
            self._summary(p, locale)
            for p in sorted(self.content.parcours.values(), key=lambda p: p.title.get(locale))
        ]

    def summary(self, parcours_id: str | None, locale: str) -> ParcoursSummary | None:
        parcours = self.content.parcours.get(parcours_id or "")
        return self._summary(parcours, locale) if parcours else None


def load_catalogue(content_dir: Path) -> Catalogue:
    """Load and validate ``content_dir``; raises the loader's ``ContentError`` when invalid."""
    from lti_tool.content.loader import load_content

    return Catalogue(load_content(content_dir))
