"""Benchmark: ``socle content audit`` and ``socle simulate --durations`` on a bank of a given size.

The near-duplicate check compares every pair of challenges that share a word (exact Jaccard,
no sampling), so its cost grows with the square of the bank; the duration measure runs the
adaptive engine for every parcours. This times both on the real content and on the real
content copied ``--copies`` times under new ids (each copy's texts get a distinct word so the
copies are not all near-duplicates of each other), to show what the item bank v2 (about three
times the first bank) will cost. CPU time of this process; targets: audit < 10 s, durations
of the real content < 60 s.

    .venv/bin/python benchmarks/content_audit.py [--copies 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lti_tool.content.audit import audit  # noqa: E402
from lti_tool.content.commands import measure_durations  # noqa: E402
from lti_tool.content.durations import Method  # noqa: E402
from lti_tool.content.loader import lint_content  # noqa: E402
from lti_tool.domain.framework import Content, Text, Tube  # noqa: E402

TARGET_AUDIT_S = 10.0
TARGET_DURATIONS_S = 60.0


def copied(content: Content, copies: int) -> Content:
    """The bank repeated ``copies`` times: tubes, skills and challenges under new ids."""
    tubes: dict[str, Tube] = {}
    for copy in range(copies):
        for tube in content.tubes.values():
            suffix = f"x{copy}"
            skills = tuple(
                dataclasses.replace(
                    skill,
                    id=f"{skill.id}-{suffix}",
                    tube_id=f"{tube.id}-{suffix}",
                    challenges=tuple(
                        dataclasses.replace(
                            c,
                            id=f"{c.id}-{suffix}",
                            skill_id=f"{skill.id}-{suffix}",
                            instruction=Text(f"{c.instruction.fr} variante{copy}{c.id}"),
                        )
                        for c in skill.challenges
                    ),
                )
                for skill in tube.skills
            )
            tubes[f"{tube.id}-{suffix}"] = dataclasses.replace(
                tube, id=f"{tube.id}-{suffix}", skills=skills
            )
    return Content(
        level_descriptors=content.level_descriptors,
        areas=content.areas,
        competences=content.competences,
        tubes=tubes,
        tutorials=content.tutorials,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3)
    args = parser.parse_args()
    report = lint_content(ROOT / "content")
    assert report.content is not None
    real = report.content
    rows = [("measure", "challenges", "CPU s", "target s")]
    for name, content in (("audit, real content", real),
                          (f"audit, real content x{args.copies}", copied(real, args.copies))):
        started = time.process_time()
        audit(content, report.places)
        rows.append((name, str(len(content.challenges)),
                     f"{time.process_time() - started:.2f}", f"{TARGET_AUDIT_S:.0f}"))
    started = time.process_time()
    measure_durations(real, Method())
    rows.append(("durations, every parcours", str(len(real.challenges)),
                 f"{time.process_time() - started:.2f}", f"{TARGET_DURATIONS_S:.0f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for index, row in enumerate(rows):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        if index == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
