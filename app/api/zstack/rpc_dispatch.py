"""The legacy RPC API's dispatch: each message class to its catalogue API, served and put in the envelope.

A synchronous API is served at once; its reply's fields, or any ``ZStackError`` as a failed reply
named by ``failure_class``, go in a ``Done`` envelope. This is the RPC surface's one error renderer:
the APIs raise, they never catch. An asynchronous API answers ``Processing`` at once, and every
failure, a missing session included, arrives later through the stored result (a job in the store,
shared with the REST surface).

The order of the checks follows the real node: a synchronous message's parameters are checked before
its session; an asynchronous one's missing session fails its job before anything else is read.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from ...catalogue import BY_MESSAGE_CLASS
from ...catalogue.model import Api
from ...domain.context import Context
from ...domain.jobs import JobOptions, job_uuid_taken, poll_job
from ...instance import Instance
from ...zstack import rpc
from ...zstack.errors import INTERNAL_ERROR, ErrorCode, ZStackError, failure_class
from ...zstack.query import rpc_query_request
from .serving import accept_job, checked_message

logger = logging.getLogger("zstack_mock")


def answer_call(instance: Instance, raw_body: bytes) -> Response:
    """The whole answer to one ``/zstack/api`` call, whatever the body holds."""
    call = rpc.parse_call(raw_body, BY_MESSAGE_CLASS.keys())
    api, message_rpc = BY_MESSAGE_CLASS[call.message_class]
    ctx = instance.context
    created = ctx.clock.now()
    job_uuid = rpc.message_id(call.message) if api.asynchronous else None
    if job_uuid is not None and job_uuid_taken(ctx, job_uuid):
        raise rpc.duplicate_message_id(job_uuid)
    try:
        if api.asynchronous:
            job = accept_job(instance, api, JobOptions(protocol="rpc", job_uuid=job_uuid),
                             lambda: (rpc.session_uuid_of(call.message_class, call.message), call.message))
            return rpc.envelope_response(rpc.accepted_envelope(uuid=job.uuid, created=job.create_date))
        result = rpc.reply_result(message_rpc.reply_class, _serve(api, ctx, call.message_class, call.message))
    except ZStackError as exc:
        reply_class = failure_class(exc, reply_class=message_rpc.reply_class, asynchronous=api.asynchronous)
        result = rpc.failure_result(reply_class, exc.error.to_json())
    except Exception as exc:
        logger.exception("unexpected error while serving the RPC message %s", call.message_class)
        error = ErrorCode(
            code=INTERNAL_ERROR,
            details=f"zstack-mock hit an unexpected {type(exc).__name__} while serving {call.message_class}; "
            "this is a bug in the simulator, not in your request",
        )
        reply_class = failure_class(ZStackError(error), reply_class=message_rpc.reply_class,
                                    asynchronous=api.asynchronous)
        result = rpc.failure_result(reply_class, error.to_json())
    return rpc.envelope_response(rpc.sync_envelope(created=created, finished=ctx.clock.now(), result=result))


def _serve(api: Api, ctx: Context, message_class: str, message: Mapping[str, Any]) -> dict[str, Any]:
    """A synchronous API's reply fields: the message checked, then the session read, then served."""
    assert api.serve is not None
    if api.kind == "query":
        checked: Any = rpc_query_request(message)
    else:
        checked = checked_message(api, ctx, message)
    session_uuid = rpc.session_uuid_of(message_class, message) if api.authenticated else None
    reply: dict[str, Any] = api.serve(ctx=ctx, session_uuid=session_uuid, message=checked)
    return reply


def poll_result(instance: Instance, uuid: str) -> Response:
    """``/zstack/api/result/{uuid}``: ``Processing`` while the job runs, ``Done`` with its result."""
    polled = poll_job(instance.context, uuid)
    if polled is None:
        raise rpc.result_not_found(uuid)
    job, outcome = polled.job, polled.outcome
    result = None if outcome is None else rpc.outcome_result(
        outcome.result_class, success=outcome.success, payload=outcome.payload
    )
    return rpc.envelope_response(
        rpc.polled_envelope(uuid=job.uuid, created=job.create_date, finished=job.finish_date, result=result)
    )
