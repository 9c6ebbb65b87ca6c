"""Sandbox mode (--sandbox): every session its own tenant, private from every other visitor."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers import (
    BACKUP_WITH_METADATA,
    BS_READY,
    CREATE_PATH,
    assert_zstack_error,
    auth,
    create,
    login,
)
from tests.rpc.support import QUERY_IMAGE, QUERY_IMAGE_REPLY, inventories, rpc_login

RPC_CREATE = "org.zstack.header.storage.volume.backup.APICreateRootVolumeTemplateFromVolumeBackupMsg"
UNSEEN_SESSION = "0123456789abcdef0123456789abcdef"
FIXTURE_IMAGES = {"centos-7-template", "ubuntu-22.04-iso", "alice-debian-template"}


@pytest.fixture
def sandbox(make_app: Callable[..., FastAPI]) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def start(**overrides: Any) -> TestClient:
        overrides.setdefault("sandbox", True)
        client = TestClient(make_app(**overrides), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def image_names(client: TestClient, session: str) -> set[str]:
    response = client.get("/zstack/v1/images", headers=auth(session))
    assert response.status_code == 200, response.text
    return {image["name"] for image in response.json()["inventories"]}


def test_two_logins_are_two_private_clouds(sandbox: Callable[..., TestClient]) -> None:
    client = sandbox()
    first, second = login(client), login(client)
    assert create(client, first, name="first-visitor").status_code == 200
    assert create(client, second, name="second-visitor").status_code == 200

    assert image_names(client, first) == FIXTURE_IMAGES | {"first-visitor"}
    assert image_names(client, second) == FIXTURE_IMAGES | {"second-visitor"}


def test_one_visitor_s_lifecycle_calls_leave_another_s_cloud_alone(sandbox: Callable[..., TestClient]) -> None:
    client = sandbox()
    first, second = login(client), login(client)
    centos = next(i["uuid"] for i in client.get("/zstack/v1/images", headers=auth(first)).json()["inventories"]
                  if i["name"] == "centos-7-template")
    renamed = client.put(f"/zstack/v1/images/{centos}/actions", json={"updateImage": {"name": "mine now"}},
                         headers=auth(first))
    assert renamed.status_code == 200, renamed.text
    assert client.delete(f"/zstack/v1/images/{centos}", headers=auth(first)).status_code == 200
    assert client.put(f"/zstack/v1/images/{centos}/actions", json={"expungeImage": {}},
                      headers=auth(first)).status_code == 200
    tag = client.post("/zstack/v1/tags", json={"params": {"name": "first's", "value": "x", "color": "#ff0000"}},
                      headers=auth(first))
    assert tag.status_code == 200, tag.text

    assert image_names(client, first) == FIXTURE_IMAGES - {"centos-7-template"}
    assert image_names(client, second) == FIXTURE_IMAGES
    second_tags = client.get("/zstack/v1/tags", headers=auth(second)).json()["inventories"]
    assert "first's" not in {t["name"] for t in second_tags}


def test_locally_an_unseen_session_gets_a_fresh_copy_of_the_fixtures_as_admin(
    sandbox: Callable[..., TestClient],
) -> None:
    """The local profile's convenience; the public one answers ID.1001 (tests/hostile/test_tenancy.py)."""
    client = sandbox(public_profile=False)
    assert image_names(client, UNSEEN_SESSION) == FIXTURE_IMAGES  # admin sees alice's image too
    assert create(client, UNSEEN_SESSION, name="pasted-session").status_code == 200
    assert image_names(client, UNSEEN_SESSION) == FIXTURE_IMAGES | {"pasted-session"}
    valid = client.get(f"/zstack/v1/accounts/sessions/{UNSEEN_SESSION}/valid")
    assert valid.json() == {"valid": True}


def test_a_malformed_session_is_refused_as_zstack_refuses_it(sandbox: Callable[..., TestClient]) -> None:
    client = sandbox()
    response = client.get("/zstack/v1/images", headers=auth("not-a-session"))
    assert_zstack_error(response, "ID.1001")
    assert client.get("/_mock/sandbox").json()["tenants"] == 0


