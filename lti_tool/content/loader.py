"""Load ``content/`` into a ``Content`` value, or explain precisely why it cannot be.

The layout and every rule come from ``content-format.md`` (plus the extensions documented in
``docs/content-format.md``). Each file is read into domain values while every problem is
collected with its ``path:line``; cross-file references are checked once everything is read.
``load_content`` raises ``ContentError`` listing all errors; ``lint_content`` returns errors
and warnings for ``socle content lint``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePosixPath

import yaml

from lti_tool.content.problems import ContentError, Problem, Problems
from lti_tool.content.published import PUBLISHED_FILE, check_published
from lti_tool.content.yamlnodes import Node, Reader, line_of, parse_file
from lti_tool.domain.checking import parse_number
from lti_tool.domain.formulas import FormulaError, parse_formula, same_computation
from lti_tool.domain.framework import (
    MAX_LEVEL,
    MIN_LEVEL,
    AnswerFormat,
    Area,
    Calibration,
    Challenge,
    ChallengeStatus,
    ChallengeType,
    Competence,
    Content,
    DependentSolution,
    Field,
    FieldsSolution,
    Illustration,
    JobProfile,
    MultipleChoiceSolution,
    NumberSolution,
    Parcours,
    ParcoursGroup,
    SingleChoiceSolution,
    Skill,
    Solution,
    Stage,
    TargetTube,
    Text,
    TextSolution,
    ThematicResult,
    Tolerance,
    Tube,
    Tutorial,
    TutorialFormat,
    skill_id,
)
from lti_tool.domain.units import PRESETS as UNIT_PRESETS
from lti_tool.domain.units import unit_spelling_problem, unit_spellings

FRAMEWORK_FILE = "framework.yaml"
TUTORIALS_FILE = "tutorials.yaml"
TUTORIALS_DIR = "tutorials"
JOB_PROFILES_FILE = "job-profiles.yaml"
DURATIONS_FILE = "durations.yaml"
TUBES_DIR = "tubes"
PARCOURS_DIR = "parcours"
ATTACHMENTS_DIR = "attachments"
KNOWN_ROOT_ENTRIES = frozenset(
    {
        FRAMEWORK_FILE,
        TUTORIALS_FILE,
        TUTORIALS_DIR,
        JOB_PROFILES_FILE,
        DURATIONS_FILE,
        TUBES_DIR,
        PARCOURS_DIR,
        ATTACHMENTS_DIR,
        # Read by the training reports (lti_tool/reports/themes.py), which check it.
        "training-themes.yaml",
        PUBLISHED_FILE,
    }
)
COMPETENCE_CODE = re.compile(r"[1-9][0-9]?\.[1-9][0-9]?")
AREA_CODE = re.compile(r"[1-9][0-9]?")
FIELD_KEY = re.compile(r"[a-z0-9][a-z0-9_-]*")
MAX_TIMER = 3600
MAX_PROPOSALS = 12

CHALLENGE_COMMON = frozenset(
    {"id", "type", "instruction", "solution", "illustration", "attachments", "timer", "hint"}
    | {"status", "calibration"}
)
CHALLENGE_SPECIFIC: dict[ChallengeType, frozenset[str]] = {
    ChallengeType.QCU: frozenset({"proposals", "shuffle"}),
    ChallengeType.QCM: frozenset({"proposals", "shuffle"}),
    ChallengeType.QROC: frozenset({"format", "placeholder", "tolerances", "unit"}),
    ChallengeType.QROCM_IND: frozenset({"fields", "tolerances"}),
    ChallengeType.QROCM_DEP: frozenset({"fields", "expected", "tolerances"}),
}
ALL_CHALLENGE_KEYS = CHALLENGE_COMMON.union(*CHALLENGE_SPECIFIC.values())


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where each definition was read: id -> (path relative to the content, 1-based line).

    Lets analyses that run on the loaded ``Content`` (``socle content audit``) point at the
    line an author must edit, without the domain values carrying file positions.
    """

    tubes: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    skills: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    challenges: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    tutorials: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    parcours: Mapping[str, tuple[str, int]] = field(default_factory=dict)


@dataclass(slots=True)
class LintReport:
    """Result of reading a content directory: the content if valid, and every problem."""

    content: Content | None
    errors: list[Problem]
    warnings: list[Problem]
    places: SourceMap = field(default_factory=SourceMap)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors


@dataclass(slots=True)
class _Place:
    """Where a definition was read, for "first defined at" messages."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(slots=True)
class _State:
    """Everything read so far, plus what must be checked once all files are read."""

    root: Path
    problems: Problems
    level_descriptors: dict[int, Text] = field(default_factory=dict)
    areas: list[Area] = field(default_factory=list)
    competences: dict[str, Competence] = field(default_factory=dict)
    tubes: dict[str, Tube] = field(default_factory=dict)
    tube_places: dict[str, _Place] = field(default_factory=dict)
    skill_places: dict[str, _Place] = field(default_factory=dict)
    challenge_places: dict[str, _Place] = field(default_factory=dict)
    tutorials: dict[str, Tutorial] = field(default_factory=dict)
    tutorial_places: dict[str, _Place] = field(default_factory=dict)
    parcours: dict[str, Parcours] = field(default_factory=dict)
    parcours_places: dict[str, _Place] = field(default_factory=dict)
    badge_places: dict[str, _Place] = field(default_factory=dict)
    job_profiles: dict[str, JobProfile] = field(default_factory=dict)
    profile_places: dict[str, _Place] = field(default_factory=dict)
    #: (place, tutorial id) of every reference from a skill.
    tutorial_refs: list[tuple[_Place, str]] = field(default_factory=list)
    #: (place, code) of competence references to check against the framework.
    competence_refs: list[tuple[_Place, str, str]] = field(default_factory=list)
    #: Deferred checks that need every tube (parcours) or the framework.
    deferred: list[Callable[[], None]] = field(default_factory=list)
    framework_loaded: bool = False


def load_content(path: Path) -> Content:
    """Read and validate a content directory; raise ``ContentError`` listing every error."""
    report = lint_content(path)
    if report.content is None:
        raise ContentError(report.errors)
    return report.content


def lint_content(path: Path) -> LintReport:
    """Read a content directory and report every error and warning."""
    problems = Problems()
    root = Path(path)
    if not root.is_dir():
        problems.error(str(path), None, "content directory not found")
        return LintReport(None, problems.errors, problems.warnings)
    state = _State(root=root, problems=problems)
    _check_root(state)
    _read_framework(state)
    _read_tutorials(state)
    _read_tubes(state)
    _read_parcours(state)
    _read_job_profiles(state)
    _read_durations(state)
    _check_references(state)
    for check in state.deferred:
        check()
    if not problems.errors:
        challenges = {
            challenge.id: challenge
            for tube in state.tubes.values()
            for skill in tube.skills
            for challenge in skill.challenges
        }
        places = {k: (p.path, p.line) for k, p in state.challenge_places.items()}
        check_published(root, challenges, places, problems)
    errors = problems.errors
    content = None
    if not errors:
        content = Content(
            level_descriptors=state.level_descriptors,
            areas=tuple(state.areas),
            competences=state.competences,
            tubes=state.tubes,
            tutorials=state.tutorials,
            parcours=state.parcours,
            job_profiles=state.job_profiles,
        )
    return LintReport(content, errors, problems.warnings, _source_map(state))


def _source_map(state: _State) -> SourceMap:
    def plain(places: dict[str, _Place]) -> dict[str, tuple[str, int]]:
        return {key: (place.path, place.line) for key, place in places.items()}

    return SourceMap(
        tubes=plain(state.tube_places),
        skills=plain(state.skill_places),
        challenges=plain(state.challenge_places),
        tutorials=plain(state.tutorial_places),
        parcours=plain(state.parcours_places),
    )


# --- files and folders ----------------------------------------------------------------------


def _relative(state: _State, path: Path) -> str:
    return path.relative_to(state.root).as_posix()


def _check_root(state: _State) -> None:
    for entry in sorted(state.root.iterdir()):
        if entry.name.startswith(".") or entry.name in KNOWN_ROOT_ENTRIES:
            continue
        state.problems.warning(
            entry.name, None, "unexpected file or folder in the content directory (ignored)"
        )


def _yaml_files(state: _State, folder: Path) -> list[Path]:
    """YAML files under ``folder`` (recursively); other files are reported and ignored."""
    found: list[Path] = []
    for path in sorted(folder.rglob("*")):
        if path.is_dir() or any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.suffix == ".yaml":
            found.append(path)
        elif path.suffix == ".yml":
            state.problems.error(_relative(state, path), None, "rename to '.yaml' (not '.yml')")
        else:
            state.problems.warning(_relative(state, path), None, "not a .yaml file (ignored)")
    return found


def _named(node: Node, kind: str, anonymous: str | None = None) -> str:
    """How to name a definition in messages: by its id when it has a readable one."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if (
                isinstance(key_node, yaml.ScalarNode)
                and key_node.value == "id"
                and isinstance(value_node, yaml.ScalarNode)
                and str(value_node.value).strip()
            ):
                return f"{kind} '{value_node.value}'"
    return anonymous or f"a {kind}"


