"""The server's state as a whole: reset to the fixtures, named snapshots, and the settable clock.

Plain functions over the store (``POST /_mock/reset``, ``/_mock/snapshots``, ``/_mock/clock`` call
them). What each one touches:

=================  =========================================================================
reset              inventory (from the fixtures), sessions, jobs and webhook deliveries, fault
                   rules and counters, the journal table, job settings, the clock; the seeded
                   generators go back to their start. Snapshots are kept.
snapshot           holds the inventory (accounts, backup storages, volume backups and their
                   refs, tag patterns, images with refs and tags), the sessions, and where this
                   process's seeded generators stand. Not jobs, the journal, rules, the clock.
restore            puts those back and drops jobs and webhook deliveries (they name images of
                   the state being left); rules, journal, clock and job settings stay.
=================  =========================================================================

A snapshot's ``payload`` is two lines of JSON: a header (``format``, ``counts``, ``generators``),
read alone to list snapshots, then the rows, ``{table: {"columns": [names], "rows": [[values], ...]}}``.
Rows are read back by column name, so a snapshot never depends on the tables' column order.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any

import orjson

from ..clock import ClockSetting, ServerClock
from ..store.columns import columns_of
from ..store.records import (
    Account,
    ApiJob,
    BackupStorage,
    FaultCounter,
    FaultRule,
    Image,
    ImageBackupStorageRef,
    ImageTag,
    JournalEntry,
    Record,
    Session,
    Snapshot,
    TagPattern,
    VolumeBackup,
    VolumeBackupStorageRef,
    WebhookDelivery,
)
from ..zstack.errors import bad_request, conflict, not_found
from . import quotas
from .context import Context
from .job_settings import reset_job_settings

#: What a snapshot holds; the names are the ones counts are reported under.
SNAPSHOT_TABLES: dict[type[Any], str] = {
    Account: "accounts",
    BackupStorage: "backupStorages",
    VolumeBackup: "volumeBackups",
    VolumeBackupStorageRef: "volumeBackupStorageRefs",
    TagPattern: "tags",
    Image: "images",
    ImageBackupStorageRef: "imageBackupStorageRefs",
    ImageTag: "imageTags",
    Session: "sessions",
}
JOB_TABLES: tuple[type[Any], ...] = (ApiJob, WebhookDelivery)
#: Emptied by a reset besides the snapshot tables (the journal's own buffer, and its count, are the caller's).
CONTROL_TABLES: tuple[type[Any], ...] = (FaultRule, FaultCounter, JournalEntry)

SNAPSHOT_FORMAT = 2
SNAPSHOT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)
_MAX_ADVANCE = timedelta(days=366 * 100)


# -- reset -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResetSummary:
    inventory: dict[str, int]
    cleared: dict[str, int]
    snapshots_kept: int
    generators_rewound: bool


def reset(ctx: Context, fixtures: Sequence[Record], *, keep_sessions: Collection[str] = ()) -> ResetSummary:
    """Everything but the snapshots back to how a fresh server starts on ``fixtures``, atomically.

    The sessions named in ``keep_sessions`` stay, if their account is one of the fixtures' (a sandbox
    visitor's own session is its key to its tenant)."""
    store = ctx.store
    with store.transaction():
        accounts = {record.uuid for record in fixtures if isinstance(record, Account)}
        kept = [session for uuid in keep_sessions
                if (session := store.get(Session, uuid=uuid)) is not None and session.account_uuid in accounts]
        cleared = {
            "sessions": store.count(Session) - len(kept),
            "jobs": store.count(ApiJob),
            "faultRules": store.count(FaultRule),
        }
        fixtures = [*fixtures, *kept]
        store.replace_records([*SNAPSHOT_TABLES, *JOB_TABLES, *CONTROL_TABLES], fixtures)
        reset_job_settings(ctx)
        if isinstance(ctx.clock, ServerClock):
            ctx.clock.set(ClockSetting())
        snapshots = store.count(Snapshot)
    ctx.bounds.counts.forget()
    rewound = isinstance(ctx.clock, ServerClock) and ctx.clock.set_generator_state(None)
    return ResetSummary(_counts(fixtures), cleared, snapshots, rewound)


