"""Benchmark and proof: calibrating challenges from answers recorded by the real player.

1. Draws a simulated world with known (hidden) challenge parameters (``--world``, seed fixed).
2. Runs ``--attempts`` simulated agents through ``Player.start/serve/submit`` on a SQLite
   database (the answers are graded and stored exactly like real ones).
3. Runs the calibration on the stored answers (``recorded_responses`` + ``calibrate``), times
   it, and prints how well it recovered the hidden parameters (correlation, RMSE), next to the
   nominal values the engine uses without calibration.
4. Stores the fit, reads it back the way the tool does at start-up, and simulates a fresh
   population of the same world with the uncalibrated and the calibrated engine.

Targets: calibration of at least 100 000 answers in under 60 s of CPU; the calibrated engine
no less accurate than the uncalibrated one, with no more challenges (within one challenge).

    .venv/bin/python benchmarks/calibration.py [--attempts 2000] [--world off-level-items]
        [--seed 1] [--deep] [--learners 1000]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lti_tool.calibration_store import (  # noqa: E402
    calibrated_content,
    recorded_responses,
    save_fits,
)
from lti_tool.db import Database  # noqa: E402
from lti_tool.domain.adaptive import SocleAlgorithm  # noqa: E402
from lti_tool.domain.calibration import calibrate  # noqa: E402
from lti_tool.domain.simulation import (  # noqa: E402
    WORLD_PRESETS,
    draw_learner,
    draw_world,
    format_table,
    simulate,
)
from lti_tool.domain.synthetic import SYNTHETIC_PARCOURS, synthetic_content  # noqa: E402
from lti_tool.domain.target import parcours_view  # noqa: E402
from lti_tool.migrate import upgrade_database  # noqa: E402
from lti_tool.player.service import Player  # noqa: E402
from lti_tool.simulated_agents import (  # noqa: E402
    SilentEvents,
    new_launch,
    open_classroom,
    take_attempt,
)

MAX_CALIBRATION_SECONDS = 60.0


def _rmse(xs: list[float], ys: list[float]) -> float:
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(xs, ys, strict=True)) / len(xs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=2000)
    parser.add_argument("--world", choices=list(WORLD_PRESETS), default="off-level-items")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--deep", action="store_true", help="3 challenges per skill, levels 1-7")
    parser.add_argument("--learners", type=int, default=1000, help="for the before/after runs")
    parser.add_argument("--min-answers", type=int, default=150)
    parser.add_argument(
        "--direct",
        action="store_true",
        help="attempts through the engine alone (no player, no database): faster, for scale",
    )
    args = parser.parse_args()

    content = synthetic_content(random.Random(args.seed), **(_deep() if args.deep else {}))
    view = parcours_view(content, SYNTHETIC_PARCOURS)
    config = WORLD_PRESETS[args.world]
    world = draw_world(view, random.Random(f"world:{args.seed}"), config)
    print(
        f"synthetic content{' (deep)' if args.deep else ''}: {len(view.skills)} skills, "
        f"{len(view.challenges)} challenges; world {args.world}, seed {args.seed}; "
        f"{args.attempts} attempts through {'the engine alone' if args.direct else 'the player'}"
    )
    if args.direct:
        calibrated, fit_cpu = _direct(args, content, view, world, config)
    else:
        calibrated, fit_cpu = _through_player(args, content, view, world, config)
    before = SocleAlgorithm()
    after = SocleAlgorithm()
    after.name = "socle calibrated"  # type: ignore[misc]
    seed = args.seed + 1000
    reports = [
        simulate(
            parcours_view(source, SYNTHETIC_PARCOURS),
            [algorithm],
            learners=args.learners,
            seed=seed,
            config=config,
            world=world,
        )[0]
        for source, algorithm in ((content, before), (calibrated, after))
    ]
    print(f"\nfresh learners (seed {seed}) in the same world:")
    print(format_table(reports))
    slower = reports[1].mean_challenges > reports[0].mean_challenges + 1.0
    worse = reports[1].within_one_accuracy < reports[0].within_one_accuracy - 0.003
    ok = fit_cpu < MAX_CALIBRATION_SECONDS and not slower and not worse
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


def _through_player(args, content, view, world, config):  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/calibration.db"
        upgrade_database(url, secret_key="benchmark-only-secret-key-0123456789")
        database = Database(url)
        player = Player(content, SilentEvents())
        population = random.Random(f"calibration-agents:{args.seed}")
        started = time.perf_counter()
        with database.session() as session:
            classroom = open_classroom(session, SYNTHETIC_PARCOURS, "https://lms.simulated")
            session.commit()
            for index in range(args.attempts):
                learner = draw_learner(view, population, config)
                launch = new_launch(session, classroom)
                take_attempt(
                    session,
                    player,
                    launch,
                    learner,
                    world=world,
                    rng=random.Random(f"calibration-answers:{args.seed}:{index}"),
                )
                session.commit()
        print(f"attempts: {time.perf_counter() - started:.0f} s wall")

        with database.session() as session:
            started_cpu = time.process_time()
            responses = list(recorded_responses(session))
            read = time.process_time() - started_cpu
            started_cpu = time.process_time()
            result = calibrate(content, responses, _settings(args.min_answers))
            fit_cpu = time.process_time() - started_cpu + read
            print(
                f"calibration: {result.answers} answers of {result.attempts} attempts, "
                f"{len(result.fits)} challenges fitted (≥ {args.min_answers} answers), "
                f"{result.iterations} EM passes; read {read:.1f} s + fit {fit_cpu:.1f} s CPU "
                f"(target < {MAX_CALIBRATION_SECONDS:.0f} s)"
            )
            _recovery(view, world, result)
            save_fits(session, result.fits, "simulation")
            session.commit()
        with database.session() as session:
            calibrated = calibrated_content(content, session)
        database.dispose()
    return calibrated, fit_cpu


def _direct(args, content, view, world, config):  # type: ignore[no-untyped-def]
    from lti_tool.calibration_store import with_calibrations
    from lti_tool.domain.calibration import Response
    from lti_tool.domain.simulation import run_attempt

    population = random.Random(f"calibration-agents:{args.seed}")
    algorithm = SocleAlgorithm()
    responses: list[Response] = []
    started = time.process_time()
    for index in range(args.attempts):
        learner = draw_learner(view, population, config)
        outcome = run_attempt(
            algorithm,
            view,
            world,
            learner,
            seed=f"calibration:{args.seed}:{index}",
            answer_rng=random.Random(f"calibration-answers:{args.seed}:{index}"),
        )
        responses += [Response(str(index), a.challenge_id, a.status) for a in outcome.answers]
    print(f"attempts: {time.process_time() - started:.0f} s CPU")
    started_cpu = time.process_time()
    result = calibrate(content, responses, _settings(args.min_answers))
    fit_cpu = time.process_time() - started_cpu
    print(
        f"calibration: {result.answers} answers of {result.attempts} attempts, "
        f"{len(result.fits)} challenges fitted (≥ {args.min_answers} answers), "
        f"{result.iterations} EM passes; fit {fit_cpu:.1f} s CPU "
        f"(target < {MAX_CALIBRATION_SECONDS:.0f} s)"
    )
    _recovery(view, world, result)
    calibrated = with_calibrations(content, {cid: f.calibration for cid, f in result.fits.items()})
    return calibrated, fit_cpu


def _deep() -> dict[str, object]:
    return {"levels": (1, 2, 3, 4, 5, 6, 7), "challenges_per_skill": 3, "tubes_per_competence": 4}


def _settings(min_answers: int):  # type: ignore[no-untyped-def]
    from lti_tool.domain.calibration import CalibrationSettings

    return CalibrationSettings(min_answers=min_answers)


def _recovery(view, world, result) -> None:  # type: ignore[no-untyped-def]
    fits = list(result.fits.values())
    if len(fits) < 3:
        print("too few fitted challenges to measure recovery")
        return
    true_b = [world.items[f.challenge_id].difficulty for f in fits]
    fitted_b = [f.difficulty for f in fits]
    nominal_b = [float(f.level) for f in fits]
    true_a = [world.items[f.challenge_id].discrimination for f in fits]
    fitted_a = [f.discrimination for f in fits]
    nominal_a = [1.7] * len(fits)
    print(
        f"difficulty: correlation with the truth {statistics.correlation(true_b, fitted_b):.3f} "
        f"(nominal levels {statistics.correlation(true_b, nominal_b):.3f}), "
        f"RMSE {_rmse(true_b, fitted_b):.3f} (nominal {_rmse(true_b, nominal_b):.3f}), "
        f"mean standard error {statistics.mean(f.difficulty_se for f in fits):.3f}"
    )
    print(
        f"discrimination: correlation {statistics.correlation(true_a, fitted_a):.3f}, "
        f"RMSE {_rmse(true_a, fitted_a):.3f} (constant 1.7: {_rmse(true_a, nominal_a):.3f}), "
        f"mean standard error {statistics.mean(f.discrimination_se for f in fits):.3f}"
    )
    covered = sum(
        abs(t - f.difficulty) <= 1.96 * f.difficulty_se for t, f in zip(true_b, fits, strict=True)
    )
    print(f"true difficulty inside fitted ± 1.96 se: {100 * covered / len(fits):.0f} %")


if __name__ == "__main__":
    sys.exit(main())
