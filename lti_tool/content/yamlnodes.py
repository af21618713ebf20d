"""Reading YAML node trees with line numbers, reporting problems instead of raising.

PyYAML's ``compose`` gives a tree of nodes that remember where they start in the file; the
helpers here read typed values from those nodes and report anything unexpected as
``path:line: message``. Scalars are read from their source text (a tube id ``2021`` or a
competence code written ``2.1`` without quotes are still read as the text the author wrote),
and YAML 1.1 surprises (``no`` becoming ``False``) cannot turn into wrong content silently.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from lti_tool.content.problems import Problems
from lti_tool.domain.framework import Text

try:  # libyaml is ~10x faster; the pure-Python loader gives the same nodes and marks
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Node = yaml.Node
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
NULL_TAG = "tag:yaml.org,2002:null"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
BOOL_TAG = "tag:yaml.org,2002:bool"
TRUE_WORDS = frozenset({"true", "yes", "on"})
FALSE_WORDS = frozenset({"false", "no", "off"})
LOCALES = ("fr", "en")


def line_of(node: Node) -> int:
    """1-based line where ``node`` starts."""
    return int(node.start_mark.line) + 1


def parse_file(path: Path, relative: str, problems: Problems) -> Node | None:
    """Compose one YAML file; syntax errors and empty files become problems."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        problems.error(relative, None, f"not valid UTF-8 ({error.reason}); save it as UTF-8")
        return None
    except OSError as error:
        problems.error(relative, None, f"cannot be read: {error.strerror}")
        return None
    try:
        documents = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = None if mark is None else int(mark.line) + 1
        what = error.problem or error.context or "invalid YAML"
        context = error.context_mark
        if error.context and context is not None and int(context.line) + 1 != line:
            what += f" ({error.context} started at line {int(context.line) + 1})"
        problems.error(relative, line, f"YAML syntax error: {what}")
        return None
    except yaml.YAMLError as error:
        problems.error(relative, None, f"YAML syntax error: {error}")
        return None
    documents = [document for document in documents if document is not None]
    if not documents:
        problems.error(relative, None, "the file is empty")
        return None
    if len(documents) > 1:
        problems.error(
            relative, line_of(documents[1]), "only one YAML document per file (remove '---')"
        )
    return documents[0]