# -- snapshots ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    name: str
    create_date: datetime
    counts: dict[str, int]
    seeded: bool
    size: int


class _Codec:
    """A record type's rows as JSON arrays under their column names, and back (datetimes as ISO 8601)."""

    def __init__(self, record_type: type[Any]) -> None:
        columns = columns_of(record_type)
        self.record_type = record_type
        self.columns = [column.name for column in columns]
        self.row = attrgetter(*self.columns)
        self.date_columns = frozenset(column.name for column in columns if column.type is datetime)
        self.order = ["id"] if "id" in self.columns else []

    def encode(self, records: Sequence[Any]) -> dict[str, Any]:
        return {"columns": self.columns, "rows": [self.row(r) for r in records]}

    def decode(self, snapshot: str, table: dict[str, Any]) -> list[Any]:
        stored: list[str] = table["columns"]
        if sorted(stored) != sorted(self.columns):
            raise conflict(
                f"snapshot [{snapshot}] holds {self.record_type.__tablename__} with the columns {stored}, "
                f"this zstack-mock has {self.columns}: take the snapshot again"
            )
        dates = [index for index, column in enumerate(stored) if column in self.date_columns]
        records = []
        for row in table["rows"]:
            for index in dates:
                if row[index] is not None:
                    row[index] = datetime.fromisoformat(row[index])
            records.append(self.record_type(**dict(zip(stored, row, strict=True))))
        return records


_CODECS = {record_type: _Codec(record_type) for record_type in SNAPSHOT_TABLES}


