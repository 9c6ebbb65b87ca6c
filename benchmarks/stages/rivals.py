"""Stage ``rivals``: zstack-mock's create beside what a team might load its client against instead.

Six servers (five on a ``serve`` without ``--workers``), one at a time, each fresh, with the create load of
the mock stage: the bare FastAPI route (benchmarks/bare_app.py), WireMock with a static stub answering the create path with zstack-mock's real
create reply (request journal on, its default; then ``--no-request-journal``), ``zstack-mock serve`` with
its defaults and one worker, and Prism proxying to a zstack-mock while validating against its OpenAPI
document (stages/rival_servers.py); and, when ``serve`` has ``--workers``, ``zstack-mock serve --workers
auto`` (every core, as WireMock uses them). Three rounds in rotating order; for each server the medians of
req/s, p99 and start to first answer, and its ratios to the bare route and to WireMock with its journal on:
rows in the report, results/rivals.md and a bar chart, results/rivals.png (stages/rival_report.py). One row
is judged: zstack-mock on every core against WireMock with its journal on, >= 1.0x.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness import Bench, Metric, create, rotations, session_of
from serving import CREATE, HOST, NO_WORKERS, BenchError, Server, bare_server, serve_has_workers

from stages.rival_report import errors_note, percent, require_chart_library, times, write_chart, write_table
from stages.rival_servers import (
    PRISM_VERSION,
    WIREMOCK_VERSION,
    Tools,
    ensure_tools,
    prism_proxy,
    wiremock_server,
)

ROUNDS = 3
ALL_CORES_VS_WIREMOCK_MIN = 1.0
CORES = os.cpu_count() or 1
SESSION = "0" * 32  # for the servers that ignore the Authorization header
CREATE_BODY = b'{"params":{"backupStorageUuid":"4ed18086e5593b86932436d02f575213","name":"bench"}}'


@dataclass(frozen=True)
class Rival:
    key: str  # in the run's key: "create/rivals <key> #<round>"
    label: str


BARE = Rival("bare", "bare FastAPI route, one uvicorn worker")
WIREMOCK = Rival("wiremock", f"WireMock {WIREMOCK_VERSION} static stub, request journal on (its default)")
WIREMOCK_NO_JOURNAL = Rival("wiremock-no-journal", f"WireMock {WIREMOCK_VERSION} static stub, --no-request-journal")
ZSTACK_MOCK = Rival("zstack-mock", "zstack-mock create, one worker, default settings")
ZSTACK_MOCK_ALL_CORES = Rival("zstack-mock-all-cores", f"zstack-mock create, --workers auto ({CORES} cores), default settings")
PRISM = Rival("prism", f"Prism {PRISM_VERSION} proxy to zstack-mock, validating (--errors)")
RIVALS = (BARE, WIREMOCK, WIREMOCK_NO_JOURNAL, ZSTACK_MOCK, ZSTACK_MOCK_ALL_CORES, PRISM)


def available_rivals() -> tuple[Rival, ...]:
    """The rivals this checkout can serve: all of them, but zstack-mock on every core needs ``--workers``."""
    return RIVALS if serve_has_workers() else tuple(r for r in RIVALS if r is not ZSTACK_MOCK_ALL_CORES)


@dataclass
class Started:
    """A server up and answering: how long it took, the session for the load, and whatever else runs
    with it (Prism's upstream), to stop afterwards."""

    server: Server
    first_answer_s: float
    session: str
    companions: tuple[Server, ...] = ()


class RivalRun:
    """The stage's state: the tools, zstack-mock's real create reply (WireMock's stub), the figures."""

    def __init__(self, bench: Bench, tools: Tools, reply: bytes) -> None:
        self.bench, self.tools, self.reply = bench, tools, reply
        self.first_answers: dict[str, list[float]] = {rival.key: [] for rival in RIVALS}
        self.starters: dict[str, Callable[[str], Started]] = {
            BARE.key: self._bare,
            WIREMOCK.key: lambda name: self._wiremock(name, journal=True),
            WIREMOCK_NO_JOURNAL.key: lambda name: self._wiremock(name, journal=False),
            ZSTACK_MOCK.key: self._zstack_mock,
            ZSTACK_MOCK_ALL_CORES.key: lambda name: self._zstack_mock(name, "--workers", "auto"),
            PRISM.key: self._prism,
        }

    def measure(self, number: int, rival: Rival) -> None:
        name = f"rivals-{rival.key}-{number}"
        started = self.starters[rival.key](name)
        try:
            started.server.name = rival.label
            self.first_answers[rival.key].append(started.first_answer_s)
            print(f"  {rival.key} #{number}: first answer after {started.first_answer_s:.3f} s", flush=True)
            key = f"create/rivals {rival.key} #{number}"
            self.bench.measure(started.server, key, "create.lua", CREATE, [started.session])
        finally:
            for server in (started.server, *started.companions):
                server.stop()

    def _bare(self, name: str) -> Started:
        server = bare_server(self.bench.workdir / f"{name}.log")
        return Started(server, _start(server)[0], SESSION)

    def _wiremock(self, name: str, *, journal: bool) -> Started:
        workdir = self.bench.workdir
        server = wiremock_server(self.tools, workdir / name, self.reply, workdir / f"{name}.log", journal=journal)
        seconds, body = _start(server, "POST", CREATE, CREATE_BODY)
        if body != self.reply:
            server.stop()
            raise BenchError(f"{server.name} answered {body[:200]!r}, not the stub's reply")
        return Started(server, seconds, SESSION)

    def _zstack_mock(self, name: str, *flags: str) -> Started:
        server = self.bench.mock_server(
            self.bench.workdir / f"{name}.db", reset=True, log_name=f"{name}.log", extra=flags
        )
        seconds, body = _start(server)
        return Started(server, seconds, session_of(body))

    def _prism(self, name: str) -> Started:
        workdir = self.bench.workdir
        upstream = self.bench.mock_server(workdir / f"{name}.db", reset=True, log_name=f"{name}-upstream.log")
        upstream.name = "zstack-mock (Prism's upstream)"
        _start(upstream)
        prism = prism_proxy(self.tools, upstream, workdir / f"{name}.log")
        try:
            seconds, body = _start(prism)  # the login, through Prism: its session is the upstream's
        except BaseException:
            upstream.stop()
            raise
        return Started(prism, seconds, session_of(body), (upstream,))


def _start(server: Server, *request: Any) -> tuple[float, bytes]:
    """Start ``server`` and wait for its first 200 (by default to the admin login), stopping it on failure."""
    server.start()
    try:
        return server.first_answer(*request)
    except BaseException:
        server.stop()
        raise


def _real_reply(bench: Bench) -> bytes:
    """zstack-mock's answer to one create, on a fresh server: the body WireMock's stub answers with."""
    server = bench.mock_server(bench.workdir / "rivals-reply.db", reset=True, log_name="rivals-reply.log")
    try:
        _, body = _start(server)
        status, reply = create(server.port, session_of(body))
    finally:
        server.stop()
    if status != 200:
        raise BenchError(f"zstack-mock answered the create with {status}: {reply[:300]!r}")
    return reply


def run(bench: Bench) -> None:
    print(f"[{bench.step}] rivals: WireMock {WIREMOCK_VERSION} and Prism {PRISM_VERSION} beside zstack-mock and "
          f"the bare route, {ROUNDS} rounds of the create load on {HOST}, the order rotating", flush=True)
    require_chart_library()
    stage = RivalRun(bench, ensure_tools(), _real_reply(bench))
    rivals = available_rivals()
    unavailable = {r.key: {"label": r.label, "reason": NO_WORKERS} for r in RIVALS if r not in rivals}
    for entry in unavailable.values():
        print(f"  {entry['label']}: {entry['reason']}; left out", flush=True)
    load_before = os.getloadavg()[0]
    order = []
    for number, rival in rotations(rivals, ROUNDS):
        order.append(f"{rival.key} #{number}")
        stage.measure(number, rival)
    figures = _figures(bench, rivals, stage.first_answers)
    load = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}  # 1-minute load average
    bench.facts["rivals"] = {
        "rounds": ROUNDS,
        "versions": {"wiremock": WIREMOCK_VERSION, "prism": PRISM_VERSION},
        "prism_mode": "proxy",
        "order": order,
        "stub_reply_bytes": len(stage.reply),
        "servers": figures,
        "unavailable": unavailable,
        "load_average": load,
        "table": str(write_table(bench, figures, unavailable, load)),
        "chart": str(write_chart(figures)),
    }