class Reader:
    """Typed access to the nodes of one file; every problem is recorded with its line."""

    def __init__(self, relative: str, problems: Problems) -> None:
        self.path = relative
        self.problems = problems

    def error(self, node: Node | int | None, message: str) -> None:
        """Record an error at ``node`` (or a line number)."""
        line = node if isinstance(node, int) or node is None else line_of(node)
        self.problems.error(self.path, line, message)

    def warning(self, node: Node | int | None, message: str) -> None:
        """Record a warning at ``node`` (or a line number)."""
        line = node if isinstance(node, int) or node is None else line_of(node)
        self.problems.warning(self.path, line, message)

    # --- structure -----------------------------------------------------------------------

    def mapping(
        self,
        node: Node,
        what: str,
        required: Collection[str] = (),
        optional: Collection[str] = (),
    ) -> dict[str, Node] | None:
        """Keys of a mapping; unknown, duplicate and missing keys are errors."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what} must be a mapping of 'key: value' lines, {_kind(node)}")
            return None
        allowed = set(required) | set(optional)
        result: dict[str, Node] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_node, f"keys of {what} must be plain names")
                continue
            key = str(key_node.value)
            if key in result:
                self.error(
                    key_node, f"duplicate key '{key}' in {what} (first at line {first_line[key]})"
                )
                continue
            if key not in allowed:
                self.error(key_node, f"unknown key '{key}' in {what}{_suggest(key, allowed)}")
                continue
            result[key] = value_node
            first_line[key] = line_of(key_node)
        for key in required:
            if key not in result:
                self.error(node, f"{what} is missing the required key '{key}'")
        return result

    def sequence(self, node: Node, what: str, *, allow_empty: bool = True) -> list[Node] | None:
        """Items of a list."""
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"{what} must be a list, {_kind(node)}")
            return None
        if not node.value and not allow_empty:
            self.error(node, f"{what} must not be empty")
            return None
        return list(node.value)

    # --- scalars -------------------------------------------------------------------------

    def string(self, node: Node, what: str) -> str | None:
        """A non-empty text scalar, as written (numbers and booleans keep their spelling)."""
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, f"{what} must be a text, {_kind(node)}")
            return None
        if node.tag == NULL_TAG or not str(node.value).strip():
            self.error(node, f"{what} must not be empty")
            return None
        return str(node.value)

    def slug(self, node: Node, what: str) -> str | None:
        """An identifier: lowercase ASCII letters, digits and single hyphens."""
        value = self.string(node, what)
        if value is None:
            return None
        if not SLUG.fullmatch(value):
            self.error(
                node,
                f"{what} '{value}' is not a valid id: use lowercase letters a-z, digits and "
                "hyphens (e.g. 'pieces-jointes')",
            )
            return None
        return value

    def text(self, node: Node, what: str) -> Text | None:
        """A localised text: a string (French) or a mapping ``{fr: ..., en: ...}``."""
        if isinstance(node, yaml.MappingNode):
            keys = self.mapping(node, what, required=("fr",), optional=("en",))
            if keys is None or "fr" not in keys:
                return None
            french = self.string(keys["fr"], f"{what} (fr)")
            english = self.string(keys["en"], f"{what} (en)") if "en" in keys else None
            return None if french is None else Text(french, english)
        value = self.string(node, what)
        return None if value is None else Text(value)

    def integer(self, node: Node, what: str, low: int, high: int) -> int | None:
        """A whole number within ``[low, high]``."""
        if not isinstance(node, yaml.ScalarNode) or node.tag != INT_TAG:
            self.error(node, f"{what} must be a whole number between {low} and {high}")
            return None
        try:
            value = int(str(node.value).replace("_", ""), 0)
        except ValueError:
            self.error(node, f"{what} must be a whole number between {low} and {high}")
            return None
        if not low <= value <= high:
            self.error(node, f"{what} must be between {low} and {high}, not {value}")
            return None
        return value

    def number(self, node: Node, what: str) -> Decimal | None:
        """A finite decimal number (int or float in YAML), read exactly."""
        if not isinstance(node, yaml.ScalarNode) or node.tag not in (INT_TAG, FLOAT_TAG):
            self.error(node, f'{what} must be a number (write 3.5, not "3,5")')
            return None
        raw = str(node.value).replace("_", "")
        try:
            value = Decimal(int(raw, 0)) if node.tag == INT_TAG else Decimal(raw)
        except (ValueError, InvalidOperation):
            value = None
        if value is None or not value.is_finite():
            self.error(node, f"{what} must be a finite number")
            return None
        return value

    def real(self, node: Node, what: str, low: float, high: float) -> float | None:
        """A number within ``[low, high]``, as a float (for model parameters)."""
        value = self.number(node, what)
        if value is None:
            return None
        if not low <= value <= high:
            self.error(node, f"{what} must be between {low} and {high}, not {value}")
            return None
        return float(value)

    def boolean(self, node: Node, what: str) -> bool | None:
        """``true`` or ``false``."""
        if isinstance(node, yaml.ScalarNode) and node.tag == BOOL_TAG:
            word = str(node.value).lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
        self.error(node, f"{what} must be true or false")
        return None

    def choice(self, node: Node, what: str, choices: Collection[str]) -> str | None:
        """One of a fixed set of words."""
        value = self.string(node, what)
        if value is None:
            return None
        if value not in choices:
            listed = ", ".join(sorted(choices))
            self.error(node, f"{what} must be one of: {listed} (not '{value}')")
            return None
        return value

    def strings(self, node: Node, what: str, *, allow_empty: bool = True) -> list[str] | None:
        """A list of non-empty texts."""
        items = self.sequence(node, what, allow_empty=allow_empty)
        if items is None:
            return None
        values = [self.string(item, f"each item of {what}") for item in items]
        if any(value is None for value in values):
            return None
        return [value for value in values if value is not None]


def _kind(node: Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "found a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "found a list"
    if node.tag == NULL_TAG:
        return "found nothing"
    return f"found '{_short(str(node.value))}'"


def _short(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _suggest(key: str, allowed: Collection[str]) -> str:
    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    if close:
        return f" (did you mean '{close[0]}'?)"
    return f"; allowed keys: {', '.join(sorted(allowed))}"
