"""One request and its answer as the journal middleware saw them, and the entry made from them.

The middleware only copies what went over the wire into an ``Exchange`` (a few attribute stores per
request); everything that costs something (naming the operation, redacting passwords, finding the
error code in the answer) happens here, on the journal's writer thread, once per batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from ..catalogue.calls import ZStackCall
from ..store.records import JournalEntry

#: The request body kept in an entry (the rest is counted in ``body_size``, not kept), and at most half
#: the entry's bound.
BODY_LIMIT = 4096
#: An entry's bound on headers and body when none is given (``--max-journal-entry-bytes``).
ENTRY_BYTES = 65536
#: The key that takes the place of the headers an entry does not keep; no header can have this name.
HEADERS_CUT_KEY = "(truncated)"
#: The answer's body kept to find its error code; ZStack's error answers are far shorter.
RESPONSE_LIMIT = 8192
#: The start of a plain-text or HTML answer kept as an entry's ``error_details``.
DETAILS_LIMIT = 500

REDACTED = "*****"
_REDACTED_HEADERS = frozenset({"authorization", "proxy-authorization"})

# Verdicts: what the answer said about the request.
OK = "ok"  # a successful answer
ERROR = "error"  # a ZStack ErrorCode (REST 503 envelope, RPC success:false, a failed job's poll)
REJECTED = "rejected"  # no API reply at all: plain-text 400/404/405/413, an HTML page, a raw injected status
ABORTED = "aborted"  # no complete answer: the connection was cut, or the app raised
VERDICTS = (OK, ERROR, REJECTED, ABORTED)
#: ``None`` is the fifth verdict: not known yet (an async call accepted, a poll of a running job).

_PASSWORD_TEXT = re.compile(
    rb'("password"\s*:\s*)("(?:[^"\\]|\\.)*("|$)|[^,}\]\s]+)', re.IGNORECASE | re.DOTALL
)
_ERROR_CODE_TEXT = re.compile(rb'"error"\s*:\s*\{\s*"code"\s*:\s*"([^"\\]{1,64})"')


#: (verdict, error code, error details, job UUID)
Verdict = tuple[str | None, str | None, str | None, str | None]


@dataclass(slots=True)
class Exchange:
    """The raw material of one entry, filled in by the middleware."""

    create_date: datetime
    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    #: The body's length, when the middleware read all of it; else what Content-Length declared.
    body_size: int
    status: int | None = None
    content_type: bytes = b""
    response: bytes = b""
    response_size: int = 0
    complete: bool = False
    fault: str | None = None
    duration_ms: float = 0.0
    #: Its place among the entries of every worker (``order``); 0 with one process.
    number: int = 0


def journal_entry(exchange: Exchange, entry_bytes: int = ENTRY_BYTES) -> JournalEntry:
    """The entry keeps at most ``entry_bytes`` of headers and body: the body's start first, then the
    headers in the order they came while they fit."""
    headers = _header_map(exchange.headers)
    call = ZStackCall(exchange.method, exchange.path, headers, exchange.body)
    verdict, code, details, job_uuid = _verdict(exchange, call.protocol)
    body = redact_body(exchange.body)
    kept_body = body[: min(BODY_LIMIT, entry_bytes // 2)]
    text = kept_body.decode("utf-8", "replace")
    return JournalEntry(
        id=None,
        create_date=exchange.create_date,
        method=exchange.method,
        path=exchange.path,
        query=exchange.query.decode("latin-1"),
        headers_json=orjson.dumps(_kept_headers(_redact_headers(headers), entry_bytes - len(kept_body))).decode(),
        body=text,
        body_size=exchange.body_size,
        body_truncated=len(body) > len(kept_body) or exchange.body_size > len(exchange.body),
        operation=call.operation,
        session_uuid=_session_uuid(call),
        status=exchange.status,
        verdict=verdict,
        error_code=code,
        error_details=details,
        fault=exchange.fault,
        duration_ms=round(exchange.duration_ms, 3),
        job_uuid=job_uuid or _call_job_uuid(call),
    )


def _header_map(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Names as ASGI gives them (lower-case); a repeated header's values joined with ``, ``."""
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}
    if len(headers) < len(raw):
        headers = {}
        for name, value in raw:
            key, text = name.decode("latin-1"), value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _kept_headers(headers: dict[str, str], budget: int) -> dict[str, str]:
    """The headers whose names and values fit in ``budget`` bytes, in order; the others are named by
    ``HEADERS_CUT_KEY`` with how many there were."""
    if sum(len(name) + len(value) for name, value in headers.items()) <= budget:
        return headers
    kept: dict[str, str] = {}
    used = cut = cut_bytes = 0
    for name, value in headers.items():
        size = len(name) + len(value)
        if used + size <= budget:
            kept[name] = value
            used += size
        else:
            cut += 1
            cut_bytes += size
    kept[HEADERS_CUT_KEY] = f"{cut} header{'s' * (cut != 1)} ({cut_bytes} bytes) not kept"
    return kept