def _record_id(
    reader: Reader,
    node: Node,
    places: dict[str, _Place],
    value: str,
    what: str,
) -> bool:
    """Register a globally unique id; report a duplicate with the first definition."""
    first = places.get(value)
    if first is not None:
        reader.error(node, f"duplicate {what} id '{value}' (already defined at {first})")
        return False
    places[value] = _Place(reader.path, line_of(node))
    return True


# --- framework.yaml -------------------------------------------------------------------------


def _read_framework(state: _State) -> None:
    path = state.root / FRAMEWORK_FILE
    if not path.is_file():
        state.problems.error(FRAMEWORK_FILE, None, "missing: the framework (areas, competences)")
        return
    reader = Reader(FRAMEWORK_FILE, state.problems)
    root = parse_file(path, FRAMEWORK_FILE, state.problems)
    if root is None:
        return
    keys = reader.mapping(root, "the framework", required=("levels", "areas"))
    if keys is None:
        return
    state.framework_loaded = True
    if "levels" in keys:
        levels = reader.mapping(
            keys["levels"],
            "levels",
            optional=[str(level) for level in range(MIN_LEVEL, MAX_LEVEL + 1)],
        )
        for key, node in (levels or {}).items():
            text = reader.text(node, f"the descriptor of level {key}")
            if text is not None:
                state.level_descriptors[int(key)] = text
        missing = [
            str(level)
            for level in range(MIN_LEVEL, MAX_LEVEL + 1)
            if level not in state.level_descriptors
        ]
        if levels is not None and missing:
            reader.warning(keys["levels"], f"no descriptor for level(s) {', '.join(missing)}")
    if "areas" in keys:
        for area_node in reader.sequence(keys["areas"], "areas", allow_empty=False) or []:
            _read_area(state, reader, area_node)


def _read_area(state: _State, reader: Reader, node: Node) -> None:
    keys = reader.mapping(node, "an area", required=("code", "title", "competences"))
    if keys is None:
        return
    code = reader.string(keys["code"], "the area code") if "code" in keys else None
    if code is not None and not AREA_CODE.fullmatch(code):
        reader.error(keys["code"], f"area code '{code}' must be a number such as \"1\"")
        code = None
    title = reader.text(keys["title"], "the area title") if "title" in keys else None
    if code is not None and any(area.code == code for area in state.areas):
        reader.error(keys["code"], f"duplicate area code '{code}'")
        return
    codes: list[str] = []
    competence_nodes = keys.get("competences")
    items = (
        reader.sequence(competence_nodes, "competences", allow_empty=False)
        if (competence_nodes is not None)
        else None
    )
    for competence_node in items or []:
        competence = _read_competence(state, reader, competence_node, code)
        if competence is not None:
            codes.append(competence.code)
    if code is not None and title is not None:
        state.areas.append(Area(code, title, tuple(codes)))


def _read_competence(
    state: _State, reader: Reader, node: Node, area_code: str | None
) -> Competence | None:
    keys = reader.mapping(
        node,
        "a competence",
        required=("code", "title"),
        optional=("description", "short_title"),
    )
    if keys is None or "code" not in keys:
        return None
    code = reader.string(keys["code"], "the competence code")
    if code is None:
        return None
    if not COMPETENCE_CODE.fullmatch(code):
        reader.error(keys["code"], f"competence code '{code}' must look like \"2.1\"")
        return None
    if area_code is not None and code.split(".")[0] != area_code:
        reader.error(
            keys["code"], f"competence '{code}' must start with its area code '{area_code}.'"
        )
        return None
    if code in state.competences:
        reader.error(keys["code"], f"duplicate competence code '{code}'")
        return None
    title = reader.text(keys["title"], "the competence title") if "title" in keys else None
    description = (
        reader.text(keys["description"], "the competence description")
        if "description" in keys
        else None
    )
    short_title = (
        reader.text(keys["short_title"], "the competence's short title")
        if "short_title" in keys
        else None
    )
    if short_title is not None and len(short_title.fr) > 24:
        reader.warning(
            keys["short_title"], f"the short title of '{code}' is long for a chart (24 characters)"
        )
    if title is None or area_code is None:
        return None
    competence = Competence(code, area_code, title, description, short_title)
    state.competences[code] = competence
    return competence


# --- tutorials.yaml -------------------------------------------------------------------------


def _read_tutorials(state: _State) -> None:
    """``tutorials.yaml`` and, beside it, any ``tutorials/*.yaml`` (one list each).

    Several files let authors keep a theme's tutorials together; ids stay unique across all.
    """
    paths = [state.root / TUTORIALS_FILE] if (state.root / TUTORIALS_FILE).is_file() else []
    folder = state.root / TUTORIALS_DIR
    if folder.is_dir():
        paths += _yaml_files(state, folder)
    for path in paths:
        name = _relative(state, path)
        reader = Reader(name, state.problems)
        root = parse_file(path, name, state.problems)
        if root is None:
            continue
        for node in reader.sequence(root, f"{name} (a list of tutorials)") or []:
            _read_tutorial(state, reader, node)