def take_snapshot(ctx: Context, name: str, *, replace: bool = False) -> tuple[SnapshotInfo, bool]:
    """Save the state under ``name``; returns it and whether an older one of that name was replaced.

    The rows are read in one transaction and written in another; encoding them, the costly part,
    holds no lock (the caller runs it off the event loop). A new name needs room (``--max-snapshots``).
    """
    if not SNAPSHOT_NAME.fullmatch(name):
        raise bad_request(
            f"invalid snapshot name [{name}]: 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    store = ctx.store
    with store.transaction():
        _check_room(ctx, name, replace=replace)
        rows = {record_type: store.find(record_type, order_by=_CODECS[record_type].order)
                for record_type in SNAPSHOT_TABLES}
        generators = ctx.clock.generator_state() if isinstance(ctx.clock, ServerClock) else None
        create_date = ctx.clock.now()
    tables = {record_type.__tablename__: _CODECS[record_type].encode(found) for record_type, found in rows.items()}
    counts = {SNAPSHOT_TABLES[record_type]: len(found) for record_type, found in rows.items()}
    header = {"format": SNAPSHOT_FORMAT, "counts": counts, "generators": generators}
    payload = (orjson.dumps(header) + b"\n" + orjson.dumps(tables)).decode()
    snapshot = Snapshot(name=name, create_date=create_date, payload=payload)
    with store.transaction():
        existed = _check_room(ctx, name, replace=replace)  # again: another request may have taken it meanwhile
        store.delete(Snapshot, {"name": name})
        store.insert(snapshot)
    return _info(snapshot, header), existed


def _check_room(ctx: Context, name: str, *, replace: bool) -> bool:
    """Whether a snapshot ``name`` exists (409 unless ``replace``); a new one needs room (409 when full)."""
    existed = ctx.store.count(Snapshot, {"name": name}) > 0
    if existed and not replace:
        raise conflict(f"a snapshot named [{name}] exists; send \"replace\": true to overwrite it")
    if not existed:
        quotas.ensure_snapshot_room(ctx)
    return existed


def list_snapshots(ctx: Context) -> list[SnapshotInfo]:
    """Oldest first."""
    return [_info(s, _header(s)) for s in ctx.store.find(Snapshot, order_by=["create_date", "name"])]


def get_snapshot(ctx: Context, name: str) -> SnapshotInfo:
    snapshot = _require(ctx, name)
    return _info(snapshot, _header(snapshot))


def restore_snapshot(ctx: Context, name: str) -> SnapshotInfo:
    """The snapshot's inventory and sessions replace the current ones; jobs are dropped."""
    snapshot = _require(ctx, name)
    header_line, _, body = snapshot.payload.partition("\n")
    header = orjson.loads(header_line)
    if header.get("format") != SNAPSHOT_FORMAT:
        raise conflict(
            f"snapshot [{name}] is in format {header.get('format')}, this zstack-mock reads format "
            f"{SNAPSHOT_FORMAT}: take the snapshot again"
        )
    records: list[Any] = []
    for record_type, table in _tables(orjson.loads(body)):
        records.extend(_CODECS[record_type].decode(name, table))
    ctx.store.replace_records([*SNAPSHOT_TABLES, *JOB_TABLES], records)
    ctx.bounds.counts.forget()
    if isinstance(ctx.clock, ServerClock) and header.get("generators") is not None:
        ctx.clock.set_generator_state(header["generators"])
    return _info(snapshot, header)


def delete_snapshot(ctx: Context, name: str) -> None:
    if not ctx.store.delete(Snapshot, {"name": name}):
        raise not_found(f"no snapshot named [{name}]")


def _require(ctx: Context, name: str) -> Snapshot:
    snapshot = ctx.store.get(Snapshot, name=name)
    if snapshot is None:
        raise not_found(f"no snapshot named [{name}]")
    return snapshot


def _tables(body: dict[str, Any]) -> list[tuple[type[Any], dict[str, Any]]]:
    by_table = {record_type.__tablename__: record_type for record_type in SNAPSHOT_TABLES}
    return [(by_table[table], rows) for table, rows in body.items()]


def _header(snapshot: Snapshot) -> dict[str, Any]:
    header: dict[str, Any] = orjson.loads(snapshot.payload.partition("\n")[0])
    return header


def _info(snapshot: Snapshot, header: dict[str, Any]) -> SnapshotInfo:
    return SnapshotInfo(snapshot.name, snapshot.create_date, header["counts"], header.get("generators") is not None,
                        len(snapshot.payload))


def _counts(records: Sequence[Record]) -> dict[str, int]:
    counts = dict.fromkeys(SNAPSHOT_TABLES.values(), 0)
    for record in records:
        counts[SNAPSHOT_TABLES[type(record)]] += 1
    return counts


# -- the clock ---------------------------------------------------------------------------------------


def server_clock(ctx: Context) -> ServerClock:
    if not isinstance(ctx.clock, ServerClock):
        raise conflict("this server's clock has been replaced (a test clock): it cannot be set")
    return ctx.clock


def set_clock(
    ctx: Context, *, now: datetime | None = None, frozen: bool | None = None, advance: float | None = None
) -> ClockSetting:
    """Move the server's time to ``now`` (or by ``advance`` seconds), frozen or running.

    ``frozen`` left out keeps the current mode: a frozen clock moved stays frozen.
    """
    clock = server_clock(ctx)
    if now is not None and advance is not None:
        raise bad_request("give either now or advance, not both")
    if now is None and advance is None and frozen is None:
        raise bad_request("nothing to change: give now, advance and/or frozen (DELETE /_mock/clock for real time)")
    current = clock.setting
    target = clock.now()
    if now is not None:
        target = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    elif advance is not None:
        if not abs(advance) <= _MAX_ADVANCE.total_seconds():  # NaN fails too
            raise bad_request(f"advance must be within ±{_MAX_ADVANCE.days} days, got {advance} seconds")
        target = target + timedelta(seconds=advance)
    if not _EARLIEST <= target < _LATEST:
        raise bad_request(f"the time must be from {_EARLIEST:%Y-%m-%d} to before {_LATEST:%Y-%m-%d}, got {target}")
    clock.move_to(target, frozen=current.frozen is not None if frozen is None else frozen)
    return clock.setting


def real_time(ctx: Context) -> ClockSetting:
    clock = server_clock(ctx)
    clock.set(ClockSetting())
    return clock.setting
