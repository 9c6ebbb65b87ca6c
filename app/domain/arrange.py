"""Arranging state without editing fixture files: accounts, volume backups, storage state, sessions.

Accounts and volume backups take the fixtures file's fields (``fixtures/default.yaml``) and go
through the same models and conversions (``app.seeding.fixtures``), checked against the store
instead of the file. What a file must give, the control API fills in: a new ``uuid``,
``createDate`` now, and for a backup a 10 GiB ``size`` and an ``installPath`` on each storage.
What cannot be done raises the control API's errors (400, 404, 409; ``app.zstack.errors``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..seeding.fixtures import (
    METADATA_FIELDS,
    AccountFixture,
    VolumeBackupFixture,
    account_record,
    volume_backup_records,
)
from ..store.records import Account, BackupStorage, Session, VolumeBackup, VolumeBackupStorageRef
from ..validation_errors import validation_problems
from ..zstack.errors import bad_request, conflict, not_found
from . import quotas
from .context import Context
from .lengths import check_lengths
from .resources import resource_uuid_taken
from .sessions import open_session

M = TypeVar("M", bound=BaseModel)

DEFAULT_BACKUP_SIZE = 10 * 1024**3
MAX_SESSION_LIFETIME = timedelta(days=3650)
STORAGE_STATES = ("Enabled", "Disabled")
STORAGE_STATUSES = ("Connected", "Disconnected", "Connecting")
#: The metadata fields an image made from a backup reads (``app.domain.templates``).
IMAGE_METADATA = frozenset({*METADATA_FIELDS, "virtio"})


def create_account(ctx: Context, fields: Mapping[str, Any]) -> Account:
    """A new account; ``fields`` as in a fixtures file (``password`` or ``passwordSha512``)."""
    entry = _validated(AccountFixture, _with_defaults(ctx, fields))
    account = account_record(entry)
    check_lengths([account], what="the account")
    store = ctx.store
    with store.transaction():
        _check_uuid_free(ctx, account.uuid)
        if store.get(Account, name=account.name) is not None:
            raise conflict(f"an account named [{account.name}] exists")
        quotas.ensure_room(ctx, Account)
        store.insert(account)
    quotas.added(ctx, Account)
    return account


def create_volume_backup(
    ctx: Context, fields: Mapping[str, Any]
) -> tuple[VolumeBackup, list[VolumeBackupStorageRef]]:
    """A new volume backup on existing backup storages, owned by ``owner`` (a name or UUID; admin)."""
    values = _with_defaults(ctx, fields)
    values.setdefault("size", DEFAULT_BACKUP_SIZE)
    shorthand = values.pop("backupStorageUuids", None)
    if shorthand is not None:
        if "backupStorageRefs" in values:
            raise bad_request("give backupStorageUuids or backupStorageRefs, not both")
        if not isinstance(shorthand, list):
            raise bad_request("backupStorageUuids must be a list of backup storage UUIDs")
        values["backupStorageRefs"] = [{"backupStorageUuid": uuid} for uuid in shorthand]
    refs = values.get("backupStorageRefs")
    if isinstance(refs, list):
        values["backupStorageRefs"] = [
            {"installPath": f"zstore://volume-backups/{ctx.clock.new_uuid()}", **ref}
            if isinstance(ref, dict) and ref.get("installPath") is None else ref
            for ref in refs
        ]
    entry = _validated(VolumeBackupFixture, values)
    _check_metadata(ctx, entry)
    store = ctx.store
    with store.transaction():
        _check_uuid_free(ctx, entry.uuid)
        owner = _account(ctx, entry.owner)
        if owner is None:
            raise not_found(f"no account [{entry.owner}] to own the backup")
        storages = [ref.backupStorageUuid for ref in entry.backupStorageRefs]
        if len(set(storages)) < len(storages):
            raise bad_request("a backup storage is named twice in backupStorageRefs")
        known = {s.uuid for s in store.find(BackupStorage, {"uuid__in": storages})}
        missing = [uuid for uuid in storages if uuid not in known]
        if missing:
            raise not_found(f"no backup storage [{', '.join(missing)}]")
        records = volume_backup_records(entry, owner.uuid)
        check_lengths(records, what="the volume backup")
        quotas.ensure_room(ctx, VolumeBackup)
        store.insert_many(records)
    quotas.added(ctx, VolumeBackup)
    backup, *backup_refs = records
    assert isinstance(backup, VolumeBackup)
    return backup, [ref for ref in backup_refs if isinstance(ref, VolumeBackupStorageRef)]


def change_backup_storage(
    ctx: Context, uuid: str, *, state: str | None = None, status: str | None = None
) -> BackupStorage:
    """Set a backup storage's ``state`` (Enabled, Disabled) and/or ``status`` (Connected, Disconnected, Connecting)."""
    if state is None and status is None:
        raise bad_request("nothing to change: give state and/or status")
    if state is not None and state not in STORAGE_STATES:
        raise bad_request(f"state must be one of {', '.join(STORAGE_STATES)}, got [{state}]")
    if status is not None and status not in STORAGE_STATUSES:
        raise bad_request(f"status must be one of {', '.join(STORAGE_STATUSES)}, got [{status}]")
    changes: dict[str, Any] = {"last_op_date": ctx.clock.now()}
    if state is not None:
        changes["state"] = state
    if status is not None:
        changes["status"] = status
    store = ctx.store
    with store.transaction():
        if not store.update(BackupStorage, {"uuid": uuid}, changes):
            raise not_found(f"no backup storage [{uuid}]")
        storage = store.get(BackupStorage, uuid=uuid)
    assert storage is not None
    return storage