def _read_tutorial(state: _State, reader: Reader, node: Node) -> None:
    keys = reader.mapping(
        node,
        _named(node, "tutorial"),
        required=("id", "title", "format", "duration"),
        optional=("source", "url", "body"),
    )
    if keys is None or "id" not in keys:
        return
    tutorial_id = reader.slug(keys["id"], "the tutorial id")
    if tutorial_id is None or not _record_id(
        reader, keys["id"], state.tutorial_places, tutorial_id, "tutorial"
    ):
        return
    what = f"tutorial '{tutorial_id}'"
    title = reader.text(keys["title"], f"the title of {what}") if "title" in keys else None
    kind = (
        reader.choice(keys["format"], f"the format of {what}", [f.value for f in TutorialFormat])
        if "format" in keys
        else None
    )
    duration = (
        reader.integer(keys["duration"], f"the duration of {what} (minutes)", 1, 600)
        if "duration" in keys
        else None
    )
    source = reader.string(keys["source"], f"the source of {what}") if "source" in keys else None
    url = reader.string(keys["url"], f"the url of {what}") if "url" in keys else None
    if url is not None and not re.fullmatch(r"https://[^\s/]+\.[^\s]+", url):
        reader.error(keys["url"], f"the url of {what} must be a full https:// address")
        url = None
    body = reader.text(keys["body"], f"the body of {what}") if "body" in keys else None
    if "url" not in keys and "body" not in keys:
        reader.error(node, f"{what} needs a 'url' or a 'body'")
        return
    if "url" in keys and "body" in keys:
        reader.warning(node, f"{what} has both a 'url' and a 'body': the body is shown first")
    if title is None or kind is None or duration is None:
        return
    state.tutorials[tutorial_id] = Tutorial(
        tutorial_id, title, TutorialFormat(kind), duration, source, url, body
    )


# --- tubes/<code>/<tube>.yaml ---------------------------------------------------------------


def _read_tubes(state: _State) -> None:
    folder = state.root / TUBES_DIR
    if not folder.is_dir():
        state.problems.warning(TUBES_DIR, None, "no tubes folder: nothing can be assessed")
        return
    for path in _yaml_files(state, folder):
        _read_tube(state, path)


def _read_tube(state: _State, path: Path) -> None:
    relative = _relative(state, path)
    reader = Reader(relative, state.problems)
    root = parse_file(path, relative, state.problems)
    if root is None:
        return
    keys = reader.mapping(
        root,
        _named(root, "tube"),
        required=("id", "competence", "title", "skills"),
        optional=("description",),
    )
    if keys is None or "id" not in keys:
        return
    tube_id = reader.slug(keys["id"], "the tube id")
    if tube_id is None or not _record_id(reader, keys["id"], state.tube_places, tube_id, "tube"):
        return
    if path.stem != tube_id:
        reader.warning(
            keys["id"],
            f"tube '{tube_id}' is in a file named '{path.name}'; name it '{tube_id}.yaml'",
        )
    competence = None
    if "competence" in keys:
        competence = reader.string(keys["competence"], "the competence of the tube")
    folder = PurePosixPath(relative).parent
    if competence is not None:
        state.competence_refs.append(
            (_Place(relative, line_of(keys["competence"])), competence, f"tube '{tube_id}'")
        )
        expected_folder = PurePosixPath(TUBES_DIR, competence)
        if folder != expected_folder:
            reader.error(
                keys["competence"],
                f"tube '{tube_id}' belongs to competence {competence}: move the file to "
                f"{expected_folder}/",
            )
    title = (
        reader.text(keys["title"], f"the title of tube '{tube_id}'") if "title" in keys else None
    )
    description = (
        reader.text(keys["description"], f"the description of tube '{tube_id}'")
        if "description" in keys
        else None
    )
    skills: list[Skill] = []
    levels_seen: dict[int, int] = {}
    skill_nodes = keys.get("skills")
    items = (
        reader.sequence(skill_nodes, f"the skills of tube '{tube_id}'", allow_empty=False)
        if skill_nodes is not None
        else None
    )
    for node in items or []:
        skill = _read_skill(
            state,
            reader,
            node,
            tube_id=tube_id,
            competence=competence or "",
            levels_seen=levels_seen,
        )
        if skill is not None:
            skills.append(skill)
    if title is None or competence is None or items is None:
        return
    state.tubes[tube_id] = Tube(
        tube_id, competence, title, description, tuple(sorted(skills, key=lambda s: s.level))
    )


def _read_skill(
    state: _State,
    reader: Reader,
    node: Node,
    *,
    tube_id: str,
    competence: str,
    levels_seen: dict[int, int],
) -> Skill | None:
    keys = reader.mapping(
        node,
        f"a skill of tube '{tube_id}'",
        required=("level", "description"),
        optional=("tutorials", "learn_more", "challenges"),
    )
    if keys is None or "level" not in keys:
        return None
    level = reader.integer(keys["level"], "the skill level", MIN_LEVEL, MAX_LEVEL)
    if level is None:
        return None
    if level in levels_seen:
        reader.error(
            keys["level"],
            f"level {level} appears twice in tube '{tube_id}' (first at line "
            f"{levels_seen[level]}): one skill per level",
        )
        return None
    levels_seen[level] = line_of(keys["level"])
    sid = skill_id(tube_id, level)
    state.skill_places[sid] = _Place(reader.path, line_of(keys["level"]))
    description = (
        reader.text(keys["description"], f"the description of skill '{sid}'")
        if "description" in keys
        else None
    )
    tutorials = _tutorial_list(state, reader, keys.get("tutorials"), f"tutorials of '{sid}'")
    learn_more = _tutorial_list(state, reader, keys.get("learn_more"), f"learn_more of '{sid}'")
    if "tutorials" not in keys or not tutorials:
        reader.warning(
            keys["level"], f"skill '{sid}' has no tutorial to offer an agent who fails it"
        )
    challenges: list[Challenge] = []
    challenge_nodes = keys.get("challenges")
    if challenge_nodes is not None:
        for challenge_node in reader.sequence(challenge_nodes, f"the challenges of '{sid}'") or []:
            challenge = _read_challenge(state, reader, challenge_node, sid)
            if challenge is not None:
                challenges.append(challenge)
    if challenge_nodes is None or (
        isinstance(challenge_nodes, yaml.SequenceNode) and not challenge_nodes.value
    ):
        reader.warning(keys["level"], f"skill '{sid}' has no challenge: it can only be inferred")
    elif challenges and not any(challenge.is_served for challenge in challenges):
        reader.warning(
            keys["level"], f"skill '{sid}' has no validated challenge: it can only be inferred"
        )
    if description is None:
        return None
    return Skill(
        sid, tube_id, competence, level, description, tutorials, learn_more, tuple(challenges)
    )


