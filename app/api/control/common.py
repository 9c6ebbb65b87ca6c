"""What every control endpoint shares: reading a JSON body, typed or not, whatever its Content-Type, the
errors the OpenAPI document lists for it, and running heavy work off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import anyio
import anyio.to_thread
import orjson
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from fastapi import Request
from pydantic import BaseModel, ValidationError

from ...validation_errors import validation_problems
from ...zstack.errors import bad_request
from ...zstack.json_kinds import json_kind
from ...zstack.schemas import ErrorReply
from ...zstack.wire import read_body
from ..deps import server_of

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

#: Threads that heavy control work (snapshots, restores, resets, long listings) runs on, per event loop:
#: each busy thread makes the loop wait for the GIL a little longer, so a few, not one per request.
HEAVY_THREADS = 2
_heavy_work: RunVar[tuple[CapacityLimiter, WeakKeyDictionary[object, anyio.Lock]]] = RunVar("zstack_mock_heavy")


async def off_loop(owner: object, work: Callable[[], T]) -> T:
    """``work()`` on a worker thread, so that the event loop serves every other visitor meanwhile.

    One at a time per ``owner`` (the request's instance): a visitor's heavy calls queue behind each
    other, not in front of everyone else's. The store's lock keeps the thread apart from the loop's
    own uses of that store; the domain holds it only around its SQL, not while it encodes or decodes.
    """
    try:
        limiter, locks = _heavy_work.get()
    except LookupError:
        limiter, locks = CapacityLimiter(HEAVY_THREADS), WeakKeyDictionary()
        _heavy_work.set((limiter, locks))
    lock = locks.get(owner)
    if lock is None:
        lock = locks[owner] = anyio.Lock()
    async with lock:
        return await anyio.to_thread.run_sync(work, limiter=limiter)


async def read_model(request: Request, model: type[M]) -> M:
    """The JSON body as ``model``, whatever the Content-Type (``curl -d`` sends a form type); 400 if it is not."""
    body = await read_object(request)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise bad_request(f"invalid {model.__name__} body: {validation_problems(exc)}") from None


async def read_object(request: Request) -> dict[str, Any]:
    """The JSON object body, whatever the Content-Type; empty is ``{}``; 400 ``{"error": ...}`` otherwise."""
    raw = await read_body(request, server_of(request).settings.max_body_bytes)
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise bad_request(f"the body must be a JSON object, but it is a JSON {json_kind(body)}")
    return body


_ERRORS = {
    400: "Invalid input: a field, a query parameter, or a body that is not a JSON object, or not HTTP at all "
         "(SYS.1007).",
    403: "Not allowed in the public profile (--sandbox, --public-profile) (ID.1002).",
    404: "What the call names does not exist (SYS.1003).",
    409: "The state forbids it, e.g. a name that is taken (SYS.1007).",
    413: "The body is larger than the limit (--max-body-bytes, 1 MiB by default) (SYS.1007).",
}


def errors(*statuses: int, body: bool = False) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a control call's errors: ``{"error": ErrorCode}`` with each of
    ``statuses``; a call that reads a ``body`` can also answer 400 and 413, in the same shape."""
    codes = sorted({*statuses, *((400, 413) if body else ())})
    return {code: {"model": ErrorReply, "description": _ERRORS[code]} for code in codes}
