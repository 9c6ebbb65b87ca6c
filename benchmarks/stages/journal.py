"""Stage ``journal``: what the request journal (``/_mock/requests``) costs the create load.

The create load on two servers in turn, each fresh: ``--journal-size 0`` (no journal: the baseline) and the
defaults (the journal on); three rounds in rotating order, medians (stages/variants.py). Checks that every
create answered 200 and that the journal holds the load's creates (or, off, holds nothing).
"""

from __future__ import annotations

import json
from typing import Any

from harness import Bench, Metric, WrkRun, get_json
from serving import CREATE, Server

from stages.variants import Variant, broken_note, cost_metric, median_rows, run_rounds

PREFIX = "journal"  # the runs' keys: "create/journal <variant> #<round>"
JOURNAL_COST_MAX = 0.10

OFF = Variant("off", "no request journal (--journal-size 0)", ("--journal-size", "0"))
ON = Variant("on", "request journal on (the default)")
VARIANTS = (OFF, ON)


def run(bench: Bench) -> None:
    print(f"[{bench.step}] request journal: rounds of the create load, each on a fresh zstack-mock with "
          "--journal-size 0 and with the default journal; the order rotates from round to round", flush=True)
    bench.facts["journal"] = run_rounds(bench, PREFIX, VARIANTS, _check_journal)


def _check_journal(variant: Variant, server: Server, run: WrkRun) -> list[str]:
    entries: list[dict[str, Any]] = get_json(server, "/_mock/requests?limit=5", timeout=30)["requests"]
    if variant is OFF:
        return [f"the journal holds {len(entries)} requests with --journal-size 0"] if entries else []
    if not any(entry.get("path") == CREATE for entry in entries):
        return [f"the journal's last requests hold no create: {json.dumps(entries)[:200]}"]
    return []


def metrics(bench: Bench) -> list[Metric]:
    figures: dict[str, Any] | None = bench.facts.get("journal")
    if figures is None:
        return []
    medians, rows = median_rows(bench, PREFIX, VARIANTS)
    rows.append(cost_metric("request journal: cost vs none", medians[ON.key], medians[OFF.key],
                            JOURNAL_COST_MAX, broken_note(figures)))
    return rows
