"""Stage ``restart``: ``zstack-mock serve`` again on the mock stage's database (without ``--reset``):
time to the first answer on an existing database."""

from __future__ import annotations

from harness import Bench, Metric

from stages.mock import database

FIRST_ANSWER_MAX_S = 0.5


def run(bench: Bench) -> None:
    db = database(bench)
    server = bench.mock_server(db, reset=False)
    size = db.stat().st_size / 1e6
    print(f"[{bench.step}] zstack-mock restarted on the existing database ({size:.1f} MB)", flush=True)
    try:
        server.start()
        seconds, _ = server.first_answer()
    finally:
        server.stop()
    bench.facts["first_answer_existing_s"] = seconds
    bench.facts["existing_db_mb"] = size
    print(f"  first answer after {seconds:.3f} s", flush=True)


def metrics(bench: Bench) -> list[Metric]:
    facts = bench.facts
    if "first_answer_existing_s" not in facts:
        return []
    return [
        Metric(
            "first answer, existing DB",
            f"{facts['first_answer_existing_s']:.3f} s",
            f"<= {FIRST_ANSWER_MAX_S:g} s",
            facts["first_answer_existing_s"] <= FIRST_ANSWER_MAX_S,
        )
    ]
