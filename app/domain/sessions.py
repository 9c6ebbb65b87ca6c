"""Accounts and sessions: LogInByAccount, LogOut, ValidateSession, RenewSession, IsReadyToGo, and the session
check of every API.

Sessions behave as ZStack's ``identity`` module: a login creates a session that expires
``session_timeout`` after its last use; every authenticated API call renews it; an unknown,
expired or logged-out session fails with ID.1001 ``Session expired``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ..store.records import Account, Session
from ..zstack.errors import (
    AUTHENTICATION_FAILED,
    INVALID_SESSION,
    PERMISSION_DENIED,
    TOO_MANY_SESSIONS,
    ZStackError,
    invalid_session,
    zstack_error,
)
from ..zstack.inventories import session_inventory
from ..zstack.params import CheckedMessage
from . import quotas
from .context import Context
from .job_kinds import JobStart, JobSteps

#: A session used many times a second is written back at most once a second.
_RENEWAL_GRANULARITY = timedelta(seconds=1)


def log_in_by_account(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> dict[str, Any]:
    """A new session for the account, if the password's digest matches and it has sessions to spare."""
    values = message.values
    account = ctx.store.get(Account, name=values["accountName"])
    if account is None or account.password_sha512 != values["password"].lower():
        raise zstack_error(AUTHENTICATION_FAILED, "wrong account name or password", in_service=True)
    now = ctx.clock.now()
    if ctx.max_sessions_per_account:
        live = ctx.store.count(Session, {"account_uuid": account.uuid, "expired_date__gt": now})
        if live >= ctx.max_sessions_per_account:
            raise zstack_error(
                TOO_MANY_SESSIONS,
                "Login sessions hit limit of max allowed concurrent login sessions",
                in_service=True,
            )
    quotas.ensure_login_room(ctx)
    session = open_session(ctx=ctx, account=account, now=now, expired_date=now + ctx.session_timeout)
    quotas.added(ctx, Session)
    return {"inventory": session_inventory(session)}


def open_session(
    *, ctx: Context, account: Account, now: datetime, expired_date: datetime, uuid: str | None = None
) -> Session:
    """Store a new session of ``account`` (a login's, or one the control API mints)."""
    session = Session(
        uuid=uuid or ctx.clock.new_uuid(),
        account_uuid=account.uuid,
        user_uuid=account.uuid,
        create_date=now,
        expired_date=expired_date,
    )
    if ctx.housekeeping.session_sweep_due(now):
        ctx.store.delete(Session, {"expired_date__le": now})
    ctx.store.insert(session)
    return session


def log_out(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> dict[str, Any]:
    """Ends the session ``sessionUuid`` names. Logging out an unknown session succeeds, as on ZStack."""
    ctx.store.delete(Session, {"uuid": message.values["sessionUuid"]})
    return {}


def validate_session(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> dict[str, Any]:
    """Whether the session ``sessionUuid`` names is live. Unlike other calls, this does not renew it."""
    session = ctx.store.get(Session, uuid=message.values["sessionUuid"])
    return {"validSession": session is not None and session.expired_date > ctx.clock.now()}


def renew_session(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> dict[str, Any]:
    """RenewSession at once: the session ``sessionUuid`` names expires ``duration`` seconds (default the
    session timeout) from now, as ``Session.renewSession`` sets it."""
    start_renew_session(ctx=ctx, session_uuid=session_uuid, message=message)
    return renewed_session_reply(ctx=ctx, resource_uuid=message.values["sessionUuid"]) or {}


def start_renew_session(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> JobStart:
    """The whole of RenewSession, run when the call is accepted (a real node does it within milliseconds);
    its job then only reports it. An expired session cannot be renewed: ID.1001, and it is logged out."""
    account = authenticate(ctx=ctx, session_uuid=session_uuid)
    target: Session = message.resources["sessionUuid"]
    now = ctx.clock.now()
    if target.expired_date <= now:
        ctx.store.delete(Session, {"uuid": target.uuid})
        raise zstack_error(INVALID_SESSION, "Session expired", in_service=True)
    seconds = message.values.get("duration", int(ctx.session_timeout.total_seconds()))
    ctx.store.update(Session, {"uuid": target.uuid}, {"expired_date": now + timedelta(seconds=seconds)})
    return JobStart(resource_uuid=target.uuid, account_uuid=account.uuid)


def renewed_session_reply(*, ctx: Context, resource_uuid: str) -> dict[str, Any] | None:
    session = ctx.store.get(Session, uuid=resource_uuid)
    return None if session is None else {"inventory": session_inventory(session)}


def _renewal_done(*, ctx: Context, resource_uuids: Sequence[str]) -> dict[str, ZStackError | None]:
    return dict.fromkeys(resource_uuids)


def _nothing_to_undo(*, ctx: Context, resource_uuid: str) -> None:
    """A renewal that a fault fails afterwards stays done: a real node cannot take one back either."""


#: RenewSession is an API event (asynchronous): all its work is in ``start``.
RENEW_SESSION_STEPS = JobSteps(
    start=start_renew_session, finish=_renewal_done, abandon=_nothing_to_undo, reply=renewed_session_reply
)


def is_ready_to_go(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> dict[str, Any]:
    """The management node is always ready."""
    return {}


def authenticate(*, ctx: Context, session_uuid: str | None) -> Account:
    """The session check every authenticated API passes: ID.1001 if not live, else renew it."""
    if session_uuid is None:
        raise zstack_error(INVALID_SESSION, "session uuid is null")
    now = ctx.clock.now()
    session = ctx.store.get(Session, uuid=session_uuid)
    if session is None or session.expired_date <= now:
        raise invalid_session()
    account = ctx.store.get(Account, uuid=session.account_uuid)
    if account is None:
        raise invalid_session()
    renewed = now + ctx.session_timeout
    if renewed - session.expired_date >= _RENEWAL_GRANULARITY:
        ctx.store.update(Session, {"uuid": session_uuid}, {"expired_date": renewed})
    return account


def check_owner(*, ctx: Context, account: Account, resource_uuid: str, resource_type: str, owner_uuid: str) -> None:
    """ID.1002 when a normal account names a resource another account owns (admin sees everything)."""
    if account.is_admin or owner_uuid == account.uuid:
        return
    owner = ctx.store.get(Account, uuid=owner_uuid)
    raise zstack_error(
        PERMISSION_DENIED,
        f"operation denied. The resource[uuid: {resource_uuid}, type: {resource_type},"
        f"ownerAccountName:{owner.name if owner else None}, ownerAccountUuid:{owner_uuid}] "
        f"doesn't belong to the account[uuid: {account.uuid}]",
    )

