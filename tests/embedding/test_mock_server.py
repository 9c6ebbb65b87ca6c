"""MockServer: the real server in a thread of the test process, on a free port."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.embedded import MockServer, MockServerError
from tests.helpers import auth, login


def test_it_serves_on_a_free_port_until_stopped() -> None:
    server = MockServer()
    with pytest.raises(MockServerError, match="not started"):
        _ = server.url
    assert server.start() is server and server.start() is server  # idempotent
    url = server.url
    assert url == f"http://127.0.0.1:{server.port}" and server.port > 0
    assert httpx.get(f"{url}/_mock/health").json()["status"] == "ok"
    server.stop()
    assert not server.running
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/_mock/health")
    server.stop()  # stopping twice is harmless
    with server:  # and it starts again
        assert server.control.health().accounts == 3


def test_as_a_context_manager_with_settings(tmp_path: Path) -> None:
    database = tmp_path / "kept.db"
    with MockServer(database_url=f"sqlite:///{database}", api_mode="async") as server:
        with httpx.Client(base_url=server.url) as client:
            session = login(client)
        answer = httpx.post(
            f"{server.url}/zstack/v1/images/root-volume-templates/from/volume-template/b67eee0a52b04816906cdf207adb00c0",
            json={"params": {"backupStorageUuid": "4ed18086e5593b86932436d02f575213", "name": "t"}},
            headers=auth(session),
        )
        assert answer.status_code == 202
    assert database.exists()


def test_two_servers_have_separate_state() -> None:
    with MockServer() as first, MockServer() as second:
        assert first.port != second.port
        first.control.add_account("carol", "carol-password")
        assert (first.control.health().accounts, second.control.health().accounts) == (4, 3)


def test_a_bad_fixtures_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("accounts: [ {name: x\n")
    with pytest.raises(MockServerError, match=r"cannot start: .*broken.yaml: not valid YAML"):
        MockServer(fixtures=broken).start()
    with pytest.raises(MockServerError, match=r"cannot start: .*missing.yaml"):
        MockServer(fixtures=tmp_path / "missing.yaml").start()


def test_invalid_settings_and_a_taken_port_are_clear_errors() -> None:
    with pytest.raises(MockServerError, match=r"invalid settings: .*api_mode"):
        MockServer(api_mode="sometimes").start()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(MockServerError, match=rf"cannot listen on 127.0.0.1:{taken.getsockname()[1]}"):
            MockServer(port=taken.getsockname()[1]).start()


def test_the_in_process_app_shares_the_servers_state() -> None:
    with MockServer() as server:
        server.control.add_account("carol", "carol-password")
        in_process = TestClient(server.app)  # not entered: the app's lifespan is the socket server's
        session = login(in_process, "carol", "carol-password")
        assert server.control.requests()[0].session is None
        assert server.control.assert_called("LogInByAccount", times=1)

        async def asgi_health() -> int:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://mock") as client:
                return (await client.get("/zstack/v1/accounts/sessions/" + session + "/valid", headers=auth(session))).status_code

        assert asyncio.run(asgi_health()) == 200


def test_in_process_a_wire_fault_raises_into_the_callers_transport() -> None:
    with MockServer() as server:
        server.control.fault(operation="LogInByAccount", wire="reset")
        with pytest.raises(ConnectionResetError):
            login(TestClient(server.app))
        with httpx.Client(base_url=server.url) as client, pytest.raises(httpx.TransportError):
            login(client)  # over the socket: the connection is reset
