"""Reading the assessment content (``content/``): YAML files in, domain values out.

All file I/O and YAML parsing live here so that ``lti_tool.domain`` stays pure. The CLI
commands are in ``lti_tool.content.commands`` (imported on demand: they need click).
"""

from __future__ import annotations

from lti_tool.content.loader import LintReport, lint_content, load_content
from lti_tool.content.problems import ContentError, Problem, Severity

__all__ = ["ContentError", "LintReport", "Problem", "Severity", "lint_content", "load_content"]
