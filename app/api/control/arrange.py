"""Arranging state without editing fixtures: /_mock/accounts, /_mock/volume-backups, /_mock/backup-storages,
/_mock/sessions. Bodies are camelCase, as ZStack inventories and the fixtures file; answers are inventories."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.responses import Response

from ...domain import arrange
from ...seeding.fixtures import AccountFixture, BackupRefFixture, VolumeBackupFixture
from ...zstack.errors import forbidden
from ...zstack.inventories import (
    account_inventory,
    backup_storage_inventory,
    session_inventory,
    volume_backup_inventory,
)
from ...zstack.responses import json_response
from ..deps import instance_of, server_of
from ..openapi import json_body
from ..routing import ZStackRoute
from .common import errors, read_model, read_object

router = APIRouter(prefix="/_mock", tags=["Control"], route_class=ZStackRoute)

_UUID = r"^[0-9a-f]{32}$"


# The bodies as documented: a fixtures entry whose generated fields may be left out (the domain fills
# them in, then validates with the fixture models themselves).
_GENERATED: dict[str, Any] = {"uuid": (str | None, Field(None, pattern=_UUID)), "createDate": (datetime | None, None)}
NewAccount = create_model("NewAccount", __base__=AccountFixture, **_GENERATED)
NewBackupRef = create_model(
    "NewBackupRef", __base__=BackupRefFixture, installPath=(str | None, Field(None, pattern=r"^zstore://[^/]+/[^/]+$"))
)
NewVolumeBackup = create_model(
    "NewVolumeBackup", __base__=VolumeBackupFixture, **_GENERATED,
    size=(int, Field(arrange.DEFAULT_BACKUP_SIZE, ge=0)),
    backupStorageRefs=(list[NewBackupRef], []),
    backupStorageUuids=(list[str] | None, Field(None, description="Short for refs on these storages.")),
)


class StorageChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: Literal["Enabled", "Disabled"] | None = None
    status: Literal["Connected", "Disconnected", "Connecting"] | None = None


class NewSession(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: str = Field(description="The account's UUID or name.", examples=["alice"])
    expired: bool = Field(False, description="Already expired: any use answers ID.1001.")
    lifetimeSeconds: float | None = Field(None, allow_inf_nan=False, description="Expires this long from now if unused "
                                          "(default: the session timeout); each use renews it, as any session.")
    uuid: str | None = Field(None, pattern=_UUID, description="The session UUID (default: a new one). Refused "
                             "(403) in the public profile, where only the server issues session UUIDs.")


class Inventory(BaseModel):
    inventory: dict[str, object]


@router.post(
    "/accounts",
    operation_id="ArrangeAccount", responses=errors(404, 409, body=True),
    summary="Create an account",
    status_code=201,
    response_model=Inventory,
    openapi_extra=json_body(NewAccount, {
        "normal": {"value": {"name": "carol", "password": "carol-password"}},
        "admin": {"value": {"name": "ops", "passwordSha512": "b109f3bb...(128 hex)", "type": "SystemAdmin"}},
    }),
)
async def create_account(request: Request) -> Response:
    """The fields of a fixtures file's `accounts` entry: `name`, `password` (plain, stored as its SHA-512)
    or `passwordSha512`, `type` (Normal or SystemAdmin), `description`; `uuid` and `createDate` optional."""
    body = await read_object(request)
    account = arrange.create_account(instance_of(request).context, body)
    return json_response({"inventory": account_inventory(account)}, status_code=201)


@router.post(
    "/volume-backups",
    operation_id="ArrangeVolumeBackup", responses=errors(404, 409, body=True),
    summary="Create a volume backup",
    status_code=201,
    response_model=Inventory,
    openapi_extra=json_body(NewVolumeBackup, {
        "short": {"value": {"name": "web-02-root-backup", "backupStorageUuids": ["4ed18086e5593b86932436d02f575213"],
                            "metadata": {"platform": "Linux", "guestOsType": "CentOS 7"}}},
        "owned": {"value": {"name": "alice-db", "owner": "alice", "size": 5368709120, "backupStorageRefs": [
            {"backupStorageUuid": "4ed18086e5593b86932436d02f575213"}]}},
    }),
)
async def create_volume_backup(request: Request) -> Response:
    """The fields of a fixtures file's `volumeBackups` entry. Defaults: a new `uuid`, `createDate` now,
    `size` 10 GiB, `owner` admin (a name or UUID), Root / full / Enabled / Ready / KVM, and an `installPath`
    for each ref. `backupStorageUuids: [...]` is short for refs on those storages."""
    body = await read_object(request)
    backup, refs = arrange.create_volume_backup(instance_of(request).context, body)
    return json_response({"inventory": volume_backup_inventory(backup, refs)}, status_code=201)


@router.patch(
    "/backup-storages/{uuid}",
    operation_id="ArrangeBackupStorage", responses=errors(404, body=True),
    summary="Change a backup storage's state or status",
    response_model=Inventory,
    openapi_extra=json_body(StorageChange, {"down": {"value": {"status": "Disconnected"}},
                                            "disabled": {"value": {"state": "Disabled"}}}),
)
async def change_backup_storage(request: Request, uuid: str = Path(description="The backup storage UUID.")) -> Response:
    """`state` Enabled or Disabled (a create on a Disabled storage fails SYS.1006), `status` Connected,
    Disconnected or Connecting (the download fails SYS.1002 unless Connected)."""
    change = await read_model(request, StorageChange)
    storage = arrange.change_backup_storage(instance_of(request).context, uuid, state=change.state, status=change.status)
    return json_response({"inventory": backup_storage_inventory(storage)})


@router.post(
    "/sessions",
    operation_id="MintSession", responses=errors(403, 404, 409, body=True),
    summary="Mint a session",
    status_code=201,
    response_model=Inventory,
    openapi_extra=json_body(NewSession, {"live": {"value": {"account": "alice"}},
                                         "expired": {"value": {"account": "admin", "expired": True}},
                                         "short": {"value": {"account": "bob", "lifetimeSeconds": 30}}}),
)
async def mint_session(request: Request) -> Response:
    """A session as a login makes it (the same inventory), with no password and no session limit, so it
    can also arrange ID.1006 for the next login. In the public profile (`--sandbox`) the server
    always picks the UUID: a chosen one is 403."""
    body = await read_model(request, NewSession)
    if body.uuid is not None and server_of(request).settings.is_public:
        # Under --sandbox a session leads to its tenant: a UUID chosen before anyone uses it would
        # take whoever sends it later into the chooser's tenant, faults and journal.
        raise forbidden(
            "a session's uuid cannot be chosen in the public profile: whoever sent that uuid later would land in "
            "this session's cloud; leave 'uuid' out and the server issues one"
        )
    session = arrange.mint_session(instance_of(request).context, body.account, expired=body.expired,
                                   lifetime=body.lifetimeSeconds, uuid=body.uuid)
    return json_response({"inventory": session_inventory(session)}, status_code=201)
