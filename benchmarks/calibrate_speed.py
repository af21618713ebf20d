"""Benchmark: time to calibrate ``--answers`` recorded answers (target: 100 000 in < 60 s CPU).

Answers are drawn straight from a known model (no engine, no database: only the fit is
timed) on the synthetic ``socle-commun``: each attempt answers ``--per-attempt`` random
challenges; abilities and item parameters as in ``tests/domain/test_calibration.py``.

    .venv/bin/python benchmarks/calibrate_speed.py [--answers 100000] [--per-attempt 48]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lti_tool.domain.adaptive.socle import DEFAULT_SLIP, default_guessing  # noqa: E402
from lti_tool.domain.answers import AnswerStatus  # noqa: E402
from lti_tool.domain.calibration import CalibrationSettings, Response, calibrate  # noqa: E402
from lti_tool.domain.synthetic import synthetic_content  # noqa: E402

TARGET_SECONDS = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--per-attempt", type=int, default=48)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    content = synthetic_content(random.Random(args.seed))
    ids = sorted(content.challenges)
    truth = {
        cid: (
            rng.uniform(0.8, 2.4),
            content.skills[content.challenges[cid].skill_id].level + rng.gauss(0, 0.4),
        )
        for cid in ids
    }
    responses: list[Response] = []
    attempt = 0
    while len(responses) < args.answers:
        general = rng.uniform(-0.5, 5.5)
        abilities = {code: general + rng.gauss(0, 0.6) for code in content.competences}
        for cid in rng.sample(ids, min(args.per_attempt, args.answers - len(responses))):
            challenge = content.challenges[cid]
            theta = abilities[content.skills[challenge.skill_id].competence_code]
            a, b = truth[cid]
            c = default_guessing(challenge)
            p = c + (1 - c - DEFAULT_SLIP) / (1 + math.exp(-a * (theta - b)))
            status = AnswerStatus.OK if rng.random() < p else AnswerStatus.KO
            responses.append(Response(str(attempt), cid, status))
        attempt += 1
    started = time.process_time()
    wall = time.perf_counter()
    result = calibrate(content, responses, CalibrationSettings())
    cpu = time.process_time() - started
    print(
        f"{result.answers} answers of {result.attempts} attempts, {len(content.challenges)} "
        f"challenges: {len(result.fits)} fitted in {result.iterations} EM passes "
        f"({'converged' if result.converged else 'not converged'}); "
        f"{cpu:.1f} s CPU, {time.perf_counter() - wall:.1f} s wall "
        f"({'PASS' if cpu < TARGET_SECONDS else 'FAIL'}: < {TARGET_SECONDS:.0f} s)"
    )
    return 0 if cpu < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
