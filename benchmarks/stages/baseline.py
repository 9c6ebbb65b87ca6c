"""Stage ``baseline``: benchmarks/bare_app.py, bare FastAPI routes on zstack-mock's create, login and image
query paths; for each, a warm-up then a measured run.

It has no report row of its own: its runs are what the mock stage's throughput is compared with.
"""

from __future__ import annotations

from harness import Bench, page_bytes
from serving import CREATE, HOST, LOGIN_PATH, QUERY_PAGE, bare_server

SESSION = "0" * 32  # the baseline ignores the Authorization header; same request as against zstack-mock


def run(bench: Bench) -> None:
    server = bare_server(bench.workdir / "bare.log")
    print(f"[{bench.step}] bare FastAPI baseline on {HOST}:{server.port}", flush=True)
    try:
        server.start()
        server.first_answer()
        bench.measure(server, "create/bare", "create.lua", CREATE, [SESSION])
        bench.measure(server, "login/bare", "login.lua", LOGIN_PATH, [])
        bench.facts.setdefault("query_page_bytes", {})["bare"] = page_bytes(server, SESSION)
        bench.measure(server, "query/bare", "query.lua", QUERY_PAGE, [SESSION])
    finally:
        server.stop()