def _tutorial_list(state: _State, reader: Reader, node: Node | None, what: str) -> tuple[str, ...]:
    if node is None:
        return ()
    items = reader.sequence(node, what)
    result: list[str] = []
    for item in items or []:
        tutorial_id = reader.slug(item, f"each item of {what}")
        if tutorial_id is None:
            continue
        if tutorial_id in result:
            reader.error(item, f"tutorial '{tutorial_id}' is listed twice in {what}")
            continue
        result.append(tutorial_id)
        state.tutorial_refs.append((_Place(reader.path, line_of(item)), tutorial_id))
    return tuple(result)


# --- challenges -----------------------------------------------------------------------------


def _read_challenge(state: _State, reader: Reader, node: Node, sid: str) -> Challenge | None:
    keys = reader.mapping(
        node,
        _named(node, "challenge", f"a challenge of skill '{sid}'"),
        required=("id", "type", "instruction", "solution"),
        optional=ALL_CHALLENGE_KEYS,
    )
    if keys is None or "id" not in keys:
        return None
    challenge_id = reader.slug(keys["id"], "the challenge id")
    if challenge_id is None or not _record_id(
        reader, keys["id"], state.challenge_places, challenge_id, "challenge"
    ):
        return None
    what = f"challenge '{challenge_id}'"
    kind_name = (
        reader.choice(keys["type"], f"the type of {what}", [t.value for t in ChallengeType])
        if "type" in keys
        else None
    )
    if kind_name is None:
        return None
    kind = ChallengeType(kind_name)
    allowed = CHALLENGE_COMMON | CHALLENGE_SPECIFIC[kind]
    for key, value in keys.items():
        if key not in allowed:
            reader.error(
                _key_node(node, key) or value, f"'{key}' does not apply to a {kind} challenge"
            )
    instruction = (
        reader.text(keys["instruction"], f"the instruction of {what}")
        if "instruction" in keys
        else None
    )
    proposals: tuple[Text, ...] = ()
    fields: tuple[Field, ...] = ()
    answer_format = AnswerFormat.TEXT
    valid = instruction is not None
    if kind in (ChallengeType.QCU, ChallengeType.QCM):
        if "proposals" not in keys:
            reader.error(node, f"{what} ({kind}) needs 'proposals'")
            valid = False
        else:
            read = _proposals(reader, keys["proposals"], what)
            valid = valid and read is not None
            proposals = read or ()
    if kind in (ChallengeType.QROCM_IND, ChallengeType.QROCM_DEP):
        if "fields" not in keys:
            reader.error(node, f"{what} ({kind}) needs 'fields'")
            valid = False
        else:
            read_fields = _fields(reader, keys["fields"], what)
            valid = valid and read_fields is not None
            fields = read_fields or ()
    if kind is ChallengeType.QROC and "format" in keys:
        format_name = reader.choice(
            keys["format"], f"the format of {what}", [f.value for f in AnswerFormat]
        )
        valid = valid and format_name is not None
        answer_format = AnswerFormat(format_name) if format_name else AnswerFormat.TEXT
    solution: Solution | None = None
    if "solution" in keys and valid:
        solution = _solution(
            reader,
            keys,
            kind=kind,
            answer_format=answer_format,
            proposals=proposals,
            fields=fields,
            what=what,
        )
    tolerances = _tolerances(reader, keys.get("tolerances"), what)
    if kind is ChallengeType.QROC and answer_format is AnswerFormat.NUMBER and "tolerances" in keys:
        reader.warning(keys["tolerances"], f"{what}: tolerances do not apply to numbers")
    if (
        answer_format is AnswerFormat.FORMULA
        and "tolerances" in keys
        and tolerances - {Tolerance.T1}
    ):
        reader.warning(
            keys["tolerances"], f"{what}: only t1 applies to formulas (they are evaluated)"
        )
    if "unit" in keys and answer_format is not AnswerFormat.NUMBER:
        reader.error(keys["unit"], f"{what}: 'unit' applies only to 'format: number'")
    illustration = (
        _illustration(state, reader, keys["illustration"], what) if "illustration" in keys else None
    )
    attachments: tuple[str, ...] = ()
    if "attachments" in keys:
        for item in reader.sequence(keys["attachments"], f"the attachments of {what}") or []:
            file = reader.string(item, f"each attachment of {what}")
            if file is not None and _check_file(state, reader, item, file, "attachment"):
                attachments += (file,)
    timer = (
        reader.integer(keys["timer"], f"the timer of {what} (seconds)", 5, MAX_TIMER)
        if "timer" in keys
        else None
    )
    hint = reader.text(keys["hint"], f"the hint of {what}") if "hint" in keys else None
    status_name = (
        reader.choice(keys["status"], f"the status of {what}", [s.value for s in ChallengeStatus])
        if "status" in keys
        else ChallengeStatus.VALIDATED.value
    )
    shuffle = reader.boolean(keys["shuffle"], f"shuffle of {what}") if "shuffle" in keys else False
    calibration = _calibration(reader, keys["calibration"], what) if "calibration" in keys else None
    placeholder = (
        reader.text(keys["placeholder"], f"the placeholder of {what}")
        if "placeholder" in keys
        else None
    )
    if not valid or solution is None or instruction is None or status_name is None:
        return None
    return Challenge(
        id=challenge_id,
        skill_id=sid,
        type=kind,
        instruction=instruction,
        solution=solution,
        proposals=proposals,
        fields=fields,
        answer_format=answer_format,
        placeholder=placeholder,
        tolerances=tolerances,
        timer=timer,
        attachments=attachments,
        illustration=illustration,
        status=ChallengeStatus(status_name),
        shuffle=bool(shuffle),
        hint=hint,
        calibration=calibration,
    )


def _key_node(node: Node, key: str) -> Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return key_node
    return None


def _proposals(reader: Reader, node: Node, what: str) -> tuple[Text, ...] | None:
    items = reader.sequence(node, f"the proposals of {what}")
    if items is None:
        return None
    if not 2 <= len(items) <= MAX_PROPOSALS:
        reader.error(
            node, f"{what} needs between 2 and {MAX_PROPOSALS} proposals, not {len(items)}"
        )
        return None
    proposals = [reader.text(item, f"a proposal of {what}") for item in items]
    if any(proposal is None for proposal in proposals):
        return None
    texts = [proposal for proposal in proposals if proposal is not None]
    seen: dict[str, int] = {}
    for index, (item, proposal) in enumerate(zip(items, texts, strict=True), start=1):
        key = proposal.fr.strip()
        if key in seen:
            reader.error(item, f"proposal {index} of {what} repeats proposal {seen[key]}")
            return None
        seen[key] = index
    return tuple(texts)