def test_a_tenant_s_job_is_polled_without_a_session(sandbox: Callable[..., TestClient]) -> None:
    client = sandbox(job_duration="0")
    first, second = login(client), login(client)
    accepted = client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA),
        json={"params": {"backupStorageUuid": BS_READY, "name": "async-one"}},
        headers={**auth(first), "Prefer": "respond-async"},
    )
    assert accepted.status_code == 202, accepted.text
    location = accepted.json()["location"].removeprefix("http://testserver")
    deadline = time.monotonic() + 5
    while (polled := client.get(location)).status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert polled.status_code == 200, polled.text
    assert polled.json()["inventory"]["name"] == "async-one"
    assert "async-one" in image_names(client, first)
    assert "async-one" not in image_names(client, second)
    unknown = client.get("/zstack/v1/api-jobs/ffffffffffffffffffffffffffffffff")
    assert unknown.status_code == 404


def test_a_job_uuid_another_visitor_chose_is_a_duplicate_not_a_shared_job(sandbox: Callable[..., TestClient]) -> None:
    """Job UUIDs are unique across the sandbox, as on one real node: a poll names only the job, so a
    second visitor's job under the first one's UUID would be answered from the first one's cloud."""
    client = sandbox()
    first, second = login(client), login(client)
    chosen = "0f1e2d3c4b5a49687766554433221100"

    def create(session: str, name: str) -> Any:
        return client.post(
            CREATE_PATH.format(BACKUP_WITH_METADATA),
            json={"params": {"backupStorageUuid": BS_READY, "name": name}},
            headers={**auth(session), "X-Job-UUID": chosen},
        )

    assert create(first, "first's").status_code == 202
    refused = create(second, "second's")
    assert refused.status_code == 400
    assert refused.text == f"Duplicate job uuid[{chosen}]"
    assert "second's" not in image_names(client, second)
    job = client.get(f"/_mock/jobs/{chosen}", headers={"X-Mock-Session": first}).json()
    assert job["accountUuid"] is not None and job["resourceUuid"] is not None
    assert client.get(f"/_mock/jobs/{chosen}", headers={"X-Mock-Session": second}).status_code == 404


def test_an_rpc_message_id_another_visitor_chose_is_refused(sandbox: Callable[..., TestClient]) -> None:
    """The same holds for the ``id`` an asynchronous RPC message names its result with."""
    client = sandbox()
    first, second = rpc_login(client), rpc_login(client)
    chosen = "1f1e2d3c4b5a49687766554433221100"

    def create(session: str, name: str) -> Any:
        message = {"backupUuid": BACKUP_WITH_METADATA, "backupStorageUuid": BS_READY, "name": name,
                   "session": {"uuid": session}, "id": chosen}
        return client.post("/zstack/api", json={RPC_CREATE: message})

    accepted = create(first, "first's")
    assert accepted.status_code == 200 and accepted.json()["uuid"] == chosen
    refused = create(second, "second's")
    assert refused.status_code == 500
    assert "already kept under the message" in refused.text
    assert client.get(f"/_mock/jobs/{chosen}", headers={"X-Mock-Session": first}).status_code == 200
    assert client.get(f"/_mock/jobs/{chosen}", headers={"X-Mock-Session": second}).status_code == 404


