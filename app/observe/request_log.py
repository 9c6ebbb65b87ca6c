"""One log line per request on the ``zstack_mock.requests`` logger, and the formats ``serve`` writes.

Each record carries the request's fields as attributes (``client``, ``method``, ``path``,
``operation``, ``status``, ``duration_ms``, ``fault``), so a program that embeds the server can format
them its own way; its message is the text line. ``zstack-mock serve`` writes the records to standard
output, as text or (``--log-format json``) as one JSON object per line.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import orjson

REQUEST_LOGGER = "zstack_mock.requests"
#: Every key of a JSON request line, always present (``null`` when there is nothing to say), in this order.
REQUEST_FIELDS = ("client", "method", "path", "operation", "status", "duration_ms", "fault")
#: Longest path and method logged; a longer one is cut and ends with ``...``.
MAX_PATH = 256
MAX_METHOD = 16
TEXT_FORMAT = "%(asctime)s %(levelname)s %(message)s"
_HANDLER_NAME = "zstack-mock"

request_logger = logging.getLogger(REQUEST_LOGGER)


def log_request(
    *, client: str | None, method: str, path: str, operation: str | None, status: int | None,
    duration_ms: float, fault: str | None,
) -> None:
    """``path`` as it came on the wire (still percent-encoded, so no control characters)."""
    method = _cut(method, MAX_METHOD)
    path = _cut(path, MAX_PATH)
    if operation is not None:  # an RPC message's name is the client's text: one line, and short
        operation = _cut(operation.encode("unicode_escape").decode("ascii"), MAX_PATH)
    duration_ms = round(duration_ms, 3)
    request_logger.info(
        '%s "%s %s" %s %s %.1f ms%s',
        client or "-", method, path, "-" if status is None else status, operation or "-", duration_ms,
        "" if fault is None else f" fault={fault}",
        extra={"client": client, "method": method, "path": path, "operation": operation, "status": status,
               "duration_ms": duration_ms, "fault": fault},
    )


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, then a request line's
    ``REQUEST_FIELDS``, or any other record's ``message`` (and ``exception`` when it has one)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if record.name == REQUEST_LOGGER and hasattr(record, "duration_ms"):
            for field in REQUEST_FIELDS:
                line[field] = getattr(record, field, None)
        else:
            line["message"] = record.getMessage()
            if record.exc_info:
                line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(*, log_format: str, level: int) -> None:
    """What ``serve`` does: request lines to standard output at ``level``, as text or JSON; with JSON,
    uvicorn's own lines (on standard error) too. The other ``zstack_mock`` loggers keep going to standard
    error, where warnings always went."""
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler = logging.StreamHandler(sys.stdout)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    logger = request_logger
    for old in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    if log_format == "json":
        for uvicorn_handler in logging.getLogger("uvicorn").handlers:
            uvicorn_handler.setFormatter(formatter)