def _redact_headers(headers: dict[str, str]) -> dict[str, str]:
    secret = _REDACTED_HEADERS.intersection(headers)
    if not secret:
        return headers
    redacted = dict(headers)
    for name in secret:
        scheme, _, credentials = redacted[name].partition(" ")
        redacted[name] = f"{scheme} {REDACTED}" if credentials else REDACTED
    return redacted


def redact_body(body: bytes) -> bytes:
    """``password`` fields at any depth replaced by ``*****``; the body as sent when it has none.

    A JSON document is rewritten through the parser (so any value, at any depth, under a key named
    password in any case); a body that does not parse (malformed, or cut) by a textual match.
    """
    if b"password" not in body.lower():
        return body
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _PASSWORD_TEXT.sub(lambda m: m.group(1) + b'"' + REDACTED.encode() + b'"', body)
    return orjson.dumps(_redact_json(document))


def _redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if k.lower() == "password" else _redact_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    return value


def _session_uuid(call: ZStackCall) -> str | None:
    try:
        return call.session_uuid
    except (AttributeError, TypeError):  # a message whose session is no object
        return None


def _call_job_uuid(call: ZStackCall) -> str | None:
    try:
        return call.job_uuid
    except (AttributeError, TypeError):
        return None


def _verdict(exchange: Exchange, protocol: str) -> Verdict:
    """(verdict, error code, error details, job UUID) from the answer."""
    status = exchange.status
    if status is None or not exchange.complete:
        return ABORTED, None, "no complete answer was sent", None
    if protocol == "rest" and status < 400 and status != 202:
        return OK, None, None, None  # a REST error is never a 2xx; no need to read the answer
    body = exchange.response
    if exchange.content_type.split(b";", 1)[0].strip().lower().endswith(b"json"):
        whole = exchange.response_size <= len(body)
        document = _loads(body) if whole else None
        if isinstance(document, dict):
            found = _rpc_verdict(document) if protocol == "rpc" else _rest_verdict(document, status)
            if found is not None:
                return found
        elif not whole and (match := _ERROR_CODE_TEXT.search(body)):
            return ERROR, match.group(1).decode(), None, None
        if status == 202:
            return None, None, None, None
        return (OK, None, None, None) if status < 400 else (REJECTED, None, _text(body), None)
    if status >= 400 or protocol == "rpc":
        return REJECTED, None, _text(body), None
    return OK, None, None, None


def _rest_verdict(document: dict[str, Any], status: int) -> Verdict | None:
    error = document.get("error")
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return ERROR, error["code"], _details(error), None
    if status == 202:
        location = document.get("location")
        job = location.rstrip("/").rsplit("/", 1)[-1] if isinstance(location, str) else None
        return None, None, None, job
    return None


def _rpc_verdict(envelope: dict[str, Any]) -> Verdict | None:
    job = envelope.get("uuid") if isinstance(envelope.get("uuid"), str) else None
    if envelope.get("state") == "Processing":
        return None, None, None, job
    result = envelope.get("result")
    reply = _loads(result.encode()) if isinstance(result, str) else None
    if isinstance(reply, dict) and reply:
        fields = next(iter(reply.values()))
        if isinstance(fields, dict) and fields.get("success") is False:
            error = fields.get("error")
            code = error.get("code") if isinstance(error, dict) else None
            return ERROR, code if isinstance(code, str) else None, _details(error), job
    if "state" in envelope:
        return OK, None, None, job
    return None


def _details(error: Any) -> str | None:
    if not isinstance(error, dict):
        return None
    details = error.get("details")
    return details[:DETAILS_LIMIT] if isinstance(details, str) else None


def _loads(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _text(body: bytes) -> str | None:
    return body[:DETAILS_LIMIT].decode("utf-8", "replace") or None
