"""``content/durations.yaml``: the measured duration of every parcours, written by a command.

Durations are measured (``lti_tool.domain.durations``), never typed: ``socle simulate
--durations --write`` runs the documented simulation and writes this file; the loader reads it
and gives each parcours its ``duration`` (minutes) and ``expected_challenges``. The method is
stored with the figures so that a test can re-run exactly the same measure and fail when the
content changed without the file being regenerated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from lti_tool.content.loader import DURATIONS_FILE
from lti_tool.domain.durations import DEFAULT_LEARNERS, DEFAULT_SEED, DurationMeasure

HEADER = (
    "# Measured by `socle simulate --durations --write`: do not edit by hand.\n"
    "# Median attempt of simulated learners taking each parcours with the real engine; time\n"
    "# per challenge from the model in lti_tool/domain/durations.py (docs/content-format.md).\n"
)


@dataclass(frozen=True, slots=True)
class Method:
    """How the stored durations were measured."""

    algorithm: str = "socle"
    world: str = "standard"
    learners: int = DEFAULT_LEARNERS
    seed: int = DEFAULT_SEED


def read_method(content_dir: Path) -> Method | None:
    """The method stored in ``durations.yaml`` (``None`` when the file is absent).

    The loader has already validated the file; this only reads it back.
    """
    path = content_dir / DURATIONS_FILE
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    method = data["method"]
    return Method(
        algorithm=str(method["algorithm"]),
        world=str(method["world"]),
        learners=int(method["learners"]),
        seed=int(method["seed"]),
    )


def read_measures(content_dir: Path) -> dict[str, tuple[int, int]]:
    """``{parcours id: (challenges, minutes)}`` as stored."""
    path = content_dir / DURATIONS_FILE
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        str(pid): (int(values["challenges"]), int(values["minutes"]))
        for pid, values in (data.get("parcours") or {}).items()
    }


def render(method: Method, measures: Sequence[DurationMeasure]) -> str:
    """The text of ``durations.yaml`` (stable order, one parcours a line)."""
    lines = [
        HEADER.rstrip("\n"),
        "method:",
        f"  algorithm: {method.algorithm}",
        f"  world: {method.world}",
        f"  learners: {method.learners}",
        f"  seed: {method.seed}",
        "parcours:",
    ]
    lines.extend(
        f"  {m.parcours_id}: {{challenges: {m.challenges}, minutes: {m.minutes}}}"
        for m in sorted(measures, key=lambda m: m.parcours_id)
    )
    return "\n".join(lines) + "\n"


def write(content_dir: Path, method: Method, measures: Sequence[DurationMeasure]) -> Path:
    """Write ``durations.yaml`` atomically (a reader never sees half a file)."""
    path = content_dir / DURATIONS_FILE
    temporary = path.with_name(f".{DURATIONS_FILE}.tmp")
    temporary.write_text(render(method, measures), encoding="utf-8")
    temporary.replace(path)
    return path
