"""``serve --workers N``: N processes serving one port over one database.

The parent has done the one-time start-up (reset, fixtures, the ``--faults`` rules, the sandbox's
directory) and closed every database before it gets here: a SQLite connection or a thread must not
cross a fork. It binds the socket, then forks the workers. Forking after the imports, rather than
spawning interpreters that import everything again, is what keeps a worker's start to tens of
milliseconds. Each worker builds its own app (``build_app``: reset off, rules left as they are) and
serves the inherited socket with uvicorn and the same bounded protocol as a single process; the
kernel hands each new connection to one of them.

A worker says through a pipe that it accepts requests, or why it could not start. The parent prints
the ready line and writes the port file once, when every worker has said so. SIGTERM or SIGINT to
the parent is passed on as SIGTERM to each worker (each finishes its requests in progress); a worker
still running ``shutdown_timeout`` + 5 s later is killed. A worker that dies while serving is
replaced; one that cannot start stops the server with one ``cannot start:`` line, at start-up, or
after ``MAX_START_FAILURES`` replacements in a row that could not start.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uvicorn

from ..settings import Settings
from .config import announce, logged_config

#: Replacement workers in a row that may fail to start before the server gives up.
MAX_START_FAILURES = 5
#: Seconds beyond ``shutdown_timeout`` a stopping worker gets before it is killed.
STOP_GRACE = 5.0
_READY = b"R"
_FAILED = b"E"


class WorkerStartError(Exception):
    """A worker could not start; the message is the reason, one line."""


@dataclass
class _Worker:
    index: int
    pid: int
    #: The read end of the worker's pipe: one byte when it serves, or ``E`` and why it could not start.
    pipe: int
    ready: bool = False
    message: str = ""


class Supervisor:
    def __init__(self, settings: Settings, build_app: Callable[[int], Any],
                 on_worker_exit: Callable[[int, int], None] = lambda index, pid: None) -> None:
        """``build_app(index)`` runs in worker ``index``'s process; ``on_worker_exit(index, pid)`` in the
        parent when that worker has gone (for what it shared)."""
        self.settings = settings
        self.count = settings.worker_count
        self.build_app = build_app
        self.on_worker_exit = on_worker_exit
        self.workers: dict[int, _Worker] = {}
        self.stopping = False
        self.announced = False
        self.start_failures = 0
        self._wake_read, self._wake_write = os.pipe()
        self.socket: socket.socket | None = None

    # -- the parent ---------------------------------------------------------------------------------

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; 0, or 1 when the workers could not start (said on stderr)."""
        config = logged_config(None, self.settings)
        self.socket = config.bind_socket()
        self.socket.listen(config.backlog)
        host, port = config.host, int(self.socket.getsockname()[1])
        os.set_blocking(self._wake_write, False)
        previous_wakeup = signal.set_wakeup_fd(self._wake_write)
        handlers = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD)}
        try:
            for index in range(self.count):
                self._start(index)
            self._supervise(host, port)
            return 0
        except WorkerStartError as exc:
            print(f"zstack-mock: cannot start: {exc}", file=sys.stderr, flush=True)
            return 1
        finally:
            self._stop_all()
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(previous_wakeup)
            self.socket.close()
            if self.announced and self.settings.port_file is not None:
                self.settings.port_file.unlink(missing_ok=True)

    def _handle(self, sig: int, frame: Any) -> None:
        if sig != signal.SIGCHLD:
            self.stopping = True

    def _supervise(self, host: str, port: int) -> None:
        while not self.stopping:
            starting = [worker.pipe for worker in self.workers.values() if not worker.ready]
            with contextlib.suppress(InterruptedError):
                readable, _, _ = select.select([self._wake_read, *starting], [], [], 1.0)
                if self._wake_read in readable:
                    os.read(self._wake_read, 4096)
                for worker in list(self.workers.values()):
                    if worker.pipe in readable:
                        self._hear(worker)
            self._reap()
            if not self.announced and not self.stopping and all(w.ready for w in self.workers.values()):
                announce(host, port, self.settings)
                self.announced = True

    def _hear(self, worker: _Worker) -> None:
        data = os.read(worker.pipe, 65536)
        if data.startswith(_READY):
            worker.ready = True
            self.start_failures = 0
        elif data.startswith(_FAILED):
            worker.message = data[1:].decode("utf-8", "replace").strip()

    def _reap(self) -> None:
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = next((w for w in self.workers.values() if w.pid == pid), None)
            if worker is None:
                continue
            self._forget(worker)
            if self.stopping:
                continue
            if not worker.ready:
                with contextlib.suppress(OSError):
                    self._hear(worker)  # why it could not start, if it said before it went
                self.start_failures += 1
                reason = worker.message or f"worker {worker.index} {_exit_text(status)} before serving"
                if not self.announced or self.start_failures >= MAX_START_FAILURES:
                    raise WorkerStartError(reason)
                time.sleep(min(2.0, 0.1 * 2 ** self.start_failures))  # a replacement failing again: not in a tight loop
            else:
                print(f"zstack-mock: worker {worker.index} (pid {pid}) {_exit_text(status)}; starting another",
                      file=sys.stderr, flush=True)
            self._start(worker.index)

    def _forget(self, worker: _Worker) -> None:
        del self.workers[worker.index]
        os.close(worker.pipe)
        self.on_worker_exit(worker.index, worker.pid)

    def _stop_all(self) -> None:
        for worker in self.workers.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.limits.shutdown_timeout + STOP_GRACE
        while self.workers:
            for worker in list(self.workers.values()):
                pid, _ = os.waitpid(worker.pid, os.WNOHANG)
                if pid != 0:
                    self._forget(worker)
            if self.workers and time.monotonic() > deadline:
                for worker in self.workers.values():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(worker.pid, signal.SIGKILL)
                deadline = float("inf")
            time.sleep(0.02)

    def _start(self, index: int) -> None:
        read_end, write_end = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the worker process; the tests see it over the socket
            os.close(read_end)
            self._run_worker(index, write_end)
        os.close(write_end)
        self.workers[index] = _Worker(index=index, pid=pid, pipe=read_end)

    # -- a worker -------------------------------------------------------------------------------------

    def _run_worker(self, index: int, pipe: int) -> None:  # pragma: no cover - runs in the forked process
        """Never returns: the parent's call stack above must not run twice."""
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            os.close(self._wake_read)
            os.close(self._wake_write)
            for other in self.workers.values():
                os.close(other.pipe)
            try:
                app = self.build_app(index)
            except Exception as exc:
                os.write(pipe, _FAILED + str(exc).encode("utf-8", "replace")[:60000])
                return
            assert self.socket is not None
            server = _WorkerServer(logged_config(app, self.settings), pipe)
            server.run(sockets=[self.socket])
            code = 0 if server.served else 1
        except SystemExit as exc:  # uvicorn's, when the app's start-up failed: it has logged why
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # a traceback, once, from the worker that had it
            import traceback

            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)


class _WorkerServer(uvicorn.Server):
    """uvicorn's server that tells the parent through ``pipe`` once it accepts requests."""

    def __init__(self, config: uvicorn.Config, pipe: int) -> None:
        super().__init__(config)
        self.pipe = pipe
        self.served = False

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            os.write(self.pipe, _READY)
            self.served = True


def _exit_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by signal {os.WTERMSIG(status)}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"