def _fields(reader: Reader, node: Node, what: str) -> tuple[Field, ...] | None:
    items = reader.sequence(node, f"the fields of {what}", allow_empty=False)
    if items is None:
        return None
    fields: list[Field] = []
    ok = True
    for item in items:
        keys = reader.mapping(
            item, f"a field of {what}", required=("key", "label"), optional=("options",)
        )
        if keys is None or "key" not in keys or "label" not in keys:
            ok = False
            continue
        key = reader.string(keys["key"], f"a field key of {what}")
        if key is not None and not FIELD_KEY.fullmatch(key):
            reader.error(
                keys["key"], f"field key '{key}' must be lowercase letters, digits, - or _"
            )
            key = None
        if key is not None and any(f.key == key for f in fields):
            reader.error(keys["key"], f"field key '{key}' is used twice in {what}")
            key = None
        label = reader.text(keys["label"], f"the label of field '{key}'")
        options: tuple[str, ...] | None = None
        if "options" in keys:
            values = reader.strings(keys["options"], f"the options of field '{key}'")
            if values is not None and len(values) < 2:
                reader.error(keys["options"], f"field '{key}' needs at least 2 options")
                values = None
            if values is not None and len(set(values)) != len(values):
                reader.error(keys["options"], f"field '{key}' lists an option twice")
                values = None
            options = tuple(values) if values is not None else None
            if values is None:
                ok = False
        if key is None or label is None:
            ok = False
            continue
        fields.append(Field(key, label, options))
    return tuple(fields) if ok else None


def _formulas_agree(reader: Reader, node: Node, accepted: list[str], what: str) -> bool:
    """A ``format: formula`` solution: every accepted formula parses and computes the first."""
    formulas = []
    for text in accepted:
        try:
            formulas.append(parse_formula(text))
        except FormulaError as error:
            reader.error(
                node,
                f"{what}: {text!r} is not a formula Socle evaluates ({error}); see "
                "docs/content-format.md, « format: formula »",
            )
            return False
    for text, formula in zip(accepted[1:], formulas[1:], strict=True):
        if not same_computation(formula, formulas[0]):
            reader.error(node, f"{what}: {text!r} does not compute what {accepted[0]!r} computes")
            return False
    return True


def _solution(
    reader: Reader,
    keys: dict[str, Node],
    *,
    kind: ChallengeType,
    answer_format: AnswerFormat,
    proposals: tuple[Text, ...],
    fields: tuple[Field, ...],
    what: str,
) -> Solution | None:
    node = keys["solution"]
    count = len(proposals)
    if kind is ChallengeType.QCU:
        index = reader.integer(node, f"the solution of {what} (a proposal number)", 1, 10**6)
        if index is None:
            return None
        if index > count:
            reader.error(
                node,
                f"solution {index} of {what} is out of range: it has {count} proposals (1-{count})",
            )
            return None
        return SingleChoiceSolution(index)
    if kind is ChallengeType.QCM:
        items = reader.sequence(
            node, f"the solution of {what} (proposal numbers)", allow_empty=False
        )
        if items is None:
            return None
        indexes: list[int] = []
        for item in items:
            index = reader.integer(item, f"each solution number of {what}", 1, 10**6)
            if index is None:
                return None
            if index > count:
                reader.error(
                    item,
                    f"solution {index} of {what} is out of range: it has "
                    f"{count} proposals (1-{count})",
                )
                return None
            if index in indexes:
                reader.error(item, f"solution {index} of {what} is listed twice")
                return None
            indexes.append(index)
        return MultipleChoiceSolution(frozenset(indexes))
    if kind is ChallengeType.QROC and answer_format is AnswerFormat.NUMBER:
        items = reader.sequence(
            node, f"the solution of {what} (accepted numbers)", allow_empty=False
        )
        if items is None:
            return None
        numbers: list[Decimal] = []
        for item in items:
            number = _number_item(reader, item, what)
            if number is None:
                return None
            numbers.append(number)
        units = _unit(reader, keys["unit"], what) if "unit" in keys else ()
        if units is None:
            return None
        return NumberSolution(tuple(numbers), units)
    if kind is ChallengeType.QROC:
        accepted = reader.strings(
            node, f"the solution of {what} (accepted answers)", allow_empty=False
        )
        if accepted is None:
            return None
        if answer_format is AnswerFormat.FORMULA and not _formulas_agree(
            reader, node, accepted, what
        ):
            return None
        return TextSolution(tuple(accepted))
    if kind is ChallengeType.QROCM_IND:
        return _fields_solution(reader, node, fields, what)
    return _dependent_solution(reader, keys, fields, what)


def _unit(reader: Reader, node: Node, what: str) -> tuple[str, ...] | None:
    """``unit``: a preset name (``euros``) or a list of spellings; see ``domain/units.py``."""
    if isinstance(node, yaml.ScalarNode):
        name = reader.string(node, f"the unit of {what}")
        if name is None:
            return None
        if name not in UNIT_PRESETS:
            known = ", ".join(sorted(UNIT_PRESETS))
            reader.error(
                node,
                f"unknown unit '{name}' in {what}: use one of {known}, "
                "or a list of accepted spellings",
            )
            return None
        return unit_spellings(name)
    spellings = reader.strings(node, f"the unit spellings of {what}", allow_empty=False)
    if spellings is None:
        return None
    for spelling in spellings:
        problem = unit_spelling_problem(spelling)
        if problem is not None:
            reader.error(node, f"unit spelling '{spelling}' of {what} {problem}")
            return None
    return tuple(spellings)


def _number_item(reader: Reader, node: Node, what: str) -> Decimal | None:
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str":
        parsed = parse_number(str(node.value))
        if parsed is None:
            reader.error(node, f"'{node.value}' in the solution of {what} is not a number")
        return parsed
    return reader.number(node, f"each accepted number of {what}")


def _fields_solution(
    reader: Reader, node: Node, fields: tuple[Field, ...], what: str
) -> Solution | None:
    keys = reader.mapping(node, f"the solution of {what}", required=[f.key for f in fields])
    if keys is None or len(keys) != len(fields):
        return None
    pairs: list[tuple[str, tuple[str, ...]]] = []
    for field_ in fields:
        accepted = reader.strings(
            keys[field_.key], f"the accepted answers of field '{field_.key}'", allow_empty=False
        )
        if accepted is None:
            return None
        if field_.options is not None:
            outside = [value for value in accepted if value not in field_.options]
            if outside:
                reader.error(
                    keys[field_.key],
                    f"'{outside[0]}' is not one of the options of field '{field_.key}'",
                )
                return None
        pairs.append((field_.key, tuple(accepted)))
    return FieldsSolution(tuple(pairs))


def _dependent_solution(
    reader: Reader, keys: dict[str, Node], fields: tuple[Field, ...], what: str
) -> Solution | None:
    items = reader.sequence(
        keys["solution"], f"the solution of {what} (accepted answers)", allow_empty=False
    )
    if items is None:
        return None
    groups: list[tuple[str, ...]] = []
    for item in items:
        if isinstance(item, yaml.SequenceNode):
            synonyms = reader.strings(item, f"a group of synonyms of {what}", allow_empty=False)
            if synonyms is None:
                return None
            groups.append(tuple(synonyms))
        else:
            value = reader.string(item, f"an accepted answer of {what}")
            if value is None:
                return None
            groups.append((value,))
    expected = len(fields)
    if "expected" in keys:
        read = reader.integer(keys["expected"], f"'expected' of {what}", 1, len(fields))
        if read is None:
            return None
        expected = read
    if expected > len(groups):
        reader.error(
            keys["solution"],
            f"{what} expects {expected} different answers but its solution lists only "
            f"{len(groups)}",
        )
        return None
    return DependentSolution(tuple(groups), expected)


