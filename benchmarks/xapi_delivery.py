"""Benchmark of xAPI delivery and of the cost the outbox adds to an answer's transaction.

Run: ``.venv/bin/python benchmarks/xapi_delivery.py`` (needs Node and ``npm ci`` in tests/lrs).

1. Statements per second delivered to the real LRS (xapi-statements, in memory) by
   ``Worker.run_once`` with batches of 50 versus one request per statement. Target: batching
   at least 10x faster.
2. Milliseconds per answer of a transaction on a SQLite file that writes the answer row, with
   and without ``enqueue`` of its ``answered`` statement (and the statement's build time).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.xapi import samples
from tests.xapi.lrs_peer import LRS_SERVER, LrsProcess
from xapi.builders import StatementBuilder
from xapi.delivery import LrsSettings, Worker
from xapi.outbox import enqueue, metadata

answers_metadata = MetaData()
answers_table = Table(
    "bench_answers",
    answers_metadata,
    Column("id", Integer, primary_key=True),
    Column("attempt", String(36)),
    Column("challenge", String(100)),
    Column("status", String(10)),
)


def _statements(count: int) -> list[dict[str, object]]:
    builder = StatementBuilder(samples.BASE_URL)
    statements: list[dict[str, object]] = []
    while len(statements) < count:
        statements.extend(samples.full_attempt(builder, uuid.uuid4()))
    return statements[:count]


def delivery_rate(endpoint: str, workdir: Path, count: int, batch_size: int) -> float:
    """Statements per second for one worker pass over ``count`` fresh statements."""
    engine = create_engine(f"sqlite:///{workdir / f'delivery-{batch_size}.sqlite3'}")
    metadata.create_all(engine)
    with engine.begin() as conn:
        enqueue(conn, _statements(count))
    settings = LrsSettings(
        endpoint=endpoint, username="bench", password="bench", batch_size=batch_size
    )
    with Worker(engine, settings) as worker:
        started = time.perf_counter()
        report = worker.run_once()
        elapsed = time.perf_counter() - started
    engine.dispose()
    if report.delivered != count:
        raise SystemExit(f"only {report.delivered} of {count} delivered: {report}")
    return count / elapsed


def enqueue_cost(workdir: Path, answers: int) -> tuple[float, float, float]:
    """(ms per answer transaction without outbox, with outbox, ms to build one statement)."""
    engine = create_engine(f"sqlite:///{workdir / 'enqueue.sqlite3'}")
    metadata.create_all(engine)
    answers_metadata.create_all(engine)
    builder = StatementBuilder(samples.BASE_URL)
    attempt = samples.attempt(uuid.uuid4())
    template = samples.answers()[1]
    prepared = [replace(template, sequence=index + 1) for index in range(answers)]

    started = time.perf_counter()
    built = [builder.challenge_answered(attempt, answer) for answer in prepared]
    build_ms = (time.perf_counter() - started) * 1000 / answers

    def run(with_outbox: bool) -> float:
        started = time.perf_counter()
        for answer, statement in zip(prepared, built, strict=True):
            with engine.begin() as conn:
                conn.execute(
                    answers_table.insert().values(
                        attempt=str(attempt.id), challenge=answer.challenge.id, status="ko"
                    )
                )
                if with_outbox:
                    enqueue(conn, [statement])
        return (time.perf_counter() - started) * 1000 / answers

    run(True)  # warm-up: table pages, statement cache
    without = min(run(False) for _ in range(3))
    with_outbox = min(run(True) for _ in range(3))
    engine.dispose()
    return without, with_outbox, build_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batched", type=int, default=2000, help="statements, batches of 50")
    parser.add_argument("--single", type=int, default=300, help="statements, one per request")
    parser.add_argument("--answers", type=int, default=300, help="answer transactions")
    args = parser.parse_args()

    node = shutil.which("node")
    if node is None or not LRS_SERVER.exists():
        raise SystemExit("needs Node and `npm ci` in tests/lrs (the LRS peer)")
    with tempfile.TemporaryDirectory(prefix="xapi-bench-") as tmp:
        workdir = Path(tmp)
        lrs = LrsProcess(node, workdir)
        lrs.start()
        try:
            delivery_rate(lrs.endpoint, workdir, 100, 50)  # warm-up (JIT, connections)
            batched = delivery_rate(lrs.endpoint, workdir, args.batched, 50)
            single = delivery_rate(lrs.endpoint, workdir, args.single, 1)
        finally:
            lrs.stop()
        without, with_outbox, build_ms = enqueue_cost(workdir, args.answers)

    rows = [
        ("delivery, batches of 50", f"{batched:,.0f} statements/s", f"{args.batched} statements"),
        (
            "delivery, 1 statement/request",
            f"{single:,.0f} statements/s",
            f"{args.single} statements",
        ),
        ("batching speed-up", f"{batched / single:.1f}x", "target >= 10x"),
        ("answer transaction, no outbox", f"{without:.3f} ms", f"{args.answers} commits, SQLite"),
        ("answer transaction + enqueue", f"{with_outbox:.3f} ms", "same, one statement each"),
        ("cost of enqueue", f"{with_outbox - without:+.3f} ms/answer", ""),
        ("build one 'answered' statement", f"{build_ms:.3f} ms", "tincan + finalize"),
    ]
    widths = [max(len(row[index]) for row in rows) for index in range(3)]
    print(f"{'measure'.ljust(widths[0])}  {'value'.ljust(widths[1])}  note")
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    if batched / single < 10:
        raise SystemExit("batching is less than 10x faster than one request per statement")


if __name__ == "__main__":
    main()
