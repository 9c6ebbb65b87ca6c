"""Every Control method against a running MockServer, over a real socket."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from app.control_client import Control, ControlError
from app.embedded import MockServer
from tests.helpers import (
    BACKUP_WITH_METADATA,
    BS_READY,
    CREATE_PATH,
    assert_zstack_error,
    auth,
    create,
    login,
)


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture
def control(server: MockServer) -> Control:
    server.control.reset()
    return server.control


@pytest.fixture
def client(server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as http:
        yield http


def test_health(control: Control) -> None:
    health = control.health()
    assert (health.status, health.accounts, health.sandbox) == ("ok", 3, False)


def test_reset_puts_the_fixtures_back(control: Control, client: httpx.Client) -> None:
    control.add_account("carol", "carol-password")
    summary = control.reset()
    assert summary.inventory["accounts"] == 3
    assert control.health().accounts == 3
    assert summary.elapsed_ms >= 0


def test_snapshot_and_restore(control: Control) -> None:
    taken = control.snapshot("before")
    assert (taken.name, taken.counts["accounts"]) == ("before", 3)
    control.add_account("carol", "carol-password")
    assert control.restore("before").name == "before"
    assert control.health().accounts == 3
    with pytest.raises(ControlError) as taken_twice:
        control.snapshot("before")
    assert (taken_twice.value.status, taken_twice.value.code) == (409, "SYS.1007")
    assert control.snapshot("before", replace=True).name == "before"


def test_login_mints_a_session_or_logs_in(control: Control, client: httpx.Client) -> None:
    minted = control.login()
    logged_in = control.login("alice", "alice-password")
    for session in (minted, logged_in):
        assert client.get("/zstack/v1/accounts/sessions/" + session + "/valid", headers=auth(session)).status_code == 200
    assert control.count("LogInByAccount") == 1  # the minted session made no call
    with pytest.raises(ControlError) as wrong:
        control.login("alice", "not-her-password")
    assert (wrong.value.status, wrong.value.code) == (503, "ID.1000")


def test_add_account_and_volume_backup(control: Control, client: httpx.Client) -> None:
    account = control.add_account("carol", "carol-password", type="SystemAdmin")
    assert (account.name, account.type, len(account.uuid)) == ("carol", "SystemAdmin", 32)
    backup = control.add_volume_backup("web-02", backupStorageUuids=[BS_READY], owner="carol")
    assert backup.backup_storage_uuids == [BS_READY]
    session = login(client, "carol", "carol-password")
    assert create(client, session, backup.uuid).status_code == 200


def test_set_backup_storage(control: Control, client: httpx.Client) -> None:
    storage = control.set_backup_storage(BS_READY, status="Disconnected")
    assert (storage.uuid, storage.state, storage.status) == (BS_READY, "Enabled", "Disconnected")
    assert_zstack_error(create(client, login(client)), "SYS.1002")
    assert control.set_backup_storage(BS_READY, state="Disabled", status="Connected").state == "Disabled"
    with pytest.raises(ControlError) as unknown:
        control.set_backup_storage("0" * 32, status="Connected")
    assert unknown.value.status == 404


def test_a_fault_rule_is_a_context_manager(control: Control, client: httpx.Client) -> None:
    session = login(client)
    with control.fault(operation="CreateRootVolumeTemplateFromVolumeBackup", error="SYS.1006") as rule:
        assert_zstack_error(create(client, session), "SYS.1006")
        assert rule.refresh().fired == 1
        assert [r.id for r in control.faults()] == [rule.id]
    assert control.faults() == []
    assert create(client, session).status_code == 200
    assert rule.remove() is False  # already gone


def test_fault_shorthands_and_the_rule_as_the_api_takes_it(control: Control, client: httpx.Client) -> None:
    proxy = control.fault(operation="LogInByAccount", http=502, times=1)
    assert proxy.rule == {"match": {"operation": "LogInByAccount"}, "http": {"status": 502}, "times": 1}
    assert client.put("/zstack/v1/accounts/login", json={}).status_code == 502
    raw = control.fault({"match": {"operation": "QueryImage"}, "error": {"code": "SYS.1000"}}, name="queries")
    assert raw.rule["match"] == {"operation": "QueryImage"} and raw.raw["name"] == "queries"
    assert control.clear_faults() == 2
    with pytest.raises(ControlError) as refused:
        control.fault(error="NOT-A-CODE")
    assert refused.value.status == 400 and "error code" in refused.value.message
    with pytest.raises(TypeError):
        control.fault(operaton="LogInByAccount")


def test_a_wire_fault_cuts_the_connection(control: Control, client: httpx.Client) -> None:
    with control.fault(operation="QueryImage", wire="reset"), pytest.raises(httpx.TransportError):
        client.get("/zstack/v1/images", headers=auth(control.login()))


def test_requests_and_assert_called(control: Control, client: httpx.Client) -> None:
    session = login(client)
    with control.fault(operation="CreateRootVolumeTemplateFromVolumeBackup", error="SYS.1002", times=1):
        create(client, session)
    create(client, session)

    entries = control.requests()
    assert [(e.operation, e.status, e.verdict, e.fault) for e in entries] == [
        ("LogInByAccount", 200, "ok", None),
        ("CreateRootVolumeTemplateFromVolumeBackup", 503, "error", "rule:1"),
        ("CreateRootVolumeTemplateFromVolumeBackup", 200, "ok", None),
    ]
    assert entries[1].error_code == "SYS.1002" and entries[1].method == "POST"
    assert [e.status for e in control.requests("CreateRootVolumeTemplateFromVolumeBackup", fault=True)] == [503]
    assert len(control.requests(status=200, session=session)) == 1  # the login had no session yet
    assert control.requests(since=datetime(2999, 1, 1, tzinfo=UTC)) == []
    assert control.assert_called("CreateRootVolumeTemplateFromVolumeBackup", times=2) == 2
    assert control.assert_called("LogInByAccount") == 1
    with pytest.raises(AssertionError, match=r"QueryImage was expected at least once, was called 0"):
        control.assert_called("QueryImage")
    with pytest.raises(AssertionError, match=r"expected 1 time, was called 2[\s\S]*fault=rule:1"):
        control.assert_called("CreateRootVolumeTemplateFromVolumeBackup", times=1)
    assert control.clear_requests() == 3
    assert control.count() == 0


def test_jobs(control: Control, client: httpx.Client) -> None:
    session = login(client)
    control.jobs.settings(hold_new_jobs=True)
    headers = {**auth(session), "Prefer": "respond-async"}
    uuids = [client.post(CREATE_PATH.format(BACKUP_WITH_METADATA), headers=headers,
                         json={"params": {"backupStorageUuid": BS_READY, "name": f"j{n}"}}).json()["location"][-32:]
             for n in range(4)]
    held = control.jobs.list("Running")
    assert {job.uuid for job in held} >= set(uuids) and all(job.held for job in held)

    assert control.jobs.complete(uuids[0]).status == "Succeeded"
    failed = control.jobs.fail(uuids[1], "SYS.1002", "disk full")
    assert failed.status == "Failed" and failed.result is not None
    assert control.jobs.release(uuids[2])[0].held is False
    assert uuids[3] in {job.uuid for job in control.jobs.release()}
    assert control.jobs.get(uuids[0]).api == "CreateRootVolumeTemplateFromVolumeBackup"
    assert control.jobs.settings(hold_new_jobs=False, duration=0) == {"holdNewJobs": False, "duration": "0"}
    with pytest.raises(ControlError) as unknown:
        control.jobs.get("0" * 32)
    assert unknown.value.status == 404


def test_the_clock(control: Control) -> None:
    frozen = control.clock.set("2026-01-01T00:00:00Z", frozen=True)
    assert (frozen.now, frozen.frozen) == (datetime(2026, 1, 1, tzinfo=UTC), True)
    assert control.clock.advance(7200).now == datetime(2026, 1, 1, 2, tzinfo=UTC)
    assert control.clock.get().now == datetime(2026, 1, 1, 2, tzinfo=UTC)
    assert control.clock.set(frozen=False).frozen is False
    assert control.clock.real().real_time is True


def test_the_admin_token_is_carried() -> None:
    with MockServer(admin_token="s3cret") as guarded:
        assert guarded.control.reset().inventory["accounts"] == 3
        with Control(guarded.url) as anonymous, pytest.raises(ControlError) as refused:
            anonymous.reset()
        assert refused.value.status == 401
        with Control(guarded.url, token="s3cret") as remote:
            assert remote.login() != ""


def test_an_error_without_the_json_shape(server: MockServer) -> None:
    """Every /_mock error is JSON; the ZStack API's own 413 is plain text, as a real node's."""
    with Control(server.url) as remote, pytest.raises(ControlError) as failed:
        remote.call("PUT", "/zstack/v1/accounts/login", json="x" * (2 * 1024 * 1024))
    assert failed.value.status == 413 and failed.value.code is None
    assert "413" in str(failed.value)