def test_faults_and_journal_are_per_tenant(sandbox: Callable[..., TestClient]) -> None:
    client = sandbox()
    first, second = login(client), login(client)
    rule = {"match": {"operation": "CreateRootVolumeTemplateFromVolumeBackup"}, "error": {"code": "SYS.1006"}}
    added = client.post("/_mock/faults", json=rule, headers={"X-Mock-Session": first})
    assert added.status_code in (200, 201), added.text

    assert_zstack_error(create(client, first, name="struck"), "SYS.1006")
    assert create(client, second, name="untouched").status_code == 200
    assert client.get("/_mock/faults", headers={"X-Mock-Session": second}).json()["rules"] == []

    first_log = client.get("/_mock/requests", headers={"X-Mock-Session": first}).json()["requests"]
    second_log = client.get("/_mock/requests", headers={"X-Mock-Session": second}).json()["requests"]
    assert [e["operation"] for e in reversed(first_log)] == ["LogInByAccount", "CreateRootVolumeTemplateFromVolumeBackup"]
    assert first_log[0]["fault"] == f"rule:{added.json()['id']}"
    assert [e["operation"] for e in reversed(second_log)] == ["LogInByAccount", "CreateRootVolumeTemplateFromVolumeBackup"]
    assert all(entry["fault"] is None for entry in second_log), second_log
    # The server's own journal saw nobody: every request here belonged to a tenant.
    assert client.get("/_mock/requests").json()["requests"] == []


def test_control_calls_name_an_existing_tenant(sandbox: Callable[..., TestClient]) -> None:
    client = sandbox()
    response = client.get("/_mock/faults", headers={"X-Mock-Session": UNSEEN_SESSION})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "SYS.1003"
    assert UNSEEN_SESSION in response.json()["error"]["details"]


def test_a_tenant_reset_restores_only_that_tenant(sandbox: Callable[..., TestClient]) -> None:
    client = sandbox()
    first, second = login(client), login(client)
    create(client, first, name="first-image")
    create(client, second, name="second-image")
    reset = client.post("/_mock/reset", headers={"X-Mock-Session": first})
    assert reset.status_code == 200, reset.text
    assert "second-image" in image_names(client, second)
    # The visitor's own session is its key to the tenant: it stays, over the tenant's fixtures.
    assert image_names(client, first) == FIXTURE_IMAGES
    assert reset.json()["inventory"]["sessions"] == 1


def test_a_tenant_reset_drops_the_tenants_other_sessions(sandbox: Callable[..., TestClient]) -> None:
    client = sandbox(public_profile=False)
    visitor = login(client)
    mine = {"X-Mock-Session": visitor}
    other = client.post("/_mock/sessions", json={"account": "alice"}, headers=mine).json()["inventory"]["uuid"]
    assert client.get("/zstack/v1/images", headers=auth(other)).status_code == 200
    assert client.post("/_mock/reset", headers=mine).json()["cleared"]["sessions"] == 1
    assert_zstack_error(client.get("/zstack/v1/images", headers=auth(other)), "ID.1001")
    assert image_names(client, visitor) == FIXTURE_IMAGES


def test_a_reset_through_a_session_of_an_account_the_fixtures_lack_drops_it(
    sandbox: Callable[..., TestClient],
) -> None:
    client = sandbox(public_profile=False)
    visitor = {"X-Mock-Session": login(client)}
    added = client.post("/_mock/accounts", json={"name": "carol", "password": "carol-password"}, headers=visitor)
    assert added.status_code == 201, added.text
    carol = client.post("/_mock/sessions", json={"account": "carol"}, headers=visitor).json()["inventory"]["uuid"]
    assert client.post("/_mock/reset", headers={"X-Mock-Session": carol}).status_code == 200
    assert_zstack_error(client.get("/zstack/v1/images", headers=auth(carol)), "ID.1001")  # carol is gone


def test_locally_the_least_recently_used_tenant_goes_beyond_the_cap(sandbox: Callable[..., TestClient]) -> None:
    """The local profile evicts whatever is least recently used; the public one only idle tenants
    (tests/hostile/test_tenancy.py)."""
    client = sandbox(sandbox_max_tenants=2, public_profile=False)
    oldest = login(client)
    create(client, oldest, name="oldest-image")
    time.sleep(0.01)
    newer = login(client)
    create(client, newer, name="newer-image")
    time.sleep(0.01)
    login(client)  # the third: the oldest goes

    status = client.get("/_mock/sandbox").json()
    assert status["tenants"] == 2
    assert status["evictedByThisProcess"] == 1
    assert "newer-image" in image_names(client, newer)
    # The evicted visitor's session is unseen again: a fresh tenant, without the image (and the cap holds).
    assert image_names(client, oldest) == FIXTURE_IMAGES
    assert client.get("/_mock/sandbox").json()["tenants"] == 2


