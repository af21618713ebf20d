"""The competence framework and the assessment content, as immutable values.

Content is written by people as YAML (see ``lti_tool.content``) but everything downstream —
checking answers, choosing the next challenge, scoring — only ever sees these frozen
dataclasses. Keeping them free of I/O and of any web framework is what lets the adaptive
engine be tested and benchmarked on its own, and lets the simulator build synthetic content
in memory.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

MIN_LEVEL = 1
MAX_LEVEL = 8


@dataclass(frozen=True, slots=True)
class Text:
    """A localised text: French is mandatory (the product is French first), English optional.

    ``get`` falls back to French so that a missing translation never shows an empty string.
    """

    fr: str
    en: str | None = None

    def get(self, locale: str | None = None) -> str:
        """Return the text for ``locale`` (``"en"``, ``"en-GB"``…), French otherwise."""
        if locale is not None and locale.lower().startswith("en") and self.en:
            return self.en
        return self.fr

    def language(self, locale: str | None = None) -> str:
        """The language ``get(locale)`` answers in (``"fr"`` or ``"en"``), for ``lang``."""
        if locale is not None and locale.lower().startswith("en") and self.en:
            return "en"
        return "fr"

    def __str__(self) -> str:
        return self.fr


class ChallengeType(enum.StrEnum):
    """The five challenge types of the format (the values are the YAML spellings)."""

    QCU = "qcu"
    QCM = "qcm"
    QROC = "qroc"
    QROCM_IND = "qrocm-ind"
    QROCM_DEP = "qrocm-dep"


class ChallengeStatus(enum.StrEnum):
    """Only ``validated`` challenges are served; ids of archived ones stay reserved forever."""

    VALIDATED = "validated"
    DRAFT = "draft"
    ARCHIVED = "archived"


class Tolerance(enum.StrEnum):
    """Free-text tolerances: T1 case/accents/spaces, T2 punctuation, T3 small typos."""

    T1 = "t1"
    T2 = "t2"
    T3 = "t3"


ALL_TOLERANCES: frozenset[Tolerance] = frozenset(Tolerance)


class AnswerFormat(enum.StrEnum):
    """How a ``qroc`` answer is read: as text (with tolerances), a number, or a spreadsheet
    formula graded by what it computes (``lti_tool.domain.formulas``)."""

    TEXT = "text"
    NUMBER = "number"
    FORMULA = "formula"


class TutorialFormat(enum.StrEnum):
    """What kind of resource a tutorial is, shown as an icon next to it."""

    PAGE = "page"
    VIDEO = "video"
    TOOL = "tool"
    EXERCISE = "exercise"


@dataclass(frozen=True, slots=True)
class Field:
    """One input of a ``qrocm`` challenge; ``options`` turns it into a drop-down list."""

    key: str
    label: Text
    options: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Illustration:
    """An image shown with the instruction; ``alt`` must let a blind agent answer too."""

    file: str
    alt: Text


@dataclass(frozen=True, slots=True)
class SingleChoiceSolution:
    """``qcu``: the 1-based index of the right proposal (in the authored order)."""

    index: int


@dataclass(frozen=True, slots=True)
class MultipleChoiceSolution:
    """``qcm``: the set of right proposals (1-based); the answer must be exactly this set."""

    indexes: frozenset[int]


@dataclass(frozen=True, slots=True)
class TextSolution:
    """``qroc`` text: any of the accepted spellings, after the challenge's tolerances."""

    accepted: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NumberSolution:
    """``qroc`` number: numeric equality with one of the values (``Decimal``, never float).

    ``units`` lists the spellings of the unit the instruction asks for ("€", "euros"…; the
    first is the symbol to show): an answer may carry one of them after the number. Empty
    when the answer is a bare number.
    """

    accepted: tuple[Decimal, ...]
    units: tuple[str, ...] = ()

    @property
    def unit_symbol(self) -> str | None:
        """The unit to show beside the answer field, if any."""
        return self.units[0] if self.units else None


@dataclass(frozen=True, slots=True)
class FieldsSolution:
    """``qrocm-ind``: per field key, its own list of accepted answers.

    Stored as pairs rather than a dict so that challenges stay hashable values.
    """

    accepted: tuple[tuple[str, tuple[str, ...]], ...]

    def for_field(self, key: str) -> tuple[str, ...]:
        """Accepted answers of one field (empty if the key is unknown)."""
        for field_key, values in self.accepted:
            if field_key == key:
                return values
        return ()


