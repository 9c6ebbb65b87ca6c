"""/_mock/reset, /_mock/snapshots and /_mock/clock: the server's state as a whole, and its time."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from ...clock import ClockSetting
from ...domain import state
from ...zstack.responses import json_response
from ..deps import instance_of, server_of, visitor_session
from ..openapi import json_body
from ..routing import ZStackRoute
from .common import errors, off_loop, read_model

router = APIRouter(prefix="/_mock", tags=["Control"], route_class=ZStackRoute)

SNAPSHOT_NAME = Path(description="The snapshot's name.")


class ResetSummary(BaseModel):
    inventory: dict[str, int] = Field(description="What the fixtures put back, by kind.")
    cleared: dict[str, int] = Field(description="What was there before: sessions, jobs, faultRules, journal.")
    faultRulesInstalled: int = Field(description="Rules of --faults FILE, installed again.")
    snapshotsKept: int
    generatorsRewound: bool = Field(description="Under --seed: UUIDs and draws start again as at start-up.")
    elapsedMs: float


class SnapshotView(BaseModel):
    name: str
    createDate: datetime
    counts: dict[str, int] = Field(description="Rows held, by kind (accounts, images, sessions...).")
    seeded: bool = Field(description="Holds the seeded generators' position (restored with it).")
    bytes: int


class SnapshotList(BaseModel):
    snapshots: list[SnapshotView]


class Restored(BaseModel):
    snapshot: SnapshotView
    elapsedMs: float


class Deleted(BaseModel):
    deleted: int


class SnapshotRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="Letters, digits, '.', '_', '-'; up to 128.", examples=["before-test"])
    replace: bool = Field(False, description="Overwrite a snapshot of that name (else 409).")


class ClockView(BaseModel):
    now: datetime = Field(description="The time the server reports now.")
    frozen: bool = Field(description="Time stands still until changed.")
    realTime: bool = Field(description="Neither frozen nor shifted.")
    offsetSeconds: float | None = Field(None, description="How far ahead of real time a running clock is.")


class ClockChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    now: datetime | None = Field(None, description="The new time (ISO 8601; UTC when no zone is given).")
    frozen: bool | None = Field(None, description="Stand still (true) or run (false); left out: as it is.")
    advance: float | None = Field(None, allow_inf_nan=False, description="Seconds to move the time by (negative: back).")


@router.post("/reset", operation_id="Reset", summary="Reset to the fixtures", response_model=ResetSummary)
async def reset(request: Request) -> Response:
    """Back to the fixtures the server started with: inventory reloaded; sessions, jobs, fault rules and
    counters, the journal, job settings and the clock setting cleared (rules of `--faults FILE` installed
    again); under `--seed` the generators start again. Snapshots are kept. A sandbox visitor's reset of its
    own tenant (`X-Mock-Session`) keeps that session, its key to the tenant."""
    started = time.perf_counter()
    server = server_of(request)
    instance = instance_of(request)
    visitor = visitor_session(request)
    await instance.journal.caught_up()  # what other workers hold of the past goes with the rest
    summary, journal_entries = await off_loop(
        instance, lambda: instance.reset(server.fixtures.records(), server.startup_rules,
                                         keep_sessions=() if visitor is None else (visitor,))
    )
    return json_response({
        "inventory": summary.inventory,
        "cleared": {**summary.cleared, "journal": journal_entries},
        "faultRulesInstalled": len(server.startup_rules),
        "snapshotsKept": summary.snapshots_kept,
        "generatorsRewound": summary.generators_rewound,
        "elapsedMs": _elapsed_ms(started),
    })


@router.get("/snapshots", operation_id="ListSnapshots", summary="List snapshots", response_model=SnapshotList)
async def list_snapshots(request: Request) -> Response:
    instance = instance_of(request)
    snapshots = await off_loop(instance, lambda: state.list_snapshots(instance.context))
    return json_response({"snapshots": [_view(s) for s in snapshots]})


@router.post(
    "/snapshots",
    operation_id="TakeSnapshot", responses={**errors(409, body=True), 200: {"model": SnapshotView, "description": "An older snapshot of that name was replaced."}},
    summary="Take a snapshot",
    status_code=201,
    response_model=SnapshotView,
    openapi_extra=json_body(SnapshotRequest, {"new": {"value": {"name": "before-test"}},
                                              "overwrite": {"value": {"name": "before-test", "replace": True}}}),
)
async def take_snapshot(request: Request) -> Response:
    """Saves the inventory and sessions under a name (201; 200 when `replace` overwrote one). Jobs, the
    journal, fault rules and the clock are not part of a snapshot."""
    body = await read_model(request, SnapshotRequest)
    instance = instance_of(request)
    info, replaced = await off_loop(instance, lambda: state.take_snapshot(instance.context, body.name,
                                                                          replace=body.replace))
    return json_response(_view(info), status_code=200 if replaced else 201)


@router.get("/snapshots/{name}", operation_id="GetSnapshot", responses=errors(404), summary="One snapshot", response_model=SnapshotView)
async def get_snapshot(request: Request, name: str = SNAPSHOT_NAME) -> Response:
    instance = instance_of(request)
    return json_response(_view(await off_loop(instance, lambda: state.get_snapshot(instance.context, name))))


@router.post("/snapshots/{name}/restore", operation_id="RestoreSnapshot", responses=errors(404, 409), summary="Restore a snapshot",
             response_model=Restored)
async def restore_snapshot(request: Request, name: str = SNAPSHOT_NAME) -> Response:
    """The snapshot's inventory and sessions replace the current ones; running and finished jobs are
    dropped. Fault rules, the journal, job settings and the clock stay as they are."""
    started = time.perf_counter()
    instance = instance_of(request)
    info = await off_loop(instance, lambda: state.restore_snapshot(instance.context, name))
    instance_of(request).jobs.wake()
    return json_response({"snapshot": _view(info), "elapsedMs": _elapsed_ms(started)})


@router.delete("/snapshots/{name}", operation_id="DeleteSnapshot", responses=errors(404), summary="Delete a snapshot",
               response_model=Deleted)
async def delete_snapshot(request: Request, name: str = SNAPSHOT_NAME) -> Response:
    state.delete_snapshot(instance_of(request).context, name)
    return json_response({"deleted": 1})


@router.get("/clock", operation_id="GetClock", responses=errors(409), summary="The server's time", response_model=ClockView)
async def get_clock(request: Request) -> Response:
    ctx = instance_of(request).context
    clock = state.server_clock(ctx)
    return json_response(_clock_view(clock.setting, clock.now()))


@router.put(
    "/clock",
    operation_id="SetClock", responses=errors(409, body=True),
    summary="Set the server's time",
    response_model=ClockView,
    openapi_extra=json_body(ClockChange, {
        "frozen": {"summary": "Stand still at a moment", "value": {"now": "2026-01-01T00:00:00Z", "frozen": True}},
        "running": {"summary": "Run on from a moment", "value": {"now": "2026-01-01T00:00:00Z", "frozen": False}},
        "advance": {"summary": "Two hours later (sessions expire, due jobs finish)", "value": {"advance": 7200}},
    }),
)
async def set_clock(request: Request) -> Response:
    """The time every timestamp, session expiry and job timing uses, in every process over the database.
    Frozen, time stands still: jobs finish and sessions expire only as it is moved (`advance`)."""
    change = await read_model(request, ClockChange)
    ctx = instance_of(request).context
    setting = state.set_clock(ctx, now=change.now, frozen=change.frozen, advance=change.advance)
    instance_of(request).jobs.wake()
    return json_response(_clock_view(setting, ctx.clock.now()))


@router.delete("/clock", operation_id="RealClock", responses=errors(409), summary="Back to real time", response_model=ClockView)
async def real_clock(request: Request) -> Response:
    ctx = instance_of(request).context
    setting = state.real_time(ctx)
    instance_of(request).jobs.wake()
    return json_response(_clock_view(setting, ctx.clock.now()))


def _view(info: state.SnapshotInfo) -> dict[str, Any]:
    return {"name": info.name, "createDate": _iso(info.create_date), "counts": info.counts, "seeded": info.seeded,
            "bytes": info.size}


def _clock_view(setting: ClockSetting, now: datetime) -> dict[str, Any]:
    return {
        "now": _iso(now),
        "frozen": setting.frozen is not None,
        "realTime": setting.real,
        "offsetSeconds": None if setting.offset is None else setting.offset.total_seconds(),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