def test_an_idle_tenant_expires_and_its_session_with_it(sandbox: Callable[..., TestClient]) -> None:
    # Idle after 3 s: long enough that the new visitor's own tenant outlives the checks on a busy machine.
    client = sandbox(sandbox_idle=3)
    idle = login(client)
    create(client, idle, name="forgotten")
    time.sleep(3.3)
    login(client)  # any new visitor runs the sweep
    assert client.get("/_mock/sandbox").json()["tenants"] == 1
    assert_zstack_error(client.get("/zstack/v1/images", headers=auth(idle)), "ID.1001")
    assert client.get("/_mock/sandbox").json()["tenants"] == 1


def test_a_visitor_over_the_rate_gets_a_zstack_error_and_others_do_not(sandbox: Callable[..., TestClient]) -> None:
    client = sandbox(sandbox_rate_limit=5)
    greedy, polite = login(client), login(client)  # each login is its tenant's first request
    statuses = [client.get("/zstack/v1/images", headers=auth(greedy)).status_code for _ in range(4)]
    assert statuses == [200] * 4  # the bucket's five, the login's included
    # Faster than five a second the bucket runs dry: however slow the machine, a request soon finds it empty.
    for _ in range(200):
        refused = client.get("/zstack/v1/images", headers=auth(greedy))
        if refused.status_code != 200:
            break
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "SYS.1006" and error["description"] == "An operation failed"
    assert "5 requests per second" in error["details"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert client.get("/zstack/v1/images", headers=auth(polite)).status_code == 200
    time.sleep(0.5)  # the bucket refills at 5 per second
    assert client.get("/zstack/v1/images", headers=auth(greedy)).status_code == 200


def test_rpc_logins_and_queries_are_tenants_too(sandbox: Callable[..., TestClient]) -> None:
    client = sandbox()
    rpc_session, rest_session = rpc_login(client), login(client)
    create(client, rest_session, name="rest-only")
    create(client, rpc_session, name="rpc-visitor")
    names = {i["name"] for i in inventories(client, QUERY_IMAGE, QUERY_IMAGE_REPLY, rpc_session)}
    assert names == FIXTURE_IMAGES | {"rpc-visitor"}


def test_tenants_live_in_the_database_every_worker_shares(make_app: Callable[..., FastAPI]) -> None:
    """Two apps over one database, as two worker processes: a login through one is served by the other."""
    with TestClient(make_app(sandbox=True)) as one, TestClient(make_app(sandbox=True)) as other:
        session = login(one)
        create(one, session, name="made-through-one")
        assert "made-through-one" in image_names(other, session)
        assert other.get("/_mock/sandbox").json()["tenants"] == 1


def test_tenants_survive_a_restart_and_go_with_reset(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(sandbox=True)) as before:
        session = login(before)
        create(before, session, name="kept")
    with TestClient(make_app(sandbox=True)) as after:
        assert "kept" in image_names(after, session)
    with TestClient(make_app(sandbox=True, reset=True)) as wiped:
        assert wiped.get("/_mock/sandbox").json()["tenants"] == 0
        assert_zstack_error(wiped.get("/zstack/v1/images", headers=auth(session)), "ID.1001")


def test_evicting_every_tenant(sandbox: Callable[..., TestClient]) -> None:
    client = sandbox()
    session = login(client)
    create(client, session, name="gone-soon")
    assert client.delete("/_mock/sandbox").json() == {"evicted": 1}
    assert_zstack_error(client.get("/zstack/v1/images", headers=auth(session)), "ID.1001")
    assert client.get("/_mock/sandbox").json()["tenants"] == 0


def test_outside_sandbox_mode_nothing_changes(client: TestClient) -> None:
    first, second = login(client), login(client)
    create(client, first, name="shared")
    assert "shared" in image_names(client, second)
    assert client.get("/_mock/sandbox").json() == {"enabled": False}
    assert client.delete("/_mock/sandbox").status_code == 404
    # The tenant header means nothing here: the server's own rules answer.
    assert client.get("/_mock/faults", headers={"X-Mock-Session": UNSEEN_SESSION}).status_code == 200
    assert_zstack_error(client.get("/zstack/v1/images", headers=auth(UNSEEN_SESSION)), "ID.1001")


def test_a_failed_login_leaves_no_tenant(sandbox: Callable[..., TestClient]) -> None:
    client = sandbox()
    wrong = client.put("/zstack/v1/accounts/login",
                       json={"logInByAccount": {"accountName": "admin", "password": "0" * 128}})
    assert_zstack_error(wrong, "ID.1000")
    garbage = client.put("/zstack/v1/accounts/login", content=b"{", headers={"Content-Type": "application/json"})
    assert garbage.status_code == 400
    assert client.get("/_mock/sandbox").json()["tenants"] == 0
    login(client)
    assert client.get("/_mock/sandbox").json()["tenants"] == 1


def test_an_empty_tenant_header_means_the_server_s_own_instance(sandbox: Callable[..., TestClient]) -> None:
    client = sandbox()
    assert client.get("/_mock/faults", headers={"X-Mock-Session": " "}).status_code == 200


def test_a_tenant_s_job_finishes_after_a_restart(make_app: Callable[..., FastAPI]) -> None:
    """A job accepted just before the server stopped is finished by the next server, once the poll
    opens its tenant there."""
    with TestClient(make_app(sandbox=True, job_duration="0.3")) as before:
        session = login(before)
        accepted = before.post(
            CREATE_PATH.format(BACKUP_WITH_METADATA),
            json={"params": {"backupStorageUuid": BS_READY, "name": "outlives-the-server"}},
            headers={**auth(session), "Prefer": "respond-async"},
        )
        assert accepted.status_code == 202
    location = accepted.json()["location"].removeprefix("http://testserver")
    with TestClient(make_app(sandbox=True)) as after:
        deadline = time.monotonic() + 5
        while (polled := after.get(location)).status_code == 202 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert polled.status_code == 200, polled.text
        assert polled.json()["inventory"]["status"] == "Ready"


def test_with_an_admin_token_a_visitor_still_controls_its_own_tenant(sandbox: Callable[..., TestClient]) -> None:
    client = sandbox(admin_token="s3cret")
    session = login(client)
    mine = {"X-Mock-Session": session}
    assert client.post("/_mock/faults", json={"error": {"code": "SYS.1000"}}, headers=mine).status_code == 201
    assert client.post("/_mock/reset", headers=mine).status_code == 200
    # The server's own instance and the sandbox as a whole still need the token, a session or not.
    assert client.get("/_mock/faults").status_code == 401
    assert client.delete("/_mock/sandbox", headers=mine).status_code == 401
    assert client.get("/_mock/sandbox", headers=mine).status_code == 401
    admin = {"Authorization": "Bearer s3cret"}
    assert client.get("/_mock/sandbox", headers=admin).json()["tenants"] == 1


def test_with_an_in_memory_server_the_tenants_are_in_memory_too() -> None:
    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(database_url="sqlite://", sandbox=True, sandbox_max_tenants=2, public_profile=False))
    with TestClient(app) as client:
        first, second = login(client), login(client)
        create(client, first, name="in-memory")
        assert "in-memory" in image_names(client, first)
        assert "in-memory" not in image_names(client, second)
        login(client)  # beyond the cap: the first goes, from memory and from the registry
        assert client.get("/_mock/sandbox").json()["tenants"] == 2
        assert image_names(client, first) == FIXTURE_IMAGES