def _tolerances(reader: Reader, node: Node | None, what: str) -> frozenset[Tolerance]:
    if node is None:
        return frozenset(Tolerance)
    values = reader.strings(node, f"the tolerances of {what}")
    result: set[Tolerance] = set()
    for item, value in zip((node.value if values else []), values or [], strict=False):
        if value not in {t.value for t in Tolerance}:
            reader.error(item, f"unknown tolerance '{value}' in {what}: use t1, t2 or t3")
        elif Tolerance(value) in result:
            reader.error(item, f"tolerance '{value}' is listed twice in {what}")
        else:
            result.add(Tolerance(value))
    return frozenset(result)


def _illustration(state: _State, reader: Reader, node: Node, what: str) -> Illustration | None:
    keys = reader.mapping(node, f"the illustration of {what}", required=("file", "alt"))
    if keys is None:
        return None
    file = (
        reader.string(keys["file"], f"the illustration file of {what}") if "file" in keys else None
    )
    alt = (
        reader.text(keys["alt"], f"the alternative text of the illustration of {what}")
        if ("alt" in keys)
        else None
    )
    if file is not None and not _check_file(state, reader, keys["file"], file, "illustration"):
        return None
    if file is None or alt is None:
        return None
    return Illustration(file, alt)


def _check_file(state: _State, reader: Reader, node: Node, value: str, what: str) -> bool:
    """A file given to agents must be a relative path inside the content directory."""
    if "\\" in value or value.startswith("/") or re.match(r"[A-Za-z]:", value):
        reader.error(
            node, f"{what} '{value}' must be a relative path with '/' (e.g. attachments/file.ods)"
        )
        return False
    parts = PurePosixPath(value).parts
    if ".." in parts or "." in parts:
        reader.error(node, f"{what} '{value}' must not contain '.' or '..'")
        return False
    target = state.root / value
    try:
        inside = target.resolve().is_relative_to(state.root.resolve())
    except OSError:
        inside = False
    if not inside:
        reader.error(node, f"{what} '{value}' points outside the content directory")
        return False
    if not target.is_file():
        reader.error(node, f"{what} '{value}' does not exist in the content directory")
        return False
    return True


def _calibration(reader: Reader, node: Node, what: str) -> Calibration | None:
    keys = reader.mapping(
        node,
        f"the calibration of {what}",
        required=("difficulty",),
        optional=("discrimination", "guessing", "slip"),
    )
    if keys is None or "difficulty" not in keys:
        return None
    difficulty = reader.real(keys["difficulty"], "difficulty", -2.0, MAX_LEVEL + 2.0)
    discrimination = (
        reader.real(keys["discrimination"], "discrimination", 0.1, 6.0)
        if "discrimination" in keys
        else None
    )
    guessing = reader.real(keys["guessing"], "guessing", 0.0, 0.6) if "guessing" in keys else None
    slip = reader.real(keys["slip"], "slip", 0.0, 0.5) if "slip" in keys else None
    if difficulty is None:
        return None
    return Calibration(difficulty, discrimination, guessing, slip)


# --- parcours/<id>.yaml ---------------------------------------------------------------------


def _read_parcours(state: _State) -> None:
    folder = state.root / PARCOURS_DIR
    if not folder.is_dir():
        return
    for path in _yaml_files(state, folder):
        _read_one_parcours(state, path)


def _read_one_parcours(state: _State, path: Path) -> None:
    relative = _relative(state, path)
    reader = Reader(relative, state.problems)
    root = parse_file(path, relative, state.problems)
    if root is None:
        return
    keys = reader.mapping(
        root,
        _named(root, "parcours"),
        required=("id", "title"),
        optional=(
            "group",
            "tubes",
            "competences",
            "description",
            "audience",
            "duration",
            "stages",
            "thematic_results",
            "self_assessment",
            "mastery_threshold",
        ),
    )
    if keys is None or "id" not in keys:
        return
    parcours_id = reader.slug(keys["id"], "the parcours id")
    if parcours_id is None or not _record_id(
        reader, keys["id"], state.parcours_places, parcours_id, "parcours"
    ):
        return
    if path.stem != parcours_id:
        reader.warning(
            keys["id"],
            f"parcours '{parcours_id}' is in '{path.name}'; name it '{parcours_id}.yaml'",
        )
    what = f"parcours '{parcours_id}'"
    title = reader.text(keys["title"], f"the title of {what}") if "title" in keys else None
    optional_texts = {
        name: reader.text(keys[name], f"the {name} of {what}") if name in keys else None
        for name in ("description", "audience")
    }
    duration = (
        reader.integer(keys["duration"], f"the duration of {what} (minutes)", 1, 600)
        if "duration" in keys
        else None
    )
    group_name = (
        reader.choice(keys["group"], f"the group of {what}", [g.value for g in ParcoursGroup])
        if "group" in keys
        else ParcoursGroup.THEMATIQUES.value
    )
    if "group" not in keys:
        reader.warning(
            keys["id"],
            f"{what} has no 'group' (socle-commun, metiers or thematiques): the catalogue "
            "lists it under thematiques",
        )
    if "tubes" not in keys and "competences" not in keys:
        reader.error(root, f"{what} needs 'tubes', 'competences' or both: what does it measure?")
    targets, named_tubes = (
        _parcours_tubes(state, reader, keys["tubes"], what) if "tubes" in keys else ((), set())
    )
    if "competences" in keys and targets is not None:
        whole = _parcours_competences(state, reader, keys["competences"], what, named_tubes)
        if whole is None:
            targets = None
        else:
            targets += whole
            named_tubes.update(target.tube_id for target in whole)
    stages = _stages(reader, keys["stages"], what) if "stages" in keys else ()
    tube_competence = {
        tube_id: state.tubes[tube_id].competence_code
        for tube_id in named_tubes
        if tube_id in state.tubes
    }
    badges = (
        _badges(
            state,
            reader,
            keys["thematic_results"],
            what,
            in_parcours=named_tubes,
            tube_competence=tube_competence,
        )
        if "thematic_results" in keys
        else ()
    )
    self_assessment = (
        reader.boolean(keys["self_assessment"], f"self_assessment of {what}")
        if "self_assessment" in keys
        else False
    )
    mastery = (
        reader.integer(keys["mastery_threshold"], f"the mastery_threshold of {what} (%)", 0, 100)
        if "mastery_threshold" in keys
        else None
    )
    if title is None or not targets or stages is None or badges is None or group_name is None:
        return
    state.parcours[parcours_id] = Parcours(
        id=parcours_id,
        title=title,
        tubes=targets,
        description=optional_texts["description"],
        audience=optional_texts["audience"],
        duration=duration,
        stages=stages,
        thematic_results=badges,
        self_assessment=bool(self_assessment),
        mastery_threshold=mastery,
        group=ParcoursGroup(group_name),
    )


