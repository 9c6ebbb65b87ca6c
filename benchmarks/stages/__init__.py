"""The stages of ``make bench``, one module each, in the order benchmarks/run.py runs them: baseline,
mock, restart, scale, reset, async (``async_jobs``: ``async`` is a Python keyword), faults, journal, metrics
(``observe``), workers, postgres, rivals; ``variants`` holds what faults, journal, metrics and workers share (kinds of
server compared in rotating rounds).

Each has ``run(bench)``, which starts its servers one at a time, records its wrk runs and facts in the
``harness.Bench`` it is given and stops them, and the functions that turn those into its report rows
(``harness.Metric``, with their targets). A stage's rows are empty when it did not run (BENCH_STAGES).
"""
