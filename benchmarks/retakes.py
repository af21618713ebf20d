"""Benchmark: retakes meet new challenges; no challenge is shown to too many agents.

Each simulated learner takes ``socle-commun`` (synthetic, every skill with
``--per-skill`` challenges), then retakes it with its first challenges passed as ``seen``;
with exposure control, every attempt also gets each challenge's share of earlier agents (as
the player passes it, from 50 agents on). Targets: retakes meet at least 70 % new challenges;
no challenge shown to more than ``max_exposure`` of the agents (+ 2 points of slack).

    .venv/bin/python benchmarks/retakes.py [--learners 120] [--seed 1] [--per-skill 3]
        [--seen-before 0.2] [--max-exposure 0.4] [--no-exposure-control] [--deep]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lti_tool.domain.adaptive import SocleAlgorithm, SocleSettings  # noqa: E402
from lti_tool.domain.simulation import simulate_retakes  # noqa: E402
from lti_tool.domain.synthetic import SYNTHETIC_PARCOURS, synthetic_content  # noqa: E402
from lti_tool.domain.target import parcours_view  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-skill", type=int, default=3)
    parser.add_argument("--seen-before", type=float, default=SocleSettings().seen_before)
    parser.add_argument("--max-exposure", type=float, default=SocleSettings().max_exposure)
    parser.add_argument("--no-exposure-control", action="store_true")
    parser.add_argument("--deep", action="store_true", help="4 tubes a competence, levels 1-7")
    args = parser.parse_args()
    shape: dict[str, object] = {"challenges_per_skill": args.per_skill}
    if args.deep:
        shape.update(levels=(1, 2, 3, 4, 5, 6, 7), tubes_per_competence=4)
    content = synthetic_content(random.Random(args.seed), **shape)  # type: ignore[arg-type]
    view = parcours_view(content, SYNTHETIC_PARCOURS)
    settings = SocleSettings(seen_before=args.seen_before, max_exposure=args.max_exposure)
    started = time.process_time()
    report = simulate_retakes(
        view,
        SocleAlgorithm(settings),
        learners=args.learners,
        seed=args.seed,
        exposure_control=not args.no_exposure_control,
    )
    print(
        f"synthetic bank: {len(view.skills)} skills, {len(view.challenges)} challenges; "
        f"{args.learners} learners, seed {args.seed}; seen_before {args.seen_before}, "
        f"exposure control {'off' if args.no_exposure_control else args.max_exposure}"
    )
    print(
        f"challenges: first attempt {report.mean_challenges:.1f}, retake "
        f"{report.retake_mean_challenges:.1f}; retakes' new challenges "
        f"{100 * report.unseen_share:.1f} % on average, retakes with ≥ 70 % new "
        f"{100 * report.retakes_mostly_new:.1f} %; most shown challenge "
        f"{report.most_exposed} to {100 * report.max_exposure:.1f} % of agents; "
        f"{time.process_time() - started:.0f} s CPU"
    )
    ok = report.unseen_share >= 0.7 and (
        args.no_exposure_control or report.max_exposure <= args.max_exposure + 0.02
    )
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
