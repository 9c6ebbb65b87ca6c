"""The legacy RPC API's messages: each class name mapped to the domain function that serves it.

``SYNC_HANDLERS`` take the message's fields and return the reply's fields; ``answer_call`` wraps
them in the envelope and renders every ``ZStackError`` as a failed reply named by
``app.zstack.rpc.failure_class``. This is the RPC surface's one error renderer: handlers raise,
they never catch.

``ASYNC_HANDLERS`` take the message and return the job they started (``answer_call`` answers
``rpc.accepted_envelope``):
an async API answers ``Processing`` at once, and every failure, interception errors included,
arrives later through the stored result (a job in the store, shared with the REST surface).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from starlette.responses import Response

from app.domain.context import Context
from app.domain.jobs import (
    JobOptions,
    UnknownJobError,
    get_job,
    job_outcome,
    submit_create_template_job,
    submit_failed_job,
)
from app.domain.params import MessageSpec, Param, check_params, read_params
from app.domain.queries import BACKUP_STORAGES, IMAGES, VOLUME_BACKUPS, Queryable, query
from app.domain.sessions import log_in_by_account, log_out, validate_session
from app.domain.templates import API_NAME as CREATE_TEMPLATE_API
from app.store.records import ApiJob
from app.zstack import rpc
from app.zstack.errors import INTERNAL_ERROR, ErrorCode, ZStackError
from app.zstack.inventories import session_inventory
from app.zstack.rpc_query import rpc_query_request

logger = logging.getLogger("zstack_mock")

Message = Mapping[str, Any]
#: The message's fields -> the reply's fields (without ``success``).
SyncHandler = Callable[[Context, Message], dict[str, Any]]
#: The message's fields -> the accepted job. Must not raise for anything the client sent.
AsyncHandler = Callable[[Context, Message], ApiJob]

#: LogOut and ValidateSession name the session in a field, not in ``session``.
_SESSION_UUID_FIELD = MessageSpec(class_name="org.zstack.header.identity.APISessionMessage",
                                  params=(Param("sessionUuid", required=True),))


def _log_in(ctx: Context, message: Message) -> dict[str, Any]:
    return {"inventory": session_inventory(log_in_by_account(ctx=ctx, params=dict(message)))}


def _log_out(ctx: Context, message: Message) -> dict[str, Any]:
    log_out(ctx=ctx, session_uuid=_session_uuid_field(message))
    return {}


def _validate_session(ctx: Context, message: Message) -> dict[str, Any]:
    return {"validSession": validate_session(ctx=ctx, session_uuid=_session_uuid_field(message))}


def _is_ready_to_go(ctx: Context, message: Message) -> dict[str, Any]:
    return {}


def _query(target: Queryable, api: rpc.RpcApi, ctx: Context, message: Message) -> dict[str, Any]:
    request = rpc_query_request(message)
    session_uuid = rpc.session_uuid_of(api.message_class, message)
    body = query(ctx=ctx, session_uuid=session_uuid, target=target, request=request)
    body.pop("schema", None)  # REST's JsonSchemaBuilder map; RPC replies carry none
    return body


def _session_uuid_field(message: Message) -> str:
    values = read_params(_SESSION_UUID_FIELD, message)
    check_params(_SESSION_UUID_FIELD, values, _no_resources)
    uuid: str = values["sessionUuid"]
    return uuid


def _no_resources(resource_type: str, uuids: list[str]) -> dict[str, Any]:
    raise AssertionError(f"this message names no resources, asked for {resource_type}")


SYNC_HANDLERS: dict[str, SyncHandler] = {
    rpc.LOG_IN_BY_ACCOUNT.message_class: _log_in,
    rpc.LOG_OUT.message_class: _log_out,
    rpc.VALIDATE_SESSION.message_class: _validate_session,
    rpc.IS_READY_TO_GO.message_class: _is_ready_to_go,
    rpc.IS_READY_TO_GO_AS_DOCUMENTED.message_class: _is_ready_to_go,
    rpc.QUERY_IMAGE.message_class: partial(_query, IMAGES, rpc.QUERY_IMAGE),
    rpc.QUERY_VOLUME_BACKUP.message_class: partial(_query, VOLUME_BACKUPS, rpc.QUERY_VOLUME_BACKUP),
    rpc.QUERY_BACKUP_STORAGE.message_class: partial(_query, BACKUP_STORAGES, rpc.QUERY_BACKUP_STORAGE),
}

def _create_root_volume_template(ctx: Context, message: Message) -> ApiJob:
    """Accepted as a job whatever it holds: even a missing session arrives through the result."""
    api = rpc.CREATE_ROOT_VOLUME_TEMPLATE_FROM_VOLUME_BACKUP
    options = JobOptions(protocol="rpc")
    try:
        session_uuid = rpc.session_uuid_of(api.message_class, message)
    except ZStackError as exc:
        job = submit_failed_job(ctx=ctx, api=CREATE_TEMPLATE_API, error=exc, options=options)
    else:
        job = submit_create_template_job(ctx=ctx, session_uuid=session_uuid, message=message, options=options)
    return job


ASYNC_HANDLERS: dict[str, AsyncHandler] = {
    rpc.CREATE_ROOT_VOLUME_TEMPLATE_FROM_VOLUME_BACKUP.message_class: _create_root_volume_template,
}


def known_message_classes() -> set[str]:
    return SYNC_HANDLERS.keys() | ASYNC_HANDLERS.keys()


def answer_call(ctx: Context, raw_body: bytes, job_accepted: Callable[[ApiJob], None]) -> Response:
    """The whole answer to one ``/zstack/api`` call, whatever the body holds; ``job_accepted`` is
    told of the job an async message starts."""
    known = known_message_classes()
    try:
        call = rpc.parse_call(raw_body, known)
    except rpc.UnreadableCall as exc:
        return exc.response()
    api = rpc.RPC_APIS[call.message_class]
    async_handler = ASYNC_HANDLERS.get(call.message_class)
    created = ctx.clock.now()
    try:
        if async_handler is not None:
            job = async_handler(ctx, call.message)
            job_accepted(job)
            return rpc.envelope_response(rpc.accepted_envelope(uuid=job.uuid, created=job.create_date))
        result = rpc.reply_result(api.reply_class, SYNC_HANDLERS[call.message_class](ctx, call.message))
    except ZStackError as exc:
        result = rpc.failure_result(rpc.failure_class(api, exc), exc.error.to_json())
    except Exception as exc:
        logger.exception("unexpected error while serving the RPC message %s", call.message_class)
        error = ErrorCode(
            code=INTERNAL_ERROR,
            details=f"zstack-mock hit an unexpected {type(exc).__name__} while serving {call.message_class}; "
            "this is a bug in the simulator, not in your request",
        )
        result = rpc.failure_result(rpc.failure_class(api, ZStackError(error)), error.to_json())
    return rpc.envelope_response(rpc.sync_envelope(created=created, finished=ctx.clock.now(), result=result))


def poll_result(ctx: Context, uuid: str) -> Response:
    """``/zstack/api/result/{uuid}``: ``Processing`` while the job runs, ``Done`` with its result."""
    job = get_job(ctx, uuid)
    try:
        outcome = None if job is None else job_outcome(ctx, job)
    except UnknownJobError:
        job = None
    if job is None:
        return rpc.result_not_found(uuid)
    result = None if outcome is None else rpc.outcome_result(
        outcome.result_class, success=outcome.success, payload=outcome.payload
    )
    return rpc.envelope_response(
        rpc.polled_envelope(uuid=job.uuid, created=job.create_date, finished=job.finish_date, result=result)
    )
