"""No body, path or header sent to the state control API gets a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import BS_READY

CALLS = [
    ("POST", "/_mock/reset"),
    ("POST", "/_mock/snapshots"),
    ("POST", "/_mock/snapshots/x/restore"),
    ("PUT", "/_mock/clock"),
    ("POST", "/_mock/accounts"),
    ("POST", "/_mock/volume-backups"),
    ("PATCH", f"/_mock/backup-storages/{BS_READY}"),
    ("POST", "/_mock/sessions"),
]
BODIES = [
    b"", b"not json", b"[]", b'"text"', b"3", b"null", b"{", b'{"name": null}', b'{"name": ["a"]}',
    b'{"name": {"$gt": ""}}', b'{"uuid": null, "name": "n", "password": "p"}', b'{"createDate": "yesterday"}',
    b'{"now": 1e400}', b'{"advance": -1e308}', b'{"lifetimeSeconds": 1e308, "account": "bob"}',
    b'{"account": "\\u0000"}', b'{"name": "' + b"x" * 100_000 + b'"}', b'{"backupStorageUuids": [null]}',
    b'{"backupStorageRefs": [{"backupStorageUuid": null}]}', b'{"metadata": "text", "name": "n"}',
    '{"name": "ünïcödé", "password": "p"}'.encode(), b"\xff\xfe",
]


@pytest.mark.parametrize(("method", "path"), CALLS)
def test_odd_bodies_never_fail_the_server(client: TestClient, method: str, path: str) -> None:
    for body in BODIES:
        response = client.request(method, path, content=body)
        assert response.status_code < 500, (body[:60], response.text)


@pytest.mark.parametrize("name", ["%00", "..%2F..", "x" * 5000, "ü", "%ff"])
def test_odd_snapshot_names_in_paths_are_not_found(client: TestClient, name: str) -> None:
    for method, path in (("GET", "/_mock/snapshots/{}"), ("POST", "/_mock/snapshots/{}/restore"),
                         ("DELETE", "/_mock/snapshots/{}")):
        assert client.request(method, path.format(name)).status_code in (404, 405)


def test_odd_storage_uuids_in_paths_are_not_found(client: TestClient) -> None:
    for uuid in ("%00", "x" * 5000, "' OR 1=1 --"):
        assert client.patch(f"/_mock/backup-storages/{uuid}", json={"state": "Disabled"}).status_code == 404
