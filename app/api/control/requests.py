"""/_mock/requests: what the ZStack API was asked, what it answered, and which fault fired."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from ...journal.queries import JournalFilter, count_entries, entry_view, find_entries
from ...zstack.errors import bad_request
from ...zstack.responses import json_response
from ..deps import instance_of
from ..routing import ZStackRoute
from .common import errors, off_loop, read_model

router = APIRouter(prefix="/_mock/requests", tags=["Control"], route_class=ZStackRoute)

_LIMIT_MAX = 10000


class RequestView(BaseModel):
    id: int = Field(description="Increases with each answer; newest first in lists.")
    time: datetime = Field(description="When the request arrived (the server's clock).")
    method: str
    path: str
    query: str = Field(description="The raw query string.")
    headers: dict[str, str] = Field(
        description="Names lower-cased; Authorization redacted (`OAuth *****`). With the body, at most "
        "--max-journal-entry-bytes are kept: the headers that do not fit are left out, and the key "
        "`(truncated)` says how many.",
    )
    body: str = Field(description="Passwords redacted; cut at 4 KiB.")
    bodySize: int
    bodyTruncated: bool
    operation: str | None = Field(None, examples=["CreateRootVolumeTemplateFromVolumeBackup"])
    session: str | None = Field(None, description="The session UUID the call was made with.")
    status: int | None = Field(None, description="Null when no complete answer was sent.")
    verdict: Literal["ok", "error", "rejected", "aborted"] | None = Field(
        None,
        description="ok; error (a ZStack ErrorCode, see errorCode); rejected (no API reply: plain-text 4xx, "
        "an HTML page, a raw injected status); aborted (no complete answer); null: not known yet (an async "
        "call accepted, or a poll of a running job: its jobUuid tells the outcome later).",
    )
    errorCode: str | None = Field(None, examples=["SYS.1002"])
    errorDetails: str | None = Field(None, description="The error's details, or the start of a plain-text answer.")
    fault: str | None = Field(None, description="What fired: `rule:<id>` or `scenario:<name>`.")
    durationMs: float
    jobUuid: str | None = Field(None, description="The job the call started or polled.")


class RequestList(BaseModel):
    requests: list[RequestView]


class RequestFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operation: str | None = Field(None, examples=["CreateRootVolumeTemplateFromVolumeBackup"])
    status: int | None = Field(None, examples=[503])
    since: str | None = Field(None, description="ISO 8601; UTC when no offset.", examples=["2026-01-01T12:00:00Z"])
    fault: bool | None = Field(None, description="true: only requests a fault answered; false: only the others.")
    session: str | None = None


class RequestCount(BaseModel):
    count: int


class Deleted(BaseModel):
    deleted: int


@router.get("", operation_id="ListRequests", responses=errors(400), summary="List recorded requests", response_model=RequestList)
async def list_requests(
    request: Request,
    operation: str | None = Query(None, description="API name, e.g. LogInByAccount."),
    status: int | None = Query(None, description="HTTP status answered."),
    since: str | None = Query(None, description="ISO 8601 time; requests that arrived at or after it."),
    fault: bool | None = Query(None, description="Whether a fault rule or scenario fired."),
    session: str | None = Query(None, description="Session UUID."),
    limit: int = Query(100, ge=1, le=_LIMIT_MAX),
) -> Response:
    """Newest first. Entries still buffered are written first (every worker's, under --workers), so a test
    sees its own requests."""
    params = request.query_params
    where = JournalFilter.parse(
        operation=params.get("operation"),
        status=params.get("status"),
        since=params.get("since"),
        fault=params.get("fault"),
        session=params.get("session"),
    )
    raw_limit = params.get("limit", "100")
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= _LIMIT_MAX:
        raise bad_request(f"limit must be an integer from 1 to {_LIMIT_MAX}, got [{raw_limit}]")
    instance = instance_of(request)
    await instance.journal.caught_up()
    store, limit = instance.context.store, int(raw_limit)
    views = await off_loop(instance, lambda: [entry_view(entry) for entry in find_entries(store, where, limit=limit)])
    return json_response({"requests": views})


@router.post("/count", operation_id="CountRequests", responses=errors(body=True), summary="Count recorded requests", response_model=RequestCount)
async def count_requests(request: Request) -> Response:
    """The same filters as the list, in a JSON body (all optional): ``{"operation": "LogInByAccount",
    "status": 503}``."""
    body = await read_model(request, RequestFilter)
    where = JournalFilter.parse(**body.model_dump())
    instance = instance_of(request)
    await instance.journal.caught_up()
    return json_response({"count": count_entries(instance.context.store, where)})


@router.delete("", operation_id="DeleteRequests", summary="Forget every recorded request", response_model=Deleted)
async def delete_requests(request: Request) -> Response:
    journal = instance_of(request).journal
    await journal.caught_up()  # what other workers hold of the past goes too
    return json_response({"deleted": journal.clear()})
