"""The uvicorn server of an app, configured from its settings: the one place ``serve`` (and anything else
that runs the server) gets it from."""

from __future__ import annotations

import logging
import sys
from typing import Any

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


def serve(app: Any, settings: Settings) -> None:
    """Run the server until SIGTERM or SIGINT (then at most ``shutdown_timeout`` for requests in progress)."""
    raise_open_file_limit(settings.limits.max_connections)
    config = server_config(app, settings)  # configures uvicorn's loggers
    configure_logging(log_format=settings.log_format, level=LOG_LEVELS.get(settings.log_level.lower(), logging.INFO))
    uvicorn.Server(config).run()


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
