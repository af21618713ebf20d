"""The content the web layer shows: parcours summaries for the catalogue and start pages.

Content is loaded once at start-up (invalid content refuses to start, with every problem as
``path:line: message``) and is read-only afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lti_tool.domain.framework import Content, Parcours, ParcoursGroup

#: The order in which the deep-linking catalogue shows the groups of parcours.
GROUP_ORDER: tuple[ParcoursGroup, ...] = (
    ParcoursGroup.SOCLE_COMMUN,
    ParcoursGroup.METIERS,
    ParcoursGroup.THEMATIQUES,
)


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
    group: ParcoursGroup = ParcoursGroup.THEMATIQUES
    #: (code, title) of each competence measured, in framework order.
    competences: tuple[tuple[str, str], ...] = ()
    #: Median number of challenges of the measured attempts (``socle simulate --durations``).
    expected_challenges: int | None = None
    #: Language of the title and description shown (French when no translation exists).
    lang: str = "fr"


@dataclass(frozen=True)
class CatalogueGroup:
    """One group of the deep-linking catalogue and its parcours, by title."""

    group: ParcoursGroup
    parcours: tuple[ParcoursSummary, ...]


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
        ordered = tuple(sorted(codes, key=lambda c: tuple(map(int, c.split(".")))))
        english = locale.lower().startswith("en") and parcours.title.en is not None
        return ParcoursSummary(
            id=parcours.id,
            title=parcours.title.get(locale),
            description=parcours.description.get(locale) if parcours.description else "",
            audience=parcours.audience.get(locale) if parcours.audience else "",
            duration=parcours.duration,
            competence_codes=ordered,
            skill_count=len(self.content.skills_of_parcours(parcours.id)),
            self_assessment=parcours.self_assessment,
            group=parcours.group,
            competences=tuple(
                (code, self.content.competences[code].title.get(locale)) for code in ordered
            ),
            expected_challenges=parcours.expected_challenges,
            lang="en" if english else "fr",
        )

    def summaries(self, locale: str) -> list[ParcoursSummary]:
        return [
            self._summary(p, locale)
            for p in sorted(self.content.parcours.values(), key=lambda p: p.title.get(locale))
        ]

    def groups(self, locale: str) -> list[CatalogueGroup]:
        """Parcours by group (socle commun, métiers, thématiques), each by title; empty
        groups are left out."""
        summaries = self.summaries(locale)
        result = []
        for group in GROUP_ORDER:
            members = tuple(s for s in summaries if s.group is group)
            if members:
                result.append(CatalogueGroup(group, members))
        return result

    def summary(self, parcours_id: str | None, locale: str) -> ParcoursSummary | None:
        parcours = self.content.parcours.get(parcours_id or "")
        return self._summary(parcours, locale) if parcours else None


def load_catalogue(content_dir: Path) -> Catalogue:
    """Load and validate ``content_dir``; raises the loader's ``ContentError`` when invalid."""
    from lti_tool.content.loader import load_content

    return Catalogue(load_content(content_dir))
