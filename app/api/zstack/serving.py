"""Running a catalogue API, whichever surface carried the call: its message checked, then served at once
or accepted as a job.

The REST routes (``routes``) and the legacy RPC dispatcher (``rpc``) read their own forms of a call
into the API message's fields and a session; from there both go through these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...catalogue.model import Api
from ...domain.context import Context
from ...domain.job_kinds import JobStart
from ...domain.jobs import JobOptions, submit_job
from ...domain.resources import find_resources
from ...instance import Instance
from ...store.records import ApiJob
from ...zstack.params import CheckedMessage, check_message

#: Reads a call into (its session UUID, its message's fields); may raise the call's first error.
CallReader = Callable[[], tuple[str | None, Mapping[str, Any]]]


def checked_message(api: Api, ctx: Context, fields: Mapping[str, Any]) -> CheckedMessage:
    """The message after the API's ``@APIParam`` checks, with the resources its fields name."""
    if api.params is None:
        return CheckedMessage.empty()
    return check_message(api.params, fields, lambda kind, uuids: find_resources(ctx.store, kind, uuids))


def serve_now(api: Api, ctx: Context, session_uuid: str | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Check the message, then serve it: the reply's fields."""
    assert api.serve is not None
    if api.params is None:
        message = CheckedMessage.empty()
    else:
        message = check_message(api.params, fields, lambda kind, uuids: find_resources(ctx.store, kind, uuids))
    return api.serve(ctx=ctx, session_uuid=session_uuid, message=message)


def accept_job(instance: Instance, api: Api, options: JobOptions, read: CallReader) -> ApiJob:
    """Accept a call of an asynchronous API as a job and tell the runner.

    Everything after ``options`` (reading the call, the checks, the session) runs inside the job's
    start: its first failure becomes the job's result, as on a real node.
    """
    steps = api.job
    assert steps is not None
    ctx = instance.context

    def start() -> JobStart:
        session_uuid, fields = read()
        message = checked_message(api, ctx, fields)
        return steps.start(ctx=ctx, session_uuid=session_uuid, message=message)

    job = submit_job(ctx=ctx, api=api.name, options=options, start=start)
    instance.jobs.job_accepted(job)
    return job
