"""The fault layer: an ASGI layer in front of the ZStack API that routes and domain code never see.

For each ``/zstack/`` request it asks the engine whether a fault strikes (a rule, or the scenario
the ``X-Mock-Scenario`` header names) and, if one does, answers the way the effect says:

* ``error``: as the endpoint answers errors: 503 ``{"error": ...}`` on the REST API, a failed reply
  in the RPC envelope, or, for a call that starts a job, through the job;
* ``http``: the raw status, body and content type;
* ``wire``: see ``app.faults.wire``;
* ``job``: the call runs, and the job it starts fails or is held (``app.domain.jobs.injected_job_fault``);
* ``latency``: a wait first (at most ``--max-fault-latency``, and over as soon as the client goes
  away: then nothing else happens), then whichever of the above, or the normal answer.

It tells the journal what fired through ``scope["state"]["zstack_mock"]``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.responses import Response

from .. import catalogue
from ..asgi import STATE_KEY, ASGIApp, Message, Receive, Scope, Send, buffer_body
from ..catalogue.calls import ZStackCall
from ..domain.jobs import JobFault, injected_job_fault
from ..zstack import rpc
from ..zstack.async_jobs import wants_async
from ..zstack.errors import GENERIC_REPLY_CLASS, TransportError, ZStackError
from . import wire
from .engine import SCENARIO_HEADER, FaultEngine, Strike
from .spec import ErrorSpec


class FaultMiddleware:
    def __init__(
        self, app: ASGIApp, engine_for: Callable[[Scope], FaultEngine], api_mode: str, max_body_bytes: int
    ) -> None:
        self.app = app
        #: The request's fault engine: its sandbox tenant's, or the server's own.
        self.engine_for = engine_for
        self.api_mode = api_mode
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/zstack/"):
            await self.app(scope, receive, send)
            return
        engine = self.engine_for(scope)
        headers = Headers(scope=scope)
        scenario = headers.get(SCENARIO_HEADER)
        rules = engine.rules() if scenario is None else None
        if rules is not None and not rules.rules:
            await self.app(scope, receive, send)
            return
        body, receive = await buffer_body(receive, self.max_body_bytes)
        call = ZStackCall(method=scope["method"], path=scope["path"], headers=headers, body=body)
        starts_job = self._starts_job(call, headers)
        try:
            found = engine.strike(call, starts_job=starts_job, scenario=scenario, rules=rules)
        except TransportError as exc:  # a scenario header naming no scenario: this layer is outside the app
            await exc.response()(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state[STATE_KEY] = {"operation": call.operation, "fault": None if found is None else found.label}
        if found is None:
            await self.app(scope, receive, send)
            return
        await self._apply(engine, found, call, starts_job, scope, receive, send)

    def _starts_job(self, call: ZStackCall, headers: Headers) -> bool:
        api = catalogue.BY_NAME.get(call.operation or "")
        if api is None or not api.asynchronous:
            return False
        return call.protocol == "rpc" or wants_async(headers, self.api_mode)

    async def _apply(
        self, engine: FaultEngine, found: Strike, call: ZStackCall, starts_job: bool, scope: Scope, receive: Receive, send: Send
    ) -> None:
        effect = found.effect
        delay = engine.policy.capped(found.latency_seconds())
        if delay > 0:
            client_left, receive = await _wait_unless_client_leaves(delay, receive)
            if client_left:
                return
        if effect.http is not None:
            http = effect.http
            response = Response(http.body, status_code=http.status, media_type=http.content_type,
                                headers=http.headers)
            await response(scope, receive, send)
        elif effect.wire is not None:
            await wire.strike(effect.wire, self.app, scope, receive, send, max_seconds=engine.policy.max_latency)
        elif effect.error is not None and not starts_job:
            await self._error_answer(engine, call, effect.error, found)(scope, receive, send)
        elif effect.error is not None or effect.job is not None:
            fault = _job_fault(found)
            token = injected_job_fault.set(fault)
            try:
                await self.app(scope, receive, send)
            finally:
                injected_job_fault.reset(token)
        else:
            await self.app(scope, receive, send)

    def _error_answer(self, engine: FaultEngine, call: ZStackCall, spec: ErrorSpec, found: Strike) -> Response:
        """An injected error as the API's service would answer it (``in_service``)."""
        error = spec.error_code(found.fields)
        if call.protocol == "rest":
            return ZStackError(error, in_service=True).response()
        known = catalogue.BY_MESSAGE_CLASS.get(call.message_class or "")
        reply_class = GENERIC_REPLY_CLASS if known is None else known[1].reply_class
        now = engine.context().clock.now()
        result = rpc.failure_result(reply_class, error.to_json())
        return rpc.envelope_response(rpc.sync_envelope(created=now, finished=now, result=result))


async def _wait_unless_client_leaves(seconds: float, receive: Receive) -> tuple[bool, Receive]:
    """Wait ``seconds``, or until the client disconnects (True: nothing is left to answer). Returns a
    ``receive`` that still hands the app whatever arrived meanwhile (the body)."""
    arrived: list[Message] = []

    async def until_disconnect() -> None:
        while (message := await receive())["type"] != "http.disconnect":
            arrived.append(message)

    watcher = asyncio.ensure_future(until_disconnect())
    try:
        await asyncio.wait({watcher}, timeout=seconds)
    finally:
        if not watcher.done():
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
    if watcher.done() and not watcher.cancelled() and watcher.exception() is None:
        return True, receive

    async def replay() -> Message:
        return arrived.pop(0) if arrived else await receive()

    return False, replay


def _job_fault(found: Strike) -> JobFault:
    effect = found.effect
    if effect.error is not None:
        return JobFault(error=effect.error.error_code(found.fields))
    assert effect.job is not None
    job = effect.job
    if job.error is not None:
        return JobFault(error=job.error.error_code(found.fields), after_seconds=job.after_seconds)
    return JobFault(hold=True)
