"""Benchmark: Socle's adaptive algorithm against the Pix-like baseline.

Runs the same simulated population (see lti_tool/domain/simulation.py and
docs/adaptive-algorithm.md) through both algorithms, in one or more named worlds
(``--world standard`` by default, ``--world all`` for every preset), and checks the targets
in each world:

* Socle asks at most 50 challenges on average in the ``standard`` world (it asked at most
  60 % of the baseline's before the robustness work; about 35 % on today's deeper bank,
  where the baseline asks about 137);
* its exact-level accuracy is at least the baseline's (one point of slack);
* its within-one accuracy is at least 98 %.

Uses ``content/`` when it holds the parcours, otherwise a synthetic content of the same shape
generated in memory (the output says which). Exit status 1 when a target is missed.

    .venv/bin/python benchmarks/simulate.py [--learners 1000] [--seed 1] [--synthetic]
        [--world NAME ...|all]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lti_tool.content import load_content  # noqa: E402
from lti_tool.domain.adaptive import BaselineAlgorithm, SocleAlgorithm  # noqa: E402
from lti_tool.domain.simulation import WORLD_PRESETS, format_table, simulate  # noqa: E402
from lti_tool.domain.synthetic import SYNTHETIC_PARCOURS, synthetic_content  # noqa: E402
from lti_tool.domain.target import parcours_view  # noqa: E402

MAX_MEAN_CHALLENGES = 50.0
EXACT_SLACK = 0.01
MIN_WITHIN_ONE = 0.98


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content-dir", type=Path, default=ROOT / "content")
    parser.add_argument("--parcours", default="socle-commun")
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--synthetic", action="store_true", help="force synthetic content")
    parser.add_argument(
        "--world", action="append", choices=[*WORLD_PRESETS, "all"], help="repeatable"
    )
    args = parser.parse_args()
    worlds = list(WORLD_PRESETS) if "all" in (args.world or []) else args.world or ["standard"]

    real = (args.content_dir / "parcours" / f"{args.parcours}.yaml").is_file()
    if args.synthetic or not real:
        content = synthetic_content(random.Random(args.seed))
        parcours = SYNTHETIC_PARCOURS
        print("SYNTHETIC content (generated in memory, shaped like socle-commun)")
    else:
        content = load_content(args.content_dir)
        parcours = args.parcours
        print(f"REAL content from {args.content_dir}")
    view = parcours_view(content, parcours)
    print(
        f"parcours {parcours}: {len(view.competences)} competences, "
        f"{sum(len(c.tubes) for c in view.competences)} tubes, {len(view.skills)} skills, "
        f"{len(view.challenges)} challenges; {args.learners} learners, seed {args.seed}"
    )
    passed_all = True
    for world in dict.fromkeys(worlds):
        started = time.process_time()
        baseline, socle = simulate(
            view,
            [BaselineAlgorithm(), SocleAlgorithm()],
            learners=args.learners,
            seed=args.seed,
            config=WORLD_PRESETS[world],
            clock=time.perf_counter,
        )
        cpu = time.process_time() - started
        print(f"\nworld {world}")
        print(format_table([baseline, socle]))
        ratio = socle.mean_challenges / baseline.mean_challenges
        checks = [
            (
                f"mean {socle.mean_challenges:.1f} challenges ({100 * ratio:.0f} % of the "
                f"baseline) <= {MAX_MEAN_CHALLENGES:.0f}"
                + ("" if world == "standard" else " (informative outside 'standard')"),
                socle.mean_challenges <= MAX_MEAN_CHALLENGES or world != "standard",
            ),
            (
                f"exact level {100 * socle.exact_accuracy:.1f} % >= baseline "
                f"{100 * baseline.exact_accuracy:.1f} % - {100 * EXACT_SLACK:.0f} point",
                socle.exact_accuracy >= baseline.exact_accuracy - EXACT_SLACK,
            ),
            (
                f"within one {100 * socle.within_one_accuracy:.1f} % >= "
                f"{100 * MIN_WITHIN_ONE:.0f} %",
                socle.within_one_accuracy >= MIN_WITHIN_ONE,
            ),
        ]
        for label, passed in checks:
            print(f"{'PASS' if passed else 'FAIL'}  {label}")
            passed_all = passed_all and passed
        print(f"CPU time: {cpu:.1f} s")
    return 0 if passed_all else 1


if __name__ == "__main__":
    sys.exit(main())