@dataclass(frozen=True, slots=True)
class DependentSolution:
    """``qrocm-dep``: ``expected`` fields must each match a *different* group.

    A group is a set of synonyms for one expected answer (the format's plain list is one
    single-spelling group per item), so "courriel" and "e-mail" cannot both score.
    """

    groups: tuple[tuple[str, ...], ...]
    expected: int


Solution = (
    SingleChoiceSolution
    | MultipleChoiceSolution
    | TextSolution
    | NumberSolution
    | FieldsSolution
    | DependentSolution
)


@dataclass(frozen=True, slots=True)
class Calibration:
    """Item parameters estimated from real answers (optional; see docs/adaptive-algorithm.md).

    ``difficulty`` is on the level scale (a skill of level 3 has difficulty 3 until
    calibrated); ``guessing``/``slip`` default to the values derived from the challenge type.
    """

    difficulty: float
    discrimination: float | None = None
    guessing: float | None = None
    slip: float | None = None


@dataclass(frozen=True, slots=True)
class Challenge:
    """One question measuring one skill (épreuve)."""

    id: str
    skill_id: str
    type: ChallengeType
    instruction: Text
    solution: Solution
    proposals: tuple[Text, ...] = ()
    fields: tuple[Field, ...] = ()
    answer_format: AnswerFormat = AnswerFormat.TEXT
    placeholder: Text | None = None
    tolerances: frozenset[Tolerance] = ALL_TOLERANCES
    timer: int | None = None
    attachments: tuple[str, ...] = ()
    illustration: Illustration | None = None
    status: ChallengeStatus = ChallengeStatus.VALIDATED
    shuffle: bool = False
    hint: Text | None = None
    calibration: Calibration | None = None

    @property
    def is_served(self) -> bool:
        """Whether the challenge may be shown to agents (drafts and archives are not)."""
        return self.status is ChallengeStatus.VALIDATED


@dataclass(frozen=True, slots=True)
class Skill:
    """One (tube, level) pair (acquis): the unit that is validated or failed."""

    id: str
    tube_id: str
    competence_code: str
    level: int
    description: Text
    tutorials: tuple[str, ...] = ()
    learn_more: tuple[str, ...] = ()
    challenges: tuple[Challenge, ...] = ()

    @property
    def served_challenges(self) -> tuple[Challenge, ...]:
        """The challenges that may be asked (status ``validated``), in authored order."""
        return tuple(challenge for challenge in self.challenges if challenge.is_served)


def skill_id(tube_id: str, level: int) -> str:
    """Skill ids are derived, never written: ``pieces-jointes`` level 2 is ``pieces-jointes-2``."""
    return f"{tube_id}-{level}"


@dataclass(frozen=True, slots=True)
class Tube:
    """A narrow topic inside a competence (sujet), holding skills ordered by level."""

    id: str
    competence_code: str
    title: Text
    description: Text | None = None
    skills: tuple[Skill, ...] = ()

    def skill_at(self, level: int) -> Skill | None:
        """The skill of this tube at ``level``, if the tube has one."""
        for skill in self.skills:
            if skill.level == level:
                return skill
        return None


@dataclass(frozen=True, slots=True)
class Competence:
    """One of the 16 competences of the framework, coded ``1.1`` … ``5.2``."""

    code: str
    area_code: str
    title: Text
    description: Text | None = None
    #: A few words for charts (« Rechercher », « Sécuriser »); the title when absent.
    short_title: Text | None = None

    @property
    def label(self) -> Text:
        return self.short_title or self.title


@dataclass(frozen=True, slots=True)
class Area:
    """One of the 5 areas (domaines); lists its competences in framework order."""

    code: str
    title: Text
    competence_codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Tutorial:
    """A resource linked to skills; either an external ``url`` or a Markdown ``body``."""

    id: str
    title: Text
    format: TutorialFormat
    duration: int
    source: str | None = None
    url: str | None = None
    body: Text | None = None


@dataclass(frozen=True, slots=True)
class TargetTube:
    """A tube of a parcours and the highest level measured in it."""

    tube_id: str
    max_level: int