def _parcours_competences(
    state: _State, reader: Reader, node: Node, what: str, listed: set[str]
) -> tuple[TargetTube, ...] | None:
    """Whole competences as targets: every tube of the competence, up to ``max_level``.

    Each tube's level is capped at its highest skill (no warning: the author asked for the
    competence, not for that tube); a tube whose lowest skill is above ``max_level`` is left
    out; a tube also listed under ``tubes`` keeps its own entry. Tubes added to the competence
    later join the parcours by themselves (re-measure its duration then).
    """
    items = reader.sequence(node, f"the competences of {what}", allow_empty=False)
    if items is None:
        return None
    targets: list[TargetTube] = []
    seen: dict[str, int] = {}
    ok = True
    for item in items:
        keys = reader.mapping(item, f"a competence of {what}", required=("competence", "max_level"))
        if keys is None or len(keys) != 2:
            ok = False
            continue
        code = reader.string(keys["competence"], f"a competence of {what}")
        max_level = reader.integer(keys["max_level"], "max_level", MIN_LEVEL, MAX_LEVEL)
        if code is None or max_level is None:
            ok = False
            continue
        if code in seen:
            reader.error(
                keys["competence"],
                f"competence {code} is listed twice in {what} (first at line {seen[code]})",
            )
            ok = False
            continue
        seen[code] = line_of(keys["competence"])
        if code not in state.competences:
            if state.framework_loaded:
                reader.error(keys["competence"], f"unknown competence '{code}'")
            ok = False
            continue
        found = False
        for tube in sorted(state.tubes.values(), key=lambda t: t.id):
            if tube.competence_code != code or not tube.skills:
                continue
            levels = [skill.level for skill in tube.skills]
            if tube.id in listed or min(levels) > max_level:
                found = found or tube.id in listed
                continue
            targets.append(TargetTube(tube.id, min(max_level, max(levels))))
            found = True
        if not found:
            reader.error(
                keys["max_level"],
                f"competence {code} has no tube with a skill at or below level {max_level}",
            )
            ok = False
    return tuple(targets) if ok else None


def _parcours_tubes(
    state: _State, reader: Reader, node: Node, what: str
) -> tuple[tuple[TargetTube, ...] | None, set[str]]:
    """The target tubes (``None`` if any entry is invalid) and every tube id named."""
    items = reader.sequence(node, f"the tubes of {what}", allow_empty=False)
    named: set[str] = set()
    if items is None:
        return None, named
    targets: list[TargetTube] = []
    seen: dict[str, int] = {}
    ok = True
    for item in items:
        keys = reader.mapping(item, f"a tube of {what}", required=("tube", "max_level"))
        if keys is None or len(keys) != 2:
            ok = False
            continue
        tube_id = reader.slug(keys["tube"], f"a tube of {what}")
        if tube_id is not None:
            named.add(tube_id)
            if tube_id in seen:
                reader.error(
                    keys["tube"],
                    f"tube '{tube_id}' is listed twice in {what} (first at line {seen[tube_id]})",
                )
                tube_id = None
            else:
                seen[tube_id] = line_of(keys["tube"])
        max_level = reader.integer(keys["max_level"], "max_level", MIN_LEVEL, MAX_LEVEL)
        if tube_id is None or max_level is None:
            ok = False
            continue
        targets.append(TargetTube(tube_id, max_level))
        state.deferred.append(
            _tube_target_check(state, reader, (keys["tube"], keys["max_level"]), tube_id, max_level)
        )
    return (tuple(targets) if ok else None), named


def _tube_target_check(
    state: _State, reader: Reader, nodes: tuple[Node, Node], tube_id: str, max_level: int
) -> Callable[[], None]:
    """Checks a parcours entry once every tube is read (tubes may come after parcours)."""
    tube_node, level_node = nodes

    def check() -> None:
        if tube_id not in state.tube_places:
            reader.error(tube_node, f"unknown tube '{tube_id}'")
            return
        tube = state.tubes.get(tube_id)
        if tube is None or not tube.skills:
            return
        levels = [skill.level for skill in tube.skills]
        if min(levels) > max_level:
            reader.error(
                level_node,
                f"max_level {max_level} is below every skill of tube '{tube_id}' "
                f"(lowest level: {min(levels)})",
            )
        elif max(levels) < max_level:
            reader.warning(
                level_node,
                f"tube '{tube_id}' has no skill above level {max(levels)} (max_level {max_level})",
            )

    return check


def _stages(reader: Reader, node: Node, what: str) -> tuple[Stage, ...] | None:
    items = reader.sequence(node, f"the stages of {what}")
    if items is None:
        return None
    stages: list[Stage] = []
    for item in items:
        keys = reader.mapping(
            item, f"a stage of {what}", required=("threshold", "title"), optional=("message",)
        )
        if keys is None or "threshold" not in keys or "title" not in keys:
            return None
        threshold = reader.integer(keys["threshold"], "a stage threshold (%)", 0, 100)
        title = reader.text(keys["title"], "the stage title")
        message = reader.text(keys["message"], "the stage message") if "message" in keys else None
        if threshold is None or title is None:
            return None
        if stages and threshold <= stages[-1].threshold:
            reader.error(
                keys["threshold"],
                f"stage thresholds must increase: {threshold} comes after {stages[-1].threshold}",
            )
            return None
        stages.append(Stage(threshold, title, message))
    if stages and stages[0].threshold != 0:
        reader.warning(
            node,
            f"the first stage of {what} should have threshold 0 so that every "
            "agent reaches a stage",
        )
    return tuple(stages)


def _badges(
    state: _State,
    reader: Reader,
    node: Node,
    what: str,
    *,
    in_parcours: set[str],
    tube_competence: Mapping[str, str],
) -> tuple[ThematicResult, ...] | None:
    items = reader.sequence(node, f"the thematic_results of {what}")
    if items is None:
        return None
    badges: list[ThematicResult] = []
    for item in items:
        keys = reader.mapping(
            item,
            _named(item, "thematic result", f"a thematic result of {what}"),
            required=("id", "title", "threshold"),
            optional=("description", "tubes", "competences"),
        )
        if keys is None or len(keys.keys() & {"id", "title", "threshold"}) != 3:
            return None
        if "tubes" not in keys and "competences" not in keys:
            reader.error(item, f"a thematic result of {what} needs 'tubes', 'competences' or both")
            return None
        badge_id = reader.slug(keys["id"], "the thematic result id")
        if badge_id is None or not _record_id(
            reader, keys["id"], state.badge_places, badge_id, "thematic result"
        ):
            return None
        title = reader.text(keys["title"], f"the title of thematic result '{badge_id}'")
        description = (
            reader.text(keys["description"], f"the description of '{badge_id}'")
            if "description" in keys
            else None
        )
        threshold = reader.integer(keys["threshold"], f"the threshold of '{badge_id}' (%)", 0, 100)
        tube_items = (
            reader.sequence(keys["tubes"], f"the tubes of '{badge_id}'", allow_empty=False)
            if "tubes" in keys
            else []
        )
        tube_ids: list[str] = []
        for tube_item in tube_items or []:
            tube_id = reader.slug(tube_item, f"a tube of '{badge_id}'")
            if tube_id is None:
                return None
            if in_parcours and tube_id not in in_parcours:
                reader.error(
                    tube_item,
                    f"thematic result '{badge_id}' uses tube '{tube_id}', which is not in the "
                    "tubes of the parcours",
                )
                return None
            tube_ids.append(tube_id)
        if "competences" in keys:
            codes = reader.strings(
                keys["competences"], f"the competences of '{badge_id}'", allow_empty=False
            )
            if codes is None:
                return None
            for code in codes:
                of_code = sorted(t for t, c in tube_competence.items() if c == code)
                if not of_code:
                    reader.error(
                        keys["competences"],
                        f"thematic result '{badge_id}' uses competence {code}, which has no "
                        "tube in the parcours",
                    )
                    return None
                tube_ids.extend(t for t in of_code if t not in tube_ids)
        if title is None or threshold is None or tube_items is None:
            return None
        badges.append(ThematicResult(badge_id, title, tuple(tube_ids), threshold, description))
    return tuple(badges)


