"""The inventory lives in the database file: it survives a real server restart."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.conftest import LiveServer
from tests.helpers import BACKUP_WITH_METADATA, BS_READY, CREATE_PATH, auth, login

IMAGE_UUID = "6a1e3c5b7d9f4a2c8e0b1d3f5a7c9e1b"


def test_sessions_and_images_survive_a_server_restart(live_server: Callable[..., LiveServer]) -> None:
    body = {"params": {"backupStorageUuid": BS_READY, "name": "kept", "resourceUuid": IMAGE_UUID}}
    first = live_server()
    with httpx.Client(base_url=first.url) as client:
        session = login(client)
        created = client.post(CREATE_PATH.format(BACKUP_WITH_METADATA), json=body, headers=auth(session))
        assert created.status_code == 200
    first.stop()

    second = live_server()
    with httpx.Client(base_url=second.url) as client:
        assert client.get(f"/zstack/v1/accounts/sessions/{session}/valid").json() == {"valid": True}
        again = client.post(CREATE_PATH.format(BACKUP_WITH_METADATA), json=body, headers=auth(session))
        assert again.status_code == 503
        assert again.json()["error"]["code"] == "SYS.1000"
        assert IMAGE_UUID in again.json()["error"]["details"]
