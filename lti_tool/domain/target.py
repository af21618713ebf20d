"""The measurable target of a parcours, as the adaptive engine and scoring see it.

A ``ParcoursView`` resolves a parcours once against the content: its competences (framework
order), their target tubes, the target skills (levels up to each tube's ``max_level``) and the
challenges that may be served for them. Algorithms and scoring work on views only, so they
never have to re-walk the content on each answer.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

from lti_tool.domain.framework import Challenge, Content, Parcours, Skill, Tube


@dataclass(frozen=True, slots=True)
class TubeTarget:
    """A tube of the parcours with its target skills (sorted by level)."""

    tube: Tube
    max_level: int
    skills: tuple[Skill, ...]


@dataclass(frozen=True, slots=True)
class CompetenceTarget:
    """A competence of the parcours: its tubes and the highest level it can reach here.

    ``max_level`` is the highest ``max_level`` of its tubes: the parcours cannot certify a
    level it does not measure, so scoring caps the competence level there.
    """

    code: str
    max_level: int
    tubes: tuple[TubeTarget, ...]

    @property
    def skills(self) -> tuple[Skill, ...]:
        """All target skills of the competence, tube by tube."""
        return tuple(skill for tube in self.tubes for skill in tube.skills)


@dataclass(frozen=True, eq=False)
class ParcoursView:
    """A parcours resolved against the content. Immutable; compared by identity.

    Identity equality lets algorithms memoise per-view precomputations in weak dictionaries.
    """

    parcours: Parcours
    competences: tuple[CompetenceTarget, ...]
    skills: Mapping[str, Skill] = field(init=False, repr=False)
    challenges: Mapping[str, Challenge] = field(init=False, repr=False)
    competence_of_skill: Mapping[str, str] = field(init=False, repr=False)
    tube_of_skill: Mapping[str, TubeTarget] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        skills: dict[str, Skill] = {}
        challenges: dict[str, Challenge] = {}
        competence_of_skill: dict[str, str] = {}
        tube_of_skill: dict[str, TubeTarget] = {}
        for competence in self.competences:
            for tube in competence.tubes:
                for skill in tube.skills:
                    skills[skill.id] = skill
                    competence_of_skill[skill.id] = competence.code
                    tube_of_skill[skill.id] = tube
                    for challenge in skill.served_challenges:
                        challenges[challenge.id] = challenge
        object.__setattr__(self, "skills", skills)
        object.__setattr__(self, "challenges", challenges)
        object.__setattr__(self, "competence_of_skill", competence_of_skill)
        object.__setattr__(self, "tube_of_skill", tube_of_skill)

    @property
    def id(self) -> str:
        """The parcours id."""
        return self.parcours.id

    def competence(self, code: str) -> CompetenceTarget:
        """The target of one competence (``KeyError`` if the parcours does not measure it)."""
        for competence in self.competences:
            if competence.code == code:
                return competence
        raise KeyError(code)


def build_parcours_view(content: Content, parcours: Parcours) -> ParcoursView:
    """Resolve ``parcours`` against ``content`` (the loader guarantees references exist).

    Competences come in framework order; tubes of a competence in the parcours' order.
    Several entries for the same tube keep the highest ``max_level``.
    """
    max_by_tube: dict[str, int] = {}
    for target in parcours.tubes:
        max_by_tube[target.tube_id] = max(target.max_level, max_by_tube.get(target.tube_id, 0))
    tubes_by_competence: dict[str, list[TubeTarget]] = {}
    for tube_id, max_level in max_by_tube.items():
        tube = content.tubes[tube_id]
        skills = tuple(
            sorted(
                (skill for skill in tube.skills if skill.level <= max_level),
                key=lambda skill: skill.level,
            )
        )
        tubes_by_competence.setdefault(tube.competence_code, []).append(
            TubeTarget(tube=tube, max_level=max_level, skills=skills)
        )
    competences: list[CompetenceTarget] = []
    for competence in content.iter_competences():
        tubes = tubes_by_competence.pop(competence.code, None)
        if tubes:
            competences.append(
                CompetenceTarget(
                    code=competence.code,
                    max_level=max(tube.max_level for tube in tubes),
                    tubes=tuple(tubes),
                )
            )
    for code in sorted(tubes_by_competence):
        tubes = tubes_by_competence[code]
        competences.append(
            CompetenceTarget(
                code=code, max_level=max(t.max_level for t in tubes), tubes=tuple(tubes)
            )
        )
    return ParcoursView(parcours=parcours, competences=tuple(competences))


_VIEWS: weakref.WeakKeyDictionary[Content, dict[str, ParcoursView]] = weakref.WeakKeyDictionary()


def parcours_view(content: Content, parcours_id: str) -> ParcoursView:
    """The (memoised) view of a parcours: what the web player passes to the engine.

    ``KeyError`` if the parcours does not exist. Memoised per content object, so reloading
    content yields fresh views and an old content is garbage-collected with its views.
    """
    views = _VIEWS.setdefault(content, {})
    view = views.get(parcours_id)
    if view is None:
        view = build_parcours_view(content, content.parcours[parcours_id])
        views[parcours_id] = view
    return view