# --- job-profiles.yaml ----------------------------------------------------------------------


def _read_job_profiles(state: _State) -> None:
    path = state.root / JOB_PROFILES_FILE
    if not path.is_file():
        return
    reader = Reader(JOB_PROFILES_FILE, state.problems)
    root = parse_file(path, JOB_PROFILES_FILE, state.problems)
    if root is None:
        return
    for node in reader.sequence(root, "job-profiles.yaml (a list of job profiles)") or []:
        keys = reader.mapping(
            node,
            _named(node, "job profile"),
            required=("id", "title", "expected"),
            optional=("description",),
        )
        if keys is None or len(keys.keys() & {"id", "title", "expected"}) != 3:
            continue
        profile_id = reader.slug(keys["id"], "the job profile id")
        if profile_id is None or not _record_id(
            reader, keys["id"], state.profile_places, profile_id, "job profile"
        ):
            continue
        title = reader.text(keys["title"], f"the title of job profile '{profile_id}'")
        description = (
            reader.text(keys["description"], f"the description of '{profile_id}'")
            if "description" in keys
            else None
        )
        expected = _expected_levels(state, reader, keys["expected"], profile_id)
        if title is not None and expected is not None:
            state.job_profiles[profile_id] = JobProfile(profile_id, title, expected, description)


def _expected_levels(
    state: _State, reader: Reader, node: Node, profile_id: str
) -> tuple[tuple[str, int], ...] | None:
    if not isinstance(node, yaml.MappingNode):
        reader.error(node, f"'expected' of '{profile_id}' must map competence codes to levels")
        return None
    result: list[tuple[str, int]] = []
    ok = True
    for key_node, value_node in node.value:
        code = reader.string(key_node, f"a competence code of '{profile_id}'")
        level = reader.integer(value_node, f"the expected level for {code}", 0, MAX_LEVEL)
        if code is None or level is None:
            ok = False
            continue
        if any(existing == code for existing, _ in result):
            reader.error(key_node, f"competence {code} appears twice in '{profile_id}'")
            ok = False
            continue
        state.competence_refs.append(
            (_Place(reader.path, line_of(key_node)), code, f"job profile '{profile_id}'")
        )
        result.append((code, level))
    return tuple(result) if ok else None


# --- durations.yaml -------------------------------------------------------------------------

DURATION_METHOD_KEYS = ("algorithm", "world", "learners", "seed")


def _read_durations(state: _State) -> None:
    """Apply the measured durations (written by ``socle simulate --durations --write``)."""
    path = state.root / DURATIONS_FILE
    if not path.is_file():
        for unmeasured, declared in state.parcours.items():
            if declared.duration is None:
                place = state.parcours_places[unmeasured]
                state.problems.warning(
                    place.path,
                    place.line,
                    f"parcours '{unmeasured}' has no measured duration: run "
                    "'socle simulate --durations --write'",
                )
        return
    reader = Reader(DURATIONS_FILE, state.problems)
    root = parse_file(path, DURATIONS_FILE, state.problems)
    if root is None:
        return
    keys = reader.mapping(root, DURATIONS_FILE, required=("method", "parcours"))
    if keys is None or len(keys) != 2:
        return
    method = reader.mapping(
        keys["method"], "the method of the measure", required=DURATION_METHOD_KEYS
    )
    entries = keys["parcours"]
    if method is None or not isinstance(entries, yaml.MappingNode):
        if not isinstance(entries, yaml.MappingNode):
            reader.error(entries, "'parcours' must map parcours ids to their measure")
        return
    measured: set[str] = set()
    for key_node, value_node in entries.value:
        parcours_id = reader.slug(key_node, "a parcours id")
        values = reader.mapping(
            value_node, f"the measure of '{parcours_id}'", required=("challenges", "minutes")
        )
        if parcours_id is None or values is None or len(values) != 2:
            continue
        challenges = reader.integer(values["challenges"], "challenges (median)", 0, 1000)
        minutes = reader.integer(values["minutes"], "minutes (median)", 1, 600)
        if challenges is None or minutes is None:
            continue
        parcours = state.parcours.get(parcours_id)
        if parcours is None:
            if parcours_id not in state.parcours_places:
                reader.warning(
                    key_node,
                    f"measure of unknown parcours '{parcours_id}': run "
                    "'socle simulate --durations --write' again",
                )
            continue
        measured.add(parcours_id)
        if parcours.duration is not None and parcours.duration != minutes:
            place = state.parcours_places[parcours_id]
            state.problems.warning(
                place.path,
                place.line,
                f"parcours '{parcours_id}' declares {parcours.duration} min but "
                f"{minutes} min were measured ({DURATIONS_FILE}): remove 'duration'",
            )
        state.parcours[parcours_id] = dataclasses.replace(
            parcours, duration=minutes, expected_challenges=challenges
        )
    for parcours_id in sorted(state.parcours.keys() - measured):
        place = state.parcours_places[parcours_id]
        state.problems.warning(
            place.path,
            place.line,
            f"parcours '{parcours_id}' has no measured duration in {DURATIONS_FILE}: run "
            "'socle simulate --durations --write'",
        )


# --- cross-file checks ----------------------------------------------------------------------


def _check_references(state: _State) -> None:
    problems = state.problems
    if state.framework_loaded:
        for place, code, owner in state.competence_refs:
            if code not in state.competences:
                problems.error(
                    place.path, place.line, f"{owner} refers to unknown competence '{code}'"
                )
    used: set[str] = set()
    for place, tutorial_id in state.tutorial_refs:
        used.add(tutorial_id)
        if tutorial_id not in state.tutorial_places:
            problems.error(
                place.path,
                place.line,
                f"unknown tutorial '{tutorial_id}': define it in {TUTORIALS_FILE}",
            )
    for tutorial_id, place in state.tutorial_places.items():
        if tutorial_id not in used:
            problems.warning(
                place.path, place.line, f"tutorial '{tutorial_id}' is not used by any skill"
            )