def _figures(
    bench: Bench, rivals: tuple[Rival, ...], first_answers: dict[str, list[float]]
) -> dict[str, dict[str, Any]]:
    """Each server's medians over the rounds, and its ratios to the bare route and to WireMock (journal on)."""
    figures: dict[str, dict[str, Any]] = {}
    for rival in rivals:
        keys = [f"create/rivals {rival.key} #{n}" for n in range(1, ROUNDS + 1)]
        runs = [bench.runs[key] for key in keys]
        every_run = [*runs, *(bench.warmups[key] for key in keys)]
        figures[rival.key] = {
            "label": rival.label,
            "rps": round(statistics.median(r.rps for r in runs), 1),
            "p99_ms": round(statistics.median(r.p99_ms for r in runs), 2),
            "first_answer_s": round(statistics.median(first_answers[rival.key]), 3),
            "first_answers_s": [round(s, 3) for s in first_answers[rival.key]],
            # over the warm-ups and measured runs; a socket error includes wrk giving up after 2 s
            "non_2xx": sum(r.non_2xx for r in every_run),
            "socket_errors": sum(r.socket_errors for r in every_run),
        }
    for entry in figures.values():
        entry["vs_bare"] = _ratio(entry["rps"], figures[BARE.key]["rps"])
        entry["vs_wiremock"] = _ratio(entry["rps"], figures[WIREMOCK.key]["rps"])
    return figures


