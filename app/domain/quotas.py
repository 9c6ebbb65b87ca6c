"""Quotas: how many records of each kind (``--max-records``) and snapshots (``--max-snapshots``) one
fake cloud, the server's own or a sandbox tenant, may hold.

A kind may hold ``max_records`` more records than the fixtures give it. What the control API would
add beyond that is refused with 409; an image the create API would add, with ZStack's own quota
error (ID.1003, as the real server's quota checker words it, with the flag that sets it). Jobs make
room first by forgetting the oldest finished ones, as their retention would.
"""

from __future__ import annotations

from typing import Any

from ..store.records import Account, ApiJob, Image, Session, Snapshot, VolumeBackup, WebhookDelivery
from ..zstack.errors import QUOTA_EXCEEDED, TOO_MANY_SESSIONS, ZStackError, conflict, zstack_error
from .context import Context

#: How errors name each kind: the control API's words, and ZStack's quota name.
KINDS: dict[type[Any], tuple[str, str]] = {
    Account: ("accounts", "account.num"),
    VolumeBackup: ("volume backups", "volumeBackup.num"),
    Session: ("sessions", "session.num"),
    Image: ("images", "image.num"),
    ApiJob: ("API jobs", "apiJob.num"),
}
_RUNNING = "Running"


def ensure_room(ctx: Context, record_type: type[Any], adding: int = 1) -> None:
    """409 when ``adding`` more records of ``record_type`` would pass the bound (a control API call)."""
    full = _full(ctx, record_type, adding)
    if full is not None:
        held, bound = full
        raise conflict(f"no room for more {KINDS[record_type][0]}: {_bound_text(ctx, record_type, bound)}, "
                       f"and {held} are held")


def ensure_image_room(ctx: Context, account: Account) -> None:
    """ZStack's quota error (ID.1003) when one more image for ``account`` would pass the bound."""
    full = _full(ctx, Image, 1)
    if full is not None:
        raise quota_exceeded(ctx, Image, *full, account=account)


def make_room_for_job(ctx: Context) -> None:
    """Forget the oldest finished jobs beyond the bound; ID.1003 when every job held is still running.

    Called in the caller's transaction, before it stores the new job.
    """
    full = _full(ctx, ApiJob, 1)
    if full is None:
        return
    held, bound = full
    store = ctx.store
    oldest = store.find(ApiJob, {"status__ne": _RUNNING}, order_by=["finish_date", "uuid"], limit=held + 1 - bound)
    if len(oldest) < held + 1 - bound:
        raise quota_exceeded(ctx, ApiJob, held, bound)
    uuids = [job.uuid for job in oldest]
    store.delete(WebhookDelivery, {"job_uuid__in": uuids})
    store.delete(ApiJob, {"uuid__in": uuids})
    ctx.bounds.counts.forget()


def added(ctx: Context, record_type: type[Any], count: int = 1) -> None:
    """Tell the bookkeeping that ``count`` records were stored (after the insert)."""
    ctx.bounds.counts.added(record_type, count)


def ensure_snapshot_room(ctx: Context) -> None:
    """409 when ``max_snapshots`` are kept already (a new name; replacing one needs no room)."""
    limit = ctx.bounds.max_snapshots
    if ctx.store.count(Snapshot, at_most=limit) >= limit:
        raise conflict(
            f"no room for another snapshot: at most {limit} are kept (--max-snapshots); delete one "
            "(DELETE /_mock/snapshots/{name}) or replace one (\"replace\": true)"
        )


def ensure_login_room(ctx: Context) -> None:
    """ID.1006, as for too many sessions of an account, when the sessions kept (live or not yet swept) are at
    the bound; expired ones are swept first."""
    if _full(ctx, Session, 1) is None:
        return
    ctx.store.delete(Session, {"expired_date__le": ctx.clock.now()})
    ctx.bounds.counts.forget()
    full = _full(ctx, Session, 1)
    if full is not None:
        raise zstack_error(
            TOO_MANY_SESSIONS,
            "Login sessions hit limit of max allowed concurrent login sessions (zstack-mock: "
            f"{_bound_text(ctx, Session, full[1])})",
            in_service=True,
        )


def quota_exceeded(
    ctx: Context, record_type: type[Any], held: int, bound: int, account: Account | None = None
) -> ZStackError:
    """ID.1003 in the words of ZStack's ``QuotaUtil.CheckQuota``, with the flag that sets the bound."""
    owner = "" if account is None else f"[uuid: {account.uuid} name: {account.name}]"
    return zstack_error(
        QUOTA_EXCEEDED,
        f"quota exceeding.The resource owner(or target resource owner) account{owner} exceeds a quota[name: "
        f"{KINDS[record_type][1]}, value: {bound}], Current used:{held}, Request:1. Please contact the "
        f"administrator. (zstack-mock: {_bound_text(ctx, record_type, bound)})",
    )


def _full(ctx: Context, record_type: type[Any], adding: int) -> tuple[int, int] | None:
    """(held, bound) when ``adding`` more would not fit; None when they do."""
    bounds = ctx.bounds
    bound = bounds.record_bound(record_type)
    held = bounds.counts.estimate(record_type, bound=bound)
    if held is None:
        held = ctx.store.count(record_type, at_most=bound)
        bounds.counts.counted(record_type, held)
    return None if held + adding <= bound else (held, bound)


def _bound_text(ctx: Context, record_type: type[Any], bound: int) -> str:
    extra = ctx.bounds.max_records
    label = KINDS[record_type][0]
    return f"at most {bound} {label} are kept here, the fixtures' {bound - extra} and {extra} more (--max-records)"
