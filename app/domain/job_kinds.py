"""How an asynchronous API's work splits around its job, as the API catalogue declares it.

The real management node answers an async API at once and runs it on its message bus. Here a job
is a row in the store (``app.domain.jobs``); each asynchronous API tells the job machinery what to
do at each step, through its ``JobSteps``:

* ``start``: when the call is accepted: every check, then the resource made as "in progress" (an
  image ``Downloading``). A ``ZStackError`` does not reject the call: it becomes the job's result,
  as validation failures arrive through the job on a real node.
* ``finish``: when jobs are due, for many at once: each resource completed, or the error it failed with.
* ``abandon``: a failed or timed-out job's half-made resource is removed.
* ``reply``: the reply of a successful job, rendered from its resource when asked for (so finishing
  writes a status, not a kilobyte of JSON); None if the resource is gone.

Every step is a domain function over the ``Context`` (keyword arguments ``ctx`` and, for ``start``,
``session_uuid`` and ``message``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..zstack.errors import ZStackError


@dataclass(frozen=True, slots=True)
class JobStart:
    """What ``start`` made: the resource the job works on, and its owner."""

    resource_uuid: str
    account_uuid: str


@dataclass(frozen=True, slots=True)
class JobSteps:
    start: Callable[..., JobStart]
    finish: Callable[..., Mapping[str, ZStackError | None]]
    abandon: Callable[..., None]
    reply: Callable[..., dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class JobKind:
    """An asynchronous API as its jobs know it: its name, the event class of its result, its steps."""

    api: str
    event_class: str
    steps: JobSteps


JobKinds = Mapping[str, JobKind]


def _all_done(*, ctx: Any, resource_uuids: Sequence[str]) -> dict[str, ZStackError | None]:
    return dict.fromkeys(resource_uuids)


def _nothing_to_undo(*, ctx: Any, resource_uuid: str) -> None:
    """The change was made when the call was accepted and stays (a real node makes it within milliseconds)."""


def done_at_start(start: Callable[..., JobStart], reply: Callable[..., dict[str, Any] | None],
                  abandon: Callable[..., None] = _nothing_to_undo) -> JobSteps:
    """The steps of an API whose whole work is ``start``: its job only reports it when due."""
    return JobSteps(start=start, finish=_all_done, abandon=abandon, reply=reply)


def served_at_once(steps: JobSteps) -> Callable[..., dict[str, Any]]:
    """The synchronous form of a ``done_at_start`` API: ``start``, then its reply."""

    def serve(*, ctx: Any, session_uuid: str | None, message: Any) -> dict[str, Any]:
        started = steps.start(ctx=ctx, session_uuid=session_uuid, message=message)
        return steps.reply(ctx=ctx, resource_uuid=started.resource_uuid) or {}

    return serve
