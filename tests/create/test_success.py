from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.helpers import (
    BACKUP_NO_METADATA,
    BACKUP_WITH_METADATA,
    BS_READY,
    CREATE_PATH,
    TAG_GOLDEN,
    TAG_PRODUCTION,
    auth,
    create,
    login,
)

JAVA_DATE = re.compile(r"^\w+ \d{1,2}, \d{4} \d{1,2}:\d{1,2}:\d{1,2} (AM|PM)$")


def test_create_returns_image_inventory_built_from_the_backup(client: TestClient) -> None:
    session = login(client)
    response = create(client, session, BACKUP_WITH_METADATA, name="web template", description="from web-01")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    image = response.json()["inventory"]
    assert image["name"] == "web template"
    assert image["description"] == "from web-01"
    assert (image["mediaType"], image["format"], image["type"]) == ("RootVolumeTemplate", "qcow2", "zstack")
    assert (image["state"], image["status"], image["system"]) == ("Enabled", "Ready", False)
    assert (image["platform"], image["guestOsType"], image["architecture"], image["virtio"]) == (
        "Linux", "CentOS 7", "x86_64", True,
    )
    assert image["size"] == image["actualSize"] == 21474836480
    assert re.fullmatch(r"[0-9a-f]{32}", image["uuid"])
    assert image["url"] == f"zstore://192.0.2.10/{image['uuid']}/4f1f0d8c1a2b4c3d9e8f7a6b5c4d3e2f"
    assert JAVA_DATE.match(image["createDate"]) and JAVA_DATE.match(image["lastOpDate"])
    (ref,) = image["backupStorageRefs"]
    assert ref["imageUuid"] == image["uuid"]
    assert ref["backupStorageUuid"] == BS_READY
    assert ref["installPath"] == f"zstore://{image['uuid']}/4f1f0d8c1a2b4c3d9e8f7a6b5c4d3e2f"
    assert ref["status"] == "Ready"
    assert isinstance(ref["id"], int)


def test_create_without_metadata_falls_back_to_other_and_x86_64(client: TestClient) -> None:
    image = create(client, login(client), BACKUP_NO_METADATA).json()["inventory"]

    assert image["platform"] == "Other"
    assert image["architecture"] == "x86_64"
    assert "guestOsType" not in image
    assert "virtio" not in image
    assert "description" not in image


def test_get_on_the_create_path_reads_the_message_from_the_query_string(client: TestClient) -> None:
    """The path is the create's alone, so RestServer takes any method for it; a GET's message comes from
    the query string, a list field from every value given for it."""
    session = login(client)
    response = client.get(
        CREATE_PATH.format(BACKUP_WITH_METADATA),
        params=[("backupStorageUuid", BS_READY), ("name", "by query"), ("platform", "Windows"),
                ("tagUuids", TAG_PRODUCTION), ("tagUuids", TAG_GOLDEN)],
        headers=auth(session),
    )
    assert response.status_code == 200, response.text
    assert response.json()["inventory"]["name"] == "by query"
    assert response.json()["inventory"]["platform"] == "Windows"
    put = client.put(CREATE_PATH.format(BACKUP_WITH_METADATA), json={"params": {"backupStorageUuid": BS_READY,
                     "name": "by put"}}, headers=auth(session))
    assert put.json()["inventory"]["name"] == "by put"
