"""The uvicorn server of an app, configured from its settings: the one place ``serve`` (and anything else
that runs the server) gets it from."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from uvicorn.config import LOG_LEVELS

from ..observe.request_log import configure_logging
from ..settings import Settings
from .protocol import BoundedConfig, BoundedHttpProtocol


def server_config(
    app: Any, settings: Settings, *, host: str | None = None, port: int | None = None, log_level: str | None = None
) -> BoundedConfig:
    """``host``, ``port`` and ``log_level`` default to the settings'."""
    limits = settings.limits
    return BoundedConfig(
        app,
        host=settings.host if host is None else host,
        port=settings.port if port is None else port,
        log_level=settings.log_level if log_level is None else log_level,
        access_log=False,
        http=BoundedHttpProtocol,
        ws="none",  # no route speaks WebSocket
        # The client address the sandbox's per-address limits count: X-Forwarded-For only from these peers.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_keep_alive=limits.keep_alive_timeout,
        timeout_graceful_shutdown=limits.shutdown_timeout,
        max_header_bytes=limits.max_header_bytes,
        header_timeout=limits.header_timeout,
        max_connections=limits.max_connections,
    )


#: The stable line ``serve`` prints on standard output once it listens: scripts may rely on its form.
READY_LINE = "zstack-mock: serving on {url}"


def ready_json(url: str) -> str:
    """The ready line under ``--log-format json``: the same words in ``message``, and ``url``."""
    return orjson.dumps({"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "level": "info",
                         "logger": "zstack_mock.serve", "message": READY_LINE.format(url=url), "url": url}).decode()


def serve(app: Any, settings: Settings) -> None:
    """Run the server until SIGTERM or SIGINT (then at most ``shutdown_timeout`` for requests in progress).

    Once the socket is bound, prints ``READY_LINE`` on standard output and writes the port to
    ``settings.port_file`` (removed at exit)."""
    raise_open_file_limit(settings.limits.max_connections)
    _AnnouncingServer(logged_config(app, settings), settings).run()


def logged_config(app: Any, settings: Settings) -> BoundedConfig:
    """``server_config``, with the log configured as ``serve`` has it (uvicorn's configuration sets its own)."""
    config = server_config(app, settings)
    configure_logging(log_format=settings.log_format, level=LOG_LEVELS.get(settings.log_level.lower(), logging.INFO))
    return config


def announce(host: str, port: int, settings: Settings) -> None:
    """Say where the server listens, in the forms scripts read: the port file, then the ready line on
    standard output (not the log on standard error; under --log-format json every line there is JSON)."""
    if settings.port_file is not None:
        write_atomically(settings.port_file, f"{port}\n")
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    line = ready_json(url) if settings.log_format == "json" else READY_LINE.format(url=url)
    print(line, flush=True)


class _AnnouncingServer(uvicorn.Server):
    """uvicorn's server that says where it listens once it does, and removes the port file at exit."""

    def __init__(self, config: uvicorn.Config, settings: Settings) -> None:
        super().__init__(config)
        self.settings = settings
        self.announced = False

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets)
        if self.should_exit or not self.servers or not self.servers[0].sockets:
            return
        announce(self.config.host, int(self.servers[0].sockets[0].getsockname()[1]), self.settings)
        self.announced = True

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        # Here rather than after run(): uvicorn raises SIGTERM again once it has stopped.
        try:
            await super().shutdown(sockets)
        finally:
            if self.announced and self.settings.port_file is not None:
                self.settings.port_file.unlink(missing_ok=True)


def write_atomically(path: Path, text: str) -> None:
    """``text`` in ``path``, replacing it in one step: a reader sees the old file or the whole new one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def raise_open_file_limit(max_connections: int) -> int:
    """Raise the soft limit on open files to the hard one; returns the limit now in force. Says so on stderr
    when that is still too few for ``max_connections`` (one file each, and the databases')."""
    if sys.platform == "win32":
        return 0
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < max_connections + 256:
        print(
            f"zstack-mock: warning: {soft} open files allowed, fewer than --max-connections "
            f"{max_connections} needs; raise the hard limit (ulimit -Hn, systemd LimitNOFILE)",
            file=sys.stderr, flush=True,
        )
    return int(soft)
