"""Problems found in content, reported as ``path:line: message``.

Content is written by people in merge requests: the loader collects *every* problem before
giving up, so one lint run shows all that needs fixing. Errors stop the application from
starting; warnings (a skill without a challenge, an unused tutorial…) are shown but do not.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field


class Severity(enum.StrEnum):
    """Errors refuse the content; warnings are advice."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem at a place in a file (``line`` is 1-based, ``None`` for the whole file).

    ``path`` is relative to the content directory, with ``/`` separators on every system.
    """

    path: str
    line: int | None
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        place = self.path if self.line is None else f"{self.path}:{self.line}"
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        return f"{place}: {prefix}{self.message}"


def sort_key(problem: Problem) -> tuple[str, int, str]:
    """Order problems by file, then line (whole-file problems first), then message."""
    return (problem.path, problem.line or 0, problem.message)


@dataclass(slots=True)
class Problems:
    """Collects problems while content is read."""

    items: list[Problem] = field(default_factory=list)

    def error(self, path: str, line: int | None, message: str) -> None:
        """Record an error: the content will be refused."""
        self.items.append(Problem(path, line, message, Severity.ERROR))

    def warning(self, path: str, line: int | None, message: str) -> None:
        """Record a warning: shown by ``socle content lint``, does not block."""
        self.items.append(Problem(path, line, message, Severity.WARNING))

    @property
    def errors(self) -> list[Problem]:
        """Errors, sorted by file and line."""
        return sorted((p for p in self.items if p.severity is Severity.ERROR), key=sort_key)

    @property
    def warnings(self) -> list[Problem]:
        """Warnings, sorted by file and line."""
        return sorted((p for p in self.items if p.severity is Severity.WARNING), key=sort_key)


class ContentError(Exception):
    """The content cannot be loaded; ``str()`` lists every error, one per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems, key=sort_key)
        super().__init__(self.problems)

    def __str__(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"invalid content: {count} {noun}"]
        lines.extend(str(problem) for problem in self.problems)
        return "\n".join(lines)
