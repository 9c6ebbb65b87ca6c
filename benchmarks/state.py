"""How long POST /_mock/reset and POST /_mock/snapshots/{name}/restore take on the default fixtures.

Starts ``zstack-mock serve`` (the real command, a fresh temporary SQLite file, the default fixtures),
then ROUNDS times: dirties the state (a login, a create, an async create, a fault rule), resets, dirties
it again and restores a snapshot of the fixtures. Prints, for each, the server's own ``elapsedMs`` (the
work, from the route's start to its answer being built) and the client's round trip over HTTP on
127.0.0.1, as p50 / p90 / p99 / max, against the 50 ms target.

    .venv/bin/python benchmarks/state.py            # 200 rounds
    BENCH_STATE_ROUNDS=1000 .venv/bin/python benchmarks/state.py
"""

from __future__ import annotations

import os
import statistics
import time

import httpx
from serving import CREATE, LOGIN, LOGIN_PATH, STORAGE, auth, zstack_mock

ROUNDS = int(os.environ.get("BENCH_STATE_ROUNDS", "200"))
TARGET_MS = 50.0


def _dirty(client: httpx.Client, n: int) -> None:
    session = client.put(LOGIN_PATH, json=LOGIN).json()["inventory"]["uuid"]
    headers = auth(session)
    body = {"params": {"backupStorageUuid": STORAGE, "name": f"t{n}"}}
    assert client.post(CREATE, json=body, headers=headers).status_code == 200
    assert client.post(CREATE, json=body, headers={**headers, "Prefer": "respond-async"}).status_code == 202
    assert client.post("/_mock/faults", json={"match": {"operation": "QueryImage"}, "latency": 0}).status_code == 201


def _timed(client: httpx.Client, path: str) -> tuple[float, float]:
    started = time.perf_counter()
    response = client.post(path)
    round_trip = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.text
    return float(response.json()["elapsedMs"]), round_trip


def _row(name: str, values: list[float]) -> str:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    verdict = "PASS" if pct(0.99) <= TARGET_MS else "FAIL"
    return (f"{name:<28} {statistics.median(ordered):7.2f} {pct(0.9):7.2f} {pct(0.99):7.2f} {ordered[-1]:7.2f}"
            f"   p99 <= {TARGET_MS:g} ms {verdict}")


def measure(rounds: int = ROUNDS) -> dict[str, list[float]]:
    """``rounds`` resets and restores on a fresh server: each figure's values, in milliseconds."""
    with zstack_mock(name="state") as server:
        return measure_on(server.url, rounds)


def measure_on(url: str, rounds: int) -> dict[str, list[float]]:
    """``rounds`` resets and restores on the server at ``url`` (holding the default fixtures)."""
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.post("/_mock/snapshots", json={"name": "fixtures"}).status_code == 201
        resets: list[tuple[float, float]] = []
        restores: list[tuple[float, float]] = []
        for n in range(rounds):
            _dirty(client, n)
            resets.append(_timed(client, "/_mock/reset"))
            _dirty(client, n)
            restores.append(_timed(client, "/_mock/snapshots/fixtures/restore"))
    return {
        "reset, in the server": [s for s, _ in resets],
        "reset, HTTP round trip": [r for _, r in resets],
        "restore, in the server": [s for s, _ in restores],
        "restore, HTTP round trip": [r for _, r in restores],
    }


def main() -> int:
    figures = measure()
    print(f"{ROUNDS} rounds on the default fixtures, zstack-mock serve on 127.0.0.1, {os.cpu_count()} CPUs")
    print(f"{'ms':<28} {'p50':>7} {'p90':>7} {'p99':>7} {'max':>7}")
    for name, values in figures.items():
        print(_row(name, values))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
