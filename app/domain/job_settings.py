"""Job settings every server process over the database must agree on: whether new jobs are held, and
how long jobs take (``/_mock/jobs/settings``). Kept in the store's ``store_meta``."""

from __future__ import annotations

from ..settings import parse_duration_range
from ..zstack.errors import bad_request
from .context import Context

HOLD_META_KEY = "jobs.hold_new"
DURATION_META_KEY = "jobs.duration"


def holding_new_jobs(ctx: Context) -> bool:
    return ctx.store.get_meta(HOLD_META_KEY) == "1"


def set_holding_new_jobs(ctx: Context, hold: bool) -> None:
    ctx.store.set_meta(HOLD_META_KEY, "1" if hold else "0")


def job_duration_range(ctx: Context) -> tuple[float, float]:
    """The range job durations are drawn from: the control API's setting, else the server's."""
    stored = ctx.store.get_meta(DURATION_META_KEY)
    if stored:
        low, _, high = stored.partition("-")
        return float(low), float(high or low)
    return ctx.job_duration


def set_job_duration_range(ctx: Context, low: float, high: float) -> None:
    ctx.store.set_meta(DURATION_META_KEY, f"{low!r}-{high!r}")


def reset_job_settings(ctx: Context) -> None:
    """Back to the server's own: new jobs not held, durations from ``--job-duration``."""
    with ctx.store.transaction():
        set_holding_new_jobs(ctx, False)
        ctx.store.set_meta(DURATION_META_KEY, "")


def set_job_duration(ctx: Context, text: str) -> None:
    """``SECONDS`` or ``MIN-MAX`` from the control API; 400 if it is neither."""
    try:
        low, high = parse_duration_range(text)
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    set_job_duration_range(ctx, low, high)
