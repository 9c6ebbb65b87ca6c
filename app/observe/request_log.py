"""One log line per request on the ``zstack_mock.requests`` logger, and the formats ``serve`` writes.

Each record carries the request's fields as attributes (``client``, ``method``, ``path``,
``operation``, ``status``, ``duration_ms``, ``fault``), so a program that embeds the server can format
them its own way; its message is the text line. ``zstack-mock serve`` writes the records to standard
output, as text or (``--log-format json``) as one JSON object per line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from datetime import UTC, datetime
from typing import TextIO

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
    request_logger.handle(_request_record(
        '%s "%s %s" %s %s %.1f ms%s',
        (client or "-", method, path, "-" if status is None else status, operation or "-", duration_ms,
         "" if fault is None else f" fault={fault}"),
        {"client": client, "method": method, "path": path, "operation": operation, "status": status,
         "duration_ms": duration_ms, "fault": fault},
    ))


#: What every request line's record shares, as ``Logger.makeRecord`` would make it from this module.
_RECORD_BASE = vars(logging.LogRecord(REQUEST_LOGGER, logging.INFO, __file__, 0, "", (), None, "log_request"))
#: When the logging module started, as ``relativeCreated`` counts from it.
_LOGGING_STARTED = _RECORD_BASE["created"] - _RECORD_BASE["relativeCreated"] / 1000


def _request_record(message: str, args: tuple[object, ...], fields: dict[str, object]) -> logging.LogRecord:
    """The record ``request_logger.info(message, *args, extra=fields)`` makes, without what costs most of a
    line and says nothing here: the caller's frame (always ``log_request``), and the process and thread
    names looked up anew each time."""
    record = logging.LogRecord.__new__(logging.LogRecord)
    created = time.time()
    attributes = record.__dict__
    attributes.update(_RECORD_BASE)
    attributes.update(fields)
    attributes["msg"], attributes["args"] = message, args
    attributes["created"] = created
    attributes["msecs"] = (created - int(created)) * 1000
    attributes["relativeCreated"] = (created - _LOGGING_STARTED) * 1000
    attributes["thread"] = threading.get_ident()
    attributes["threadName"] = threading.current_thread().name
    attributes["process"] = os.getpid()  # a worker of serve --workers is a fork of the process that made the base
    return record


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


#: The most characters one write carries: a pipe writes up to 4096 bytes in one piece (``PIPE_BUF``), and
#: 1024 characters are at most that in UTF-8, so the lines of ``serve --workers N`` sharing one standard
#: output never interleave inside a line (a line is shorter: its path and operation are cut at 256).
WRITE_CHARS = 1024


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes the lines of one turn of the event loop together, at its end: a few
    writes of whole lines for all the requests a busy loop answers in a turn, instead of one write and
    flush for each. Off a loop, at once."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._lines: list[str] = []
        self._flush_on: asyncio.AbstractEventLoop | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._lines.append(line)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._write_lines()
            return
        if self._flush_on is not loop:
            self._flush_on = loop
            loop.call_soon(self._turn_ended)

    def flush(self) -> None:
        self._write_lines()

    def _turn_ended(self) -> None:
        self._flush_on = None
        self._write_lines()

    def _write_lines(self) -> None:
        with self.lock:  # type: ignore[union-attr]  # an embedding program may log from other threads
            lines, self._lines = self._lines, []
            chunk: list[str] = []
            size = 0
            for line in lines:
                if chunk and size + len(line) > WRITE_CHARS:
                    self._write("".join(chunk))
                    chunk, size = [], 0
                chunk.append(line)
                size += len(line)
            if chunk:
                self._write("".join(chunk))

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:  # a closed or broken standard output: as logging does, say so and go on
            self.handleError(logging.makeLogRecord({"msg": "writing request lines failed"}))


def configure_logging(*, log_format: str, level: int) -> None:
    """What ``serve`` does: request lines to standard output at ``level``, as text or JSON; with JSON,
    uvicorn's own lines (on standard error) too. The other ``zstack_mock`` loggers keep going to standard
    error, where warnings always went."""
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler = LineHandler(sys.stdout)
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
