"""ZStack's Java SDK, as ``tests.sdk.client`` copies it, against the mock over a real socket, in both modes.

The SDK sends ``X-Job-UUID`` with every call, so an asynchronous API is answered as a real node answers
it whatever ``--api-mode`` says: these flows must come out the same in ``sync`` and ``async`` mode.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.helpers import (
    BACKUP_OF_ALICE,
    BACKUP_ON_DISABLED_ONLY,
    BS_DISABLED,
    BS_DISCONNECTED,
    BS_READY,
    EXISTING_IMAGE,
)
from tests.jobs.support import WebhookReceiver
from tests.sdk import actions
from tests.sdk.client import HTTP_ERROR, ApiResult, Typed, ZSClient, untyped

MODES = ["sync", "async"]


@pytest.fixture(params=MODES)
def server(request: pytest.FixtureRequest, live_server: Callable[..., LiveServer]) -> LiveServer:
    return live_server(api_mode=request.param, job_duration="0.05")


@pytest.fixture
def sdk(server: LiveServer) -> Iterator[ZSClient]:
    client = ZSClient(server.url)
    yield client
    client.close()


def log_in(sdk: ZSClient, account: str = "admin") -> str:
    result = sdk.call(actions.log_in_by_account(account, f"{account}-password" if account != "admin" else "password"))
    assert result.error is None, result.error
    reply = result.get_result()
    assert isinstance(reply["inventory"], Typed) and reply["inventory"].sdk_class == "org.zstack.sdk.SessionInventory"
    uuid: str = reply["inventory"].fields["uuid"]
    return uuid


def created(result: ApiResult) -> Typed:
    assert result.error is None, result.error
    reply = result.get_result()
    assert untyped(reply) == [], untyped(reply)
    inventory: Typed = reply["inventory"]
    assert inventory.sdk_class == "org.zstack.sdk.ImageInventory"
    assert [ref.sdk_class for ref in inventory.fields["backupStorageRefs"]] == [
        "org.zstack.sdk.ImageBackupStorageRefInventory"
    ]
    return inventory


def test_create_by_polling_gives_a_typed_ready_image(sdk: ZSClient) -> None:
    inventory = created(sdk.call(actions.create_template(log_in(sdk), name="polled")))
    assert inventory.fields["name"] == "polled" and inventory.fields["status"] == "Ready"


def test_create_by_callback_completes_from_the_poll(sdk: ZSClient) -> None:
    session = log_in(sdk)
    results: list[ApiResult] = []
    done = threading.Event()
    sdk.call_async(actions.create_template(session, name="callback"), lambda r: (results.append(r), done.set()))
    assert done.wait(10)
    assert created(results[0]).fields["name"] == "callback"


def test_create_by_webhook_completes_from_the_post(server: LiveServer) -> None:
    receiver = WebhookReceiver()
    sdk = ZSClient(server.url, webhook=receiver.url)
    try:
        session = log_in(sdk)
        results: list[ApiResult] = []
        sdk.call_async(actions.create_template(session, name="hooked"), results.append)
        assert results == []  # the 202 completes nothing
        delivery = receiver.wait_for(1)[0]
        sdk.webhook_received(delivery.headers["x-job-uuid"], json.dumps(delivery.body).encode())
        assert created(results[0]).fields["name"] == "hooked"
    finally:
        sdk.close()
        receiver.close()


@pytest.mark.parametrize(
    ("parameters", "code"),
    [
        pytest.param({"backup": "0" * 32}, "SYS.1003", id="unknown-backup"),
        pytest.param({"backup": BACKUP_ON_DISABLED_ONLY, "backupStorageUuid": BS_DISABLED}, "SYS.1006",
                     id="disabled-storage"),
        pytest.param({"backupStorageUuid": BS_DISCONNECTED}, "SYS.1002", id="disconnected-storage"),
        pytest.param({"name": None}, "SYS.1007", id="missing-name"),
        pytest.param({"platform": "Solaris"}, "SYS.1007", id="bad-platform"),
        pytest.param({"resourceUuid": EXISTING_IMAGE}, "SYS.1000", id="taken-resource-uuid"),
    ],
)
def test_every_create_error_reaches_the_sdk_with_its_zstack_code(
    sdk: ZSClient, parameters: dict[str, Any], code: str
) -> None:
    parameters = dict(parameters)  # the parametrized dict is shared by both modes
    backup = parameters.pop("backup", None)
    session = log_in(sdk)
    action = actions.create_template(session, **parameters) if backup is None else actions.create_template(
        session, backup, **parameters
    )
    if "name" in parameters and parameters["name"] is None:
        action.parameters.pop("name")
    result = sdk.call(action)
    assert result.error is not None and result.error["code"] == code, result.error


def test_invalid_logged_out_and_other_accounts_sessions(sdk: ZSClient) -> None:
    bob = log_in(sdk, "bob")
    denied = sdk.call(actions.create_template(bob, BACKUP_OF_ALICE))
    assert denied.error is not None and denied.error["code"] == "ID.1002"
    invalid = sdk.call(actions.create_template("0123456789abcdef0123456789abcdef"))
    assert invalid.error is not None and invalid.error["code"] == "ID.1001"
    assert sdk.call(actions.log_out(bob)).error is None
    assert sdk.call(actions.validate_session(bob)).get_result() == {"valid": False, "schema": {}}
    after = sdk.call(actions.create_template(bob))
    assert after.error is not None and after.error["code"] == "ID.1001"
    # A synchronous API's failure is a 503 at once, which the SDK only reports as an HTTP error.
    query = sdk.call(actions.query(bob, "/images"))
    assert query.error is not None and query.error["code"] == HTTP_ERROR
    assert json.loads(query.error["details"])["error"]["code"] == "ID.1001"


def test_queries_come_back_typed_to_the_last_nested_ref(sdk: ZSClient) -> None:
    session = log_in(sdk)
    created(sdk.call(actions.create_template(session, name="listed")))
    for path, inventory in (("/images", "ImageInventory"), ("/volume-backups", "VolumeBackupInventory"),
                            ("/backup-storage", "ImageStoreBackupStorageInventory")):
        result = sdk.call(actions.query(session, path, limit=10))
        assert result.error is None, result.error
        reply = result.get_result()
        assert untyped(reply) == [], (path, untyped(reply))
        assert {i.sdk_class for i in reply["inventories"]} == {f"org.zstack.sdk.{inventory}"}


def test_renew_session_is_polled_like_any_api_event(sdk: ZSClient) -> None:
    session = log_in(sdk)
    result = sdk.call(actions.renew_session(session, session, duration=3600))
    assert result.error is None, result.error
    inventory = result.get_result()["inventory"]
    assert isinstance(inventory, Typed) and inventory.fields["uuid"] == session


def test_a_job_that_outlives_x_api_timeout_fails_with_sys_1001(server: LiveServer, sdk: ZSClient) -> None:
    assert httpx.put(f"{server.url}/_mock/jobs/settings", json={"holdNewJobs": True}).status_code == 200
    session = log_in(sdk)
    action = actions.create_template(session, name="too slow")
    action.api_timeout_seconds = 1
    results: list[ApiResult] = []
    done = threading.Event()
    sdk.call_async(action, lambda r: (results.append(r), done.set()))
    assert httpx.put(f"{server.url}/_mock/clock", json={"advance": 2}).status_code == 200
    assert done.wait(10)
    assert results[0].error is not None and results[0].error["code"] == "SYS.1001"


def test_a_reused_job_uuid_is_refused(sdk: ZSClient) -> None:
    session = log_in(sdk)
    first = sdk.call(actions.create_template(session, name="first"), job_uuid="a" * 32)
    created(first)
    again = sdk.call(actions.create_template(session, name="again"), job_uuid="a" * 32)
    assert again.error is not None and again.error["code"] == HTTP_ERROR
    assert again.error["details"] == f"Duplicate job uuid[{'a' * 32}]"
    assert BS_READY  # the default storage every create above used


def test_a_whole_image_lifecycle_with_a_query_after_each_step(sdk: ZSClient) -> None:
    session = log_in(sdk)
    listed = sdk.call(actions.query(session, "/tags", "name=production")).get_result()
    assert untyped(listed) == []
    tag: Typed = listed["inventories"][0]
    assert tag.sdk_class == "org.zstack.sdk.TagPatternInventory"
    image = created(sdk.call(actions.create_template(session, name="flow", tagUuids=[tag.fields["uuid"]])))
    uuid = image.fields["uuid"]

    def shown() -> dict[str, Any] | None:
        reply = sdk.call(actions.query(session, "/images", f"uuid={uuid}")).get_result()
        assert untyped(reply) == []
        return reply["inventories"][0].fields if reply["inventories"] else None

    def done(action: Any) -> Any:
        result = sdk.call(action)
        assert result.error is None, result.error
        return result.get_result()

    updated = done(actions.image_action(session, uuid, "updateImage", name="renamed"))["inventory"]
    assert updated.sdk_class == "org.zstack.sdk.ImageInventory" and shown() == updated.fields
    disabled = done(actions.image_action(session, uuid, "changeImageState", stateEvent="disable"))["inventory"]
    assert (shown() or {})["state"] == disabled.fields["state"] == "Disabled"
    assert done(actions.delete_image(session, uuid)) == {"schema": {}}  # X-JSON-Schema: an empty map
    assert (shown() or {})["status"] == "Deleted"
    recovered = done(actions.image_action(session, uuid, "recoverImage", "imageUuid"))["inventory"]
    assert (shown() or {})["status"] == recovered.fields["status"] == "Ready"
    assert done(actions.delete_image(session, uuid, deleteMode="Enforcing")) == {"schema": {}}
    assert (shown() or {})["status"] == "Deleted"
    assert done(actions.image_action(session, uuid, "expungeImage", "imageUuid")) == {"schema": {}}
    assert shown() is None
    again = sdk.call(actions.image_action(session, uuid, "recoverImage", "imageUuid"))
    assert again.error is not None and again.error["code"] == "SYS.1003"