def mint_session(
    ctx: Context, account: str, *, expired: bool = False, lifetime: float | None = None, uuid: str | None = None
) -> Session:
    """A session for ``account`` (UUID or name) as a login would make it, without its password or limit.

    ``expired``: already over; ``lifetime``: seconds until it expires if unused (default the
    server's session timeout). Any use renews it to the session timeout, as for every session.
    """
    if expired and lifetime is not None:
        raise bad_request("give expired or lifetimeSeconds, not both")
    if lifetime is not None and not 0 < lifetime <= MAX_SESSION_LIFETIME.total_seconds():
        raise bad_request(f"lifetimeSeconds must be above 0 and at most {MAX_SESSION_LIFETIME.days} days")
    store = ctx.store
    with store.transaction():
        owner = _account(ctx, account)
        if owner is None:
            raise not_found(f"no account [{account}]")
        if uuid is not None and store.get(Session, uuid=uuid) is not None:
            raise conflict(f"a session [{uuid}] exists")
        quotas.ensure_room(ctx, Session)
        now = ctx.clock.now()
        expires = now if expired else now + (ctx.session_timeout if lifetime is None else timedelta(seconds=lifetime))
        session = open_session(ctx=ctx, account=owner, now=now, expired_date=expires, uuid=uuid)
    quotas.added(ctx, Session)
    return session


def _check_metadata(ctx: Context, entry: VolumeBackupFixture) -> None:
    """The public profile keeps only the metadata an image takes: a visitor's backups stay small."""
    if not entry.metadata or not ctx.bounds.image_metadata_only:
        return
    others = sorted(set(entry.metadata) - IMAGE_METADATA)
    if others:
        raise bad_request(f"invalid fields: metadata may hold only {', '.join(sorted(IMAGE_METADATA))} here "
                          f"(the public profile), not [{', '.join(others)[:200]}]")
    if not isinstance(entry.metadata.get("virtio", False), bool):
        raise bad_request("invalid fields: metadata.virtio must be a boolean")


def _account(ctx: Context, name_or_uuid: str) -> Account | None:
    return ctx.store.get(Account, uuid=name_or_uuid) or ctx.store.get(Account, name=name_or_uuid)


def _check_uuid_free(ctx: Context, uuid: str) -> None:
    if resource_uuid_taken(ctx.store, uuid):
        raise conflict(f"uuid [{uuid}] is used by another resource")


def _with_defaults(ctx: Context, fields: Mapping[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in fields.items() if not (k in ("uuid", "createDate") and v is None)}
    if "uuid" not in values:
        values["uuid"] = ctx.clock.new_uuid()
    if "createDate" not in values:
        values["createDate"] = ctx.clock.now()
    return values


def _validated(model: type[M], values: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise bad_request(f"invalid fields: {validation_problems(exc)}") from None