@dataclass(frozen=True, slots=True)
class Stage:
    """A step (palier) reached when the mastery percentage is at least ``threshold``."""

    threshold: int
    title: Text
    message: Text | None = None


@dataclass(frozen=True, slots=True)
class ThematicResult:
    """A badge: acquired when mastery over ``tube_ids`` is at least ``threshold`` %."""

    id: str
    title: Text
    tube_ids: tuple[str, ...]
    threshold: int
    description: Text | None = None


class ParcoursGroup(enum.StrEnum):
    """Where the deep-linking catalogue lists a parcours (the values are the YAML spellings).

    The collectivités deploy a common core for everyone, one parcours per job family and
    thematic parcours (télétravail, cybersécurité…); instructors look for them in that order.
    """

    SOCLE_COMMUN = "socle-commun"
    METIERS = "metiers"
    THEMATIQUES = "thematiques"


@dataclass(frozen=True, slots=True)
class Parcours:
    """A target profile: which tubes up to which level, plus stages and badges.

    ``duration`` (minutes) and ``expected_challenges`` come from ``socle simulate
    --durations`` (the median attempt of a simulated population), not from a guess.
    """

    id: str
    title: Text
    tubes: tuple[TargetTube, ...]
    description: Text | None = None
    audience: Text | None = None
    duration: int | None = None
    stages: tuple[Stage, ...] = ()
    thematic_results: tuple[ThematicResult, ...] = ()
    self_assessment: bool = False
    mastery_threshold: int | None = None
    group: ParcoursGroup = ParcoursGroup.THEMATIQUES
    expected_challenges: int | None = None


@dataclass(frozen=True, slots=True)
class JobProfile:
    """Expected level per competence for a family of jobs; absent means not required."""

    id: str
    title: Text
    expected: tuple[tuple[str, int], ...]
    description: Text | None = None

    def expected_levels(self) -> dict[str, int]:
        """The expectations as a ``{competence code: level}`` mapping."""
        return dict(self.expected)


@dataclass(frozen=True, eq=False)
class Content:
    """All the content, indexed by id. Built once at start-up and shared read-only.

    Derived indexes (skills, challenges) are computed in ``__post_init__`` so lookups in the
    request path are dictionary reads. Equality is identity (``eq=False``): a content is one
    loaded tree, which also lets ``target.parcours_view`` memoise views per content.
    """

    level_descriptors: Mapping[int, Text]
    areas: tuple[Area, ...]
    competences: Mapping[str, Competence]
    tubes: Mapping[str, Tube]
    tutorials: Mapping[str, Tutorial] = field(default_factory=dict)
    parcours: Mapping[str, Parcours] = field(default_factory=dict)
    job_profiles: Mapping[str, JobProfile] = field(default_factory=dict)
    skills: Mapping[str, Skill] = field(init=False, repr=False)
    challenges: Mapping[str, Challenge] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        skills: dict[str, Skill] = {}
        challenges: dict[str, Challenge] = {}
        for tube in self.tubes.values():
            for skill in tube.skills:
                skills[skill.id] = skill
                for challenge in skill.challenges:
                    challenges[challenge.id] = challenge
        object.__setattr__(self, "skills", skills)
        object.__setattr__(self, "challenges", challenges)

    def tubes_of_competence(self, code: str) -> tuple[Tube, ...]:
        """Tubes of a competence, in a stable (id) order."""
        return tuple(
            tube
            for tube in sorted(self.tubes.values(), key=lambda t: t.id)
            if tube.competence_code == code
        )

    def served_challenges_of_skill(self, skill_id_: str) -> tuple[Challenge, ...]:
        """The challenges that may be asked for a skill (only ``validated`` ones)."""
        skill = self.skills.get(skill_id_)
        return skill.served_challenges if skill is not None else ()

    def skills_of_parcours(self, parcours_id: str) -> tuple[Skill, ...]:
        """Target skills of a parcours: every skill of its tubes up to the tube's max level."""
        parcours = self.parcours[parcours_id]
        result: list[Skill] = []
        for target in parcours.tubes:
            tube = self.tubes[target.tube_id]
            result.extend(skill for skill in tube.skills if skill.level <= target.max_level)
        return tuple(result)

    def iter_competences(self) -> Iterator[Competence]:
        """Competences in framework order (area by area, as authored)."""
        for area in self.areas:
            for code in area.competence_codes:
                yield self.competences[code]
