"""--seed N and a frozen clock: the same requests give byte-identical answers from fresh servers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import LiveServer
from tests.helpers import BACKUP_WITH_METADATA, BS_READY, CREATE_PATH, LOGIN_PATH, Client, auth, sha512
from tests.state.support import fresh_server

RPC_CREATE = "org.zstack.header.storage.volume.backup.APICreateRootVolumeTemplateFromVolumeBackupMsg"


def _conversation(client: Client) -> list[tuple[int, str, bytes]]:
    """Log in, create, query, an async create polled before and after its time, the same over RPC."""
    answers = []

    def keep(response: Any) -> Any:
        answers.append((response.status_code, response.headers["content-type"], response.content))
        return response

    keep(client.put("/_mock/clock", json={"now": "2026-01-01T00:00:00Z", "frozen": True}))
    login = keep(client.put(LOGIN_PATH, json={"logInByAccount": {"accountName": "admin", "password": sha512("password")}}))
    session = login.json()["inventory"]["uuid"]
    body = {"params": {"backupStorageUuid": BS_READY, "name": "template"}}
    keep(client.post(CREATE_PATH.format(BACKUP_WITH_METADATA), json=body, headers=auth(session)))
    keep(client.get("/zstack/v1/images?sort=-createDate&replyWithCount=true", headers=auth(session)))
    accepted = keep(client.post(CREATE_PATH.format(BACKUP_WITH_METADATA), json=body,
                                headers={**auth(session), "Prefer": "respond-async"}))
    location = urlsplit(accepted.json()["location"]).path  # the location names the public URL
    keep(client.get(location))
    rpc = keep(client.post("/zstack/api", json={RPC_CREATE: {
        "backupUuid": BACKUP_WITH_METADATA, "backupStorageUuid": BS_READY, "name": "rpc", "session": {"uuid": session}}}))
    keep(client.get("/_mock/jobs"))
    keep(client.put("/_mock/clock", json={"advance": 1}))
    keep(client.get(location))
    keep(client.get(f"/zstack/api/result/{rpc.json()['uuid']}"))
    keep(client.get("/zstack/v1/images?sort=-createDate", headers=auth(session)))
    keep(client.post("/_mock/sessions", json={"account": "alice"}))
    return answers


def test_two_fresh_servers_with_one_seed_answer_byte_for_byte_alike(new_database: Callable[[], str]) -> None:
    with fresh_server(new_database(), seed=7) as one, fresh_server(new_database(), seed=7) as two:
        first, second = _conversation(one), _conversation(two)
    assert [status for status, _, _ in first] == [200, 200, 200, 200, 202, 202, 200, 200, 200, 200, 200, 200, 201]
    assert first == second


def test_another_seed_gives_other_uuids(new_database: Callable[[], str]) -> None:
    with fresh_server(new_database(), seed=7) as one, fresh_server(new_database(), seed=8) as two:
        first, second = _conversation(one), _conversation(two)
    assert first[1] != second[1]
    assert [status for status, _, _ in first] == [status for status, _, _ in second]


def test_reset_replays_the_conversation(new_database: Callable[[], str]) -> None:
    with fresh_server(new_database(), seed=7) as server:
        first = _conversation(server)
        server.post("/_mock/reset")
        assert _conversation(server) == first


def test_processes_sharing_a_database_and_seed_never_repeat_a_uuid(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(seed=7)) as one, TestClient(make_app(seed=7)) as two:
        sessions = {one.post("/_mock/sessions", json={"account": "bob"}).json()["inventory"]["uuid"] for _ in range(5)}
        sessions |= {two.post("/_mock/sessions", json={"account": "bob"}).json()["inventory"]["uuid"] for _ in range(5)}
    assert len(sessions) == 10


def test_over_real_sockets(new_database: Callable[[], str]) -> None:
    answers = []
    for _ in range(2):
        app = create_app(Settings(database_url=new_database(), seed=7, public_url="http://mock.test"))
        server = LiveServer(app).start()
        try:
            with httpx.Client(base_url=server.url) as client:
                answers.append(_conversation(client))
        finally:
            server.stop()
            app.state.server.store.close()
    assert answers[0] == answers[1]
