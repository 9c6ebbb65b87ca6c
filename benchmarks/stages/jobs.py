"""Watching the async stage's jobs: the control API's job list and the drain after a load, a webhook
receiver and a probe beside the wrk load, and what one round of the stage saw through them.

During each async measured run:

* a **probe** thread submits the same create every 100 ms (on a fixed schedule, one new connection
  each) with ``X-Web-Hook`` pointing at a receiver served on loopback in this process, and notes the
  time its 202 was read and the time the webhook POST for that job (``X-Job-UUID``) arrived;
* after wrk exits, ``GET /_mock/jobs?status=Running&limit=1`` is polled every 10 ms until it is empty
  (at most 60 s): the drain time, from the end of the load to no job Running;
* then ``GET /_mock/jobs?limit=10000`` (newest first, the control API's cap) gives every sampled job's
  createDate and finishDate: the jobs created between just before the measured run and just after it
  (the window), without a webhook (the probe's are counted apart). When a run's jobs do not all fit,
  the sample is the newest 10,000 (the report says so).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness import WrkRun, get_json, percentiles
from serving import CREATE, HOST, STOP_TIMEOUT, STORAGE, Server

JOB_DURATION_S = 0.5  # --job-duration: every job takes exactly this long
PROBE_INTERVAL_S = 0.1  # the webhook probe submits a job this often while wrk runs
JOBS_LIST_LIMIT = 10_000  # the most GET /_mock/jobs returns (newest first)
DRAIN_TIMEOUT_S = 60.0  # after the load, wait this long at most for the last job to finish
DRAIN_POLL_S = 0.01


def list_jobs(server: Server, query: str = "") -> list[dict[str, Any]]:
    """``GET /_mock/jobs?<query>limit=10000``: the newest 10,000 jobs (the control API's cap)."""
    jobs: list[dict[str, Any]] = get_json(server, f"/_mock/jobs?{query}limit={JOBS_LIST_LIMIT}")["jobs"]
    return jobs


def wait_for_drain(server: Server, load_end: float) -> float | None:
    """Seconds from the end of the load until no job is Running (polled every 10 ms); None on timeout."""
    deadline = load_end + DRAIN_TIMEOUT_S
    while time.perf_counter() < deadline:
        server.check_alive()
        if not get_json(server, "/_mock/jobs?status=Running&limit=1")["jobs"]:
            return time.perf_counter() - load_end
        time.sleep(DRAIN_POLL_S)
    return None


def parse_date(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class WebhookReceiver:
    """A loopback HTTP server in this process that notes when each job's webhook POST arrives."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}  # job uuid -> time.perf_counter() of the first POST
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                now = time.perf_counter()
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.arrivals.setdefault(self.headers.get("X-Job-UUID", ""), now)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{HOST}:{self.httpd.server_address[1]}/webhook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="webhook receiver", daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(STOP_TIMEOUT)

    def wait_for(self, uuids: list[str], timeout: float) -> dict[str, float]:
        """The arrival times of these jobs' webhooks, waiting up to ``timeout`` seconds for the last ones."""
        deadline = time.perf_counter() + timeout
        while True:
            with self.lock:
                found = {uuid: self.arrivals[uuid] for uuid in uuids if uuid in self.arrivals}
            if len(found) == len(uuids) or time.perf_counter() >= deadline:
                return found
            time.sleep(0.02)


@dataclass
class ProbeSubmission:
    uuid: str
    sent: float  # time.perf_counter() when the request was sent
    accepted: float  # ... and when its 202 had been read


class JobProbe:
    """A client beside the wrk load: submits the create with ``X-Web-Hook`` every 100 ms (on schedule, one
    new connection each), and notes when each 202 arrives."""

    def __init__(self, port: int, session: str, webhook_url: str) -> None:
        self.port = port
        self.headers = {
            "Authorization": f"OAuth {session}",
            "Content-Type": "application/json",
            "Prefer": "respond-async",
            "X-Web-Hook": webhook_url,
        }
        self.body = json.dumps({"params": {"backupStorageUuid": STORAGE, "name": "probe"}})
        self.accepted: list[ProbeSubmission] = []
        self.submitted = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(STOP_TIMEOUT)

    def _run(self) -> None:
        next_at = time.perf_counter()
        while not self._stop.is_set():
            self.submitted += 1
            conn = http.client.HTTPConnection(HOST, self.port, timeout=5.0)
            try:
                sent = time.perf_counter()
                conn.request("POST", CREATE, body=self.body, headers=self.headers)
                response = conn.getresponse()
                body = response.read()
                accepted = time.perf_counter()
                if response.status == 202:
                    location = json.loads(body)["location"]
                    self.accepted.append(ProbeSubmission(location.rsplit("/", 1)[-1], sent, accepted))
                else:
                    self.errors.append(f"{response.status} {body[:200]!r}")
            except (OSError, http.client.HTTPException, ValueError, KeyError) as exc:
                self.errors.append(repr(exc))
            finally:
                conn.close()
            next_at += PROBE_INTERVAL_S
            self._stop.wait(max(0.0, next_at - time.perf_counter()))


@dataclass
class AsyncRound:
    """One async run: its wrk figures, and the jobs it accepted as the control API and the probe saw them."""

    number: int
    accepted: int  # 202s counted by wrk in the measured run
    created: int | None  # jobs the server created in the run's window, when the list holds them all: a few
    #                      more than wrk counted (requests in flight when wrk stopped); None if not known
    finished: int  # accepted minus the jobs of the run still Running when the drain gave up
    unfinished: int  # jobs of the run still Running when the drain gave up (0 when it did not)
    drain_s: float | None  # from the end of the load until no job was Running; None: timed out
    listed: int  # jobs of the run (not the probe's) among the newest 10,000 listed
    listed_all: bool  # the list reached back past the run's start: it holds every job of the run
    listed_span_s: float  # the part of the run they were accepted in (the last ... seconds of it)
    failed: int  # jobs that ended Failed, over the whole server (should be none)
    lateness_ms: list[float]  # finishDate - createDate - 0.5 s, for each listed job of the run
    lateness_due_in_load_ms: list[float]  # the same, for those due before the load ended
    lateness_by_second: list[dict[str, Any]]  # the same by second of the run in which the job was accepted
    probe_submitted: int
    probe_errors: list[str]
    probe_lateness_ms: list[float]  # from the probe's 202 to its webhook POST, minus 0.5 s
    probe_server_lateness_ms: list[float]  # the probe's jobs as the control API saw them
    probe_accept_ms: list[float]  # the probe's request-to-202 times
    probe_missing_webhooks: int

    @classmethod
    def build(
        cls,
        number: int,
        run: WrkRun,
        window_start: datetime,
        window_end: datetime,
        drain_s: float | None,
        listed: list[dict[str, Any]],
        still_running: list[dict[str, Any]],
        failed: int,
        probe: JobProbe,
        arrivals: dict[str, float],
    ) -> AsyncRound:
        duration_ms = JOB_DURATION_S * 1000
        in_window = [j for j in listed if window_start <= parse_date(j["createDate"]) <= window_end]
        ours = [j for j in in_window if j["webhook"] is None]  # wrk's jobs; the probe's carry a webhook
        probes = {j["uuid"]: j for j in in_window if j["webhook"] is not None}
        lateness, due_in_load = [], []
        by_second: dict[int, list[float]] = {}
        for job in ours:
            if job["finishDate"] is None:
                continue
            created = parse_date(job["createDate"])
            late = (parse_date(job["finishDate"]) - created).total_seconds() * 1000 - duration_ms
            lateness.append(late)
            by_second.setdefault(int((created - window_start).total_seconds()), []).append(late)
            if job["dueDate"] is not None and parse_date(job["dueDate"]) <= window_end:
                due_in_load.append(late)
        probe_server = [
            (parse_date(j["finishDate"]) - parse_date(j["createDate"])).total_seconds() * 1000 - duration_ms
            for j in probes.values()
            if j["finishDate"] is not None
        ]
        oldest = min((parse_date(j["createDate"]) for j in listed), default=window_end)
        first_listed = min((parse_date(j["createDate"]) for j in ours), default=window_end)
        running_in_window = sum(
            1 for j in still_running if window_start <= parse_date(j["createDate"]) <= window_end and j["webhook"] is None
        )
        listed_all = len(listed) < JOBS_LIST_LIMIT or oldest < window_start
        created_count = len(ours) if listed_all else None
        return cls(
            number=number,
            accepted=run.ok,
            created=created_count,
            finished=run.ok - running_in_window,
            unfinished=running_in_window,
            drain_s=drain_s,
            listed=len(ours),
            listed_all=listed_all,
            listed_span_s=(window_end - first_listed).total_seconds(),
            failed=failed,
            lateness_ms=lateness,
            lateness_due_in_load_ms=due_in_load,
            lateness_by_second=[
                {"second": second, **percentiles(values)} for second, values in sorted(by_second.items())
            ],
            probe_submitted=probe.submitted,
            probe_errors=probe.errors,
            probe_lateness_ms=[
                (arrivals[s.uuid] - s.accepted) * 1000 - duration_ms for s in probe.accepted if s.uuid in arrivals
            ],
            probe_server_lateness_ms=probe_server,
            probe_accept_ms=[(s.accepted - s.sent) * 1000 for s in probe.accepted],
            probe_missing_webhooks=sum(1 for s in probe.accepted if s.uuid not in arrivals),
        )

    def describe(self) -> str:
        server, probe = percentiles(self.lateness_ms), percentiles(self.probe_lateness_ms)
        drained = f"drained {self.drain_s:.2f} s after the load" if self.drain_s is not None else (
            f"NOT drained after {DRAIN_TIMEOUT_S:.0f} s"
        )
        sample = "all of them" if self.listed_all else f"the newest {self.listed:,}: last {self.listed_span_s:.1f} s"
        created = "" if self.created is None else f" (the server created {self.created:,})"
        return (
            f"{self.accepted:,} jobs accepted{created}, {self.finished:,} finished, {self.failed} failed, {drained}; "
            f"lateness ({sample}) p50 {server['p50']} / p99 {server['p99']} / max {server['max']} ms; "
            f"probe: {len(self.probe_lateness_ms)} webhooks, lateness p50 {probe['p50']} / p99 {probe['p99']} / "
            f"max {probe['max']} ms"
        )


def summarise(rounds: list[AsyncRound]) -> dict[str, Any]:
    """The async facts for the JSON: per round and pooled over the rounds (lateness in ms)."""

    def pooled(attribute: str) -> dict[str, Any]:
        return percentiles([value for r in rounds for value in getattr(r, attribute)])

    drains = [r.drain_s for r in rounds]
    return {
        "job_duration_s": JOB_DURATION_S,
        "rounds": [
            {
                "round": r.number,
                "accepted": r.accepted,
                "created": r.created,
                "finished": r.finished,
                "unfinished": r.unfinished,
                "failed": r.failed,
                "drain_s": None if r.drain_s is None else round(r.drain_s, 3),
                "listed_jobs": r.listed,
                "listed_all_jobs_of_the_run": r.listed_all,
                "listed_last_seconds_of_the_run": round(r.listed_span_s, 2),
                "lateness_ms": percentiles(r.lateness_ms),
                "lateness_due_during_load_ms": percentiles(r.lateness_due_in_load_ms),
                "lateness_by_second_ms": r.lateness_by_second,
                "probe_submitted": r.probe_submitted,
                "probe_errors": r.probe_errors[:5],
                "probe_missing_webhooks": r.probe_missing_webhooks,
                "probe_webhook_lateness_ms": percentiles(r.probe_lateness_ms),
                "probe_server_lateness_ms": percentiles(r.probe_server_lateness_ms),
                "probe_accept_ms": percentiles(r.probe_accept_ms),
            }
            for r in rounds
        ],
        "accepted": sum(r.accepted for r in rounds),
        "created": None if any(r.created is None for r in rounds) else sum(r.created or 0 for r in rounds),
        "finished": sum(r.finished for r in rounds),
        "unfinished": sum(r.unfinished for r in rounds),
        "failed": sum(r.failed for r in rounds),
        "all_drained": all(d is not None for d in drains),
        "drain_s_max": max((d for d in drains if d is not None), default=None),
        "lateness_ms": pooled("lateness_ms"),
        "lateness_due_during_load_ms": pooled("lateness_due_in_load_ms"),
        "probe_submitted": sum(r.probe_submitted for r in rounds),
        "probe_errors": sum(len(r.probe_errors) for r in rounds),
        "probe_missing_webhooks": sum(r.probe_missing_webhooks for r in rounds),
        "probe_webhook_lateness_ms": pooled("probe_lateness_ms"),
        "probe_server_lateness_ms": pooled("probe_server_lateness_ms"),
        "probe_accept_ms": pooled("probe_accept_ms"),
    }
