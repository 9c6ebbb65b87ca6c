"""``make run-postgres``: two ``zstack-mock serve`` replicas over one PostgreSQL database, for a person to
try scale-out on one machine (docs/scale-out.md).

Starts a throwaway cluster (devtools/pgcluster.py), creates the database ``zstack`` in it, then replica A
(which creates the schema and loads the fixtures) and, once A answers ``/_mock/health``, replica B, each
its own ``serve`` process on its own port. Their output comes through, each line prefixed with the
replica's port. Ctrl-C (or SIGTERM, or either replica exiting) stops both replicas, then the cluster,
and removes its folder.

    .venv/bin/python -m devtools.run_postgres                    # ports 8080 and 8081
    .venv/bin/python -m devtools.run_postgres --ports 9000 9001
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import TextIO

import httpx

from devtools.pgcluster import Cluster, ClusterError

DEFAULT_PORTS = (8080, 8081)
DATABASE = "zstack"
HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class RunError(RuntimeError):
    pass


class Replica:
    """One ``zstack-mock serve`` process we started, its output copied to ``out`` line by line."""

    def __init__(self, name: str, port: int, database_url: str, out: TextIO, *flags: str) -> None:
        self.name = name
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self.last_lines: collections.deque[str] = collections.deque(maxlen=20)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "zstack_mock", "serve", "--host", HOST, "--port", str(port),
             "--database-url", database_url, *flags],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,  # Ctrl-C reaches this script, which stops the replicas in order
        )
        self._copier = threading.Thread(target=self._copy, args=(out,), daemon=True)
        self._copier.start()

    def _copy(self, out: TextIO) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.last_lines.append(line.rstrip())
            out.write(f"{self.name} :{self.port}| {line}")
            out.flush()

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._copier.join(5)
                raise RunError(f"replica {self.name} (port {self.port}) exited with status "
                               f"{self.process.returncode}:\n" + "\n".join(self.last_lines))
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/_mock/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RunError(f"replica {self.name} did not answer {self.url}/_mock/health within {START_TIMEOUT:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        self._copier.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()


class ScaleOut:
    """A cluster and the replicas serving its database; ``stop`` ends them all and removes the cluster."""

    def __init__(self, cluster: Cluster, database_url: str) -> None:
        self.cluster = cluster
        self.database_url = database_url
        self.replicas: list[Replica] = []

    def stop(self) -> None:
        try:
            for replica in self.replicas:
                replica.stop()
        finally:
            self.cluster.stop()


def start(ports: Sequence[int] = DEFAULT_PORTS, out: TextIO = sys.stdout, flags: Sequence[str] = ()) -> ScaleOut:
    """The cluster, then one replica per port, in turn, each answering ``/_mock/health``; ``flags`` are
    given to every replica's ``serve``."""
    cluster = Cluster()
    try:
        cluster.start()
        running = ScaleOut(cluster, cluster.create_database(DATABASE))
    except BaseException:
        cluster.stop()
        raise
    try:
        for number, port in enumerate(ports):
            running.replicas.append(Replica(chr(ord("A") + number), port, running.database_url, out, *flags))
            running.replicas[-1].wait_healthy()  # the first creates the schema and loads the fixtures alone
    except BaseException:
        running.stop()
        raise
    return running


def _banner(running: ScaleOut) -> str:
    lines = [f"zstack-mock: {len(running.replicas)} replicas over one PostgreSQL database"]
    lines += [f"  replica {replica.name}: {replica.url}" for replica in running.replicas]
    lines += [
        f"  database:  {running.database_url} (a throwaway cluster in {running.cluster.root})",
        "A session made on one replica works on the other; so do creates, jobs and fault rules.",
        "Press Ctrl-C to stop the replicas and remove the cluster.",
    ]
    return "\n".join(lines)


@contextlib.contextmanager
def _signals_as_interrupts() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP end the run with the replicas and the cluster stopped (SIGINT too when
    the shell that started the script in the background left it ignored)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, interrupt) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make run-postgres", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ports", type=int, nargs=2, default=DEFAULT_PORTS, metavar=("A", "B"),
                        help="the replicas' ports on 127.0.0.1 (default 8080 8081)")
    parser.add_argument("serve_flags", nargs=argparse.REMAINDER, metavar="-- SERVE FLAGS",
                        help="flags for every replica's zstack-mock serve, after --, e.g. -- --sandbox")
    args = parser.parse_args(argv)
    flags = args.serve_flags[1:] if args.serve_flags[:1] == ["--"] else args.serve_flags
    with _signals_as_interrupts():
        running: ScaleOut | None = None
        try:
            running = start(args.ports, flags=flags)
            print(_banner(running), flush=True)
            while all(replica.process.poll() is None for replica in running.replicas):
                time.sleep(0.2)
            gone = next(r for r in running.replicas if r.process.poll() is not None)
            print(f"run-postgres: replica {gone.name} exited with status {gone.process.returncode}; stopping",
                  file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0
        except (ClusterError, RunError) as exc:
            print(f"run-postgres: {exc}", file=sys.stderr)
            return 1
        finally:
            if running is not None:
                for signum in STOP_SIGNALS:  # a second Ctrl-C must not leave the cluster behind
                    signal.signal(signum, signal.SIG_IGN)
                running.stop()
                print("run-postgres: replicas stopped, cluster removed", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
