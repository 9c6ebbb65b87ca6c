"""``MockServer``: the real server (the app ``serve`` runs, on the same uvicorn protocol, so wire faults work)
in a daemon thread of the caller's process, on a free port of 127.0.0.1, for a test suite.

Its database is in memory unless ``database_url`` says otherwise; ``.app`` is the same ASGI app, for
clients that want no socket (same state), and ``.control`` a ``Control`` bound to it.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

    from .control_client import Control

#: Seconds ``start`` waits for the server to answer before it gives up.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class MockServerError(RuntimeError):
    """The embedded server could not start (its cause is chained when there is one)."""


class MockServer:
    """``MockServer(**settings)``: ``settings`` are the fields of ``Settings`` (the CLI's flags, with
    underscores); the defaults differ only in ``database_url`` (``sqlite://``, memory), ``port`` (0: a free
    one) and ``log_level`` (``warning``: no banner in the test output)."""

    def __init__(self, **settings: Any) -> None:
        self._overrides = {"database_url": "sqlite://", "port": 0, "log_level": "warning", **settings}
        self._lock = threading.Lock()
        self._app: FastAPI | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._control: Control | None = None
        self._port: int | None = None
        self._host = "127.0.0.1"

    # -- what a test uses ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def port(self) -> int:
        if self._port is None:
            raise MockServerError("the server is not started: call start() or use it as a context manager")
        return self._port

    @property
    def app(self) -> FastAPI:
        """The in-process ASGI app, over the same state as the socket server."""
        if self._app is None:
            raise MockServerError("the server is not started: call start() or use it as a context manager")
        return self._app

    @property
    def control(self) -> Control:
        if self._control is None:
            from .control_client import Control

            token = self.app.state.server.settings.admin_token
            self._control = Control(self.url, token=None if token is None else token.get_secret_value())
        return self._control

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- life ------------------------------------------------------------------------------------

    def start(self) -> MockServer:
        """Start serving (at once if already started); returns ``self``. Raises ``MockServerError`` when the
        settings are invalid, the fixtures or faults file is unreadable, or the server does not come up."""
        with self._lock:
            if self._thread is None:
                self._start()
        return self

    def _start(self) -> None:
        import uvicorn
        from pydantic import ValidationError

        from .main import create_app
        from .serving.config import server_config
        from .settings import Settings
        from .validation_errors import validation_problems

        try:
            settings = Settings(**self._overrides)
            app = create_app(settings)
        except ValidationError as exc:
            raise MockServerError(f"invalid settings: {validation_problems(exc)}") from exc
        except Exception as exc:
            raise MockServerError(f"cannot start: {exc}") from exc
        listening = _listen(settings.host, settings.port)
        port = int(listening.getsockname()[1])
        server = uvicorn.Server(server_config(app, settings, port=port))
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [listening]}, name=f"zstack-mock :{port}", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(STOP_TIMEOUT)
                listening.close()
                app.state.server.close()
                raise MockServerError("the server did not start (see the log above for why)")
            time.sleep(0.001)
        self._app, self._uvicorn, self._thread, self._port, self._host = app, server, thread, port, settings.host

    def stop(self) -> None:
        """Stop serving and close the database; a stopped server may be started again (on a new port)."""
        with self._lock:
            server, thread = self._uvicorn, self._thread
            if server is None or thread is None:
                return
            server.should_exit = True
            thread.join(STOP_TIMEOUT)
            if self._control is not None:
                self._control.close()
            self._app = self._uvicorn = self._thread = self._control = self._port = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"MockServer({self.url if self.running else 'not running'})"


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket bound before uvicorn starts, so the port is known at once (0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen(2048)
    except OSError as exc:
        listening.close()
        raise MockServerError(f"cannot listen on {host}:{port}: {exc}") from exc
    return listening