def _ratio(value: float, base: float) -> float | None:
    return round(value / base, 3) if base else None


def metrics(bench: Bench) -> list[Metric]:
    facts: dict[str, Any] | None = bench.facts.get("rivals")
    if facts is None:
        return []
    rows = [
        Metric(
            f"create, {entry['label']} (median of {facts['rounds']})",
            f"{entry['rps']:,.0f} req/s, p99 {entry['p99_ms']:.1f} ms, first answer {entry['first_answer_s']:.2f} s",
            "shown",
            None,
            f"{percent(entry['vs_bare'])} of bare, {times(entry['vs_wiremock'])} WireMock (journal on)"
            + (f"; {errors_note(entry)}" if errors_note(entry) else ""),
        )
        for entry in facts["servers"].values()
    ]
    return [*rows, _all_cores_metric(facts)]


def _all_cores_metric(facts: dict[str, Any]) -> Metric:
    name = f"create, zstack-mock --workers auto vs WireMock journal on, both on {CORES} cores (medians)"
    target = f">= {ALL_CORES_VS_WIREMOCK_MIN:.1f}x"
    entry = facts["servers"].get(ZSTACK_MOCK_ALL_CORES.key)
    if entry is None:
        return Metric(name, facts["unavailable"][ZSTACK_MOCK_ALL_CORES.key]["reason"], target, None, "not measured")
    wiremock = facts["servers"][WIREMOCK.key]
    ratio = entry["vs_wiremock"] or 0.0
    return Metric(
        name,
        f"{entry['rps']:,.0f} / {wiremock['rps']:,.0f} req/s = {times(ratio)}",
        target,
        ratio >= ALL_CORES_VS_WIREMOCK_MIN and not errors_note(entry),
        errors_note(entry),
    )
