"""QueryTag, CreateTag and DeleteTag (what a create's tagUuids name), and DeleteVolumeBackup's effect on creates."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import (
    BACKUP_OF_ALICE,
    BACKUP_WITH_METADATA,
    BOB_UUID,
    BS_DISCONNECTED,
    BS_READY,
    TAG_GOLDEN,
    TAG_OF_ALICE,
    TAG_PRODUCTION,
    assert_zstack_error,
    auth,
    create,
    login,
)
from tests.lifecycle.support import IMAGES, ok

TAGS = "/zstack/v1/tags"
BACKUPS = "/zstack/v1/volume-backups"


def tags(client: TestClient, session: str, *conditions: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(client.get(TAGS, params={"q": list(conditions)}, headers=auth(session)))[
        "inventories"
    ]
    return found


def new_tag(client: TestClient, session: str, **params: Any) -> dict[str, Any]:
    inventory: dict[str, Any] = ok(client.post(TAGS, json={"params": {"name": "team", "value": "team", **params}},
                                               headers=auth(session)))["inventory"]
    return inventory


def test_tags_are_queried_like_any_inventory_and_each_account_sees_its_own(client: TestClient) -> None:
    admin = login(client)
    assert [tag["uuid"] for tag in tags(client, admin)] == [TAG_PRODUCTION, TAG_GOLDEN, TAG_OF_ALICE]
    assert [tag["name"] for tag in tags(client, admin, "color=#f1c40f")] == ["golden-image"]
    assert list(tags(client, admin)[0]) == ["uuid", "name", "value", "color", "type", "createDate", "lastOpDate"]
    assert ok(client.get(TAGS, params={"count": "true"}, headers=auth(admin)))["total"] == 3
    assert [tag["uuid"] for tag in tags(client, login(client, "alice"))] == [TAG_OF_ALICE]
    assert_zstack_error(client.get(TAGS, params={"q": "colour=red"}, headers=auth(admin)), "SYS.1000")


def test_a_created_tag_goes_in_a_create_and_a_deleted_one_no_longer_does(client: TestClient) -> None:
    session = login(client)
    tag = new_tag(client, session, color="#2D6DE6", description="the team's")
    assert (tag["type"], tag["color"], tag["description"]) == ("simple", "#2D6DE6", "the team's")
    assert tags(client, session, f"uuid={tag['uuid']}") == [tag]
    image = ok(create(client, session, tagUuids=[tag["uuid"]]))["inventory"]
    tagged = ok(client.get(IMAGES, params={"q": f"__tagUuid__={tag['uuid']}"}, headers=auth(session)))
    assert [i["uuid"] for i in tagged["inventories"]] == [image["uuid"]]

    assert ok(client.delete(f"{TAGS}/{tag['uuid']}", headers=auth(session))) == {}
    assert tags(client, session, f"uuid={tag['uuid']}") == []
    untagged = ok(client.get(IMAGES, params={"q": f"__tagUuid__={tag['uuid']}"}, headers=auth(session)))
    assert untagged["inventories"] == []
    assert_zstack_error(create(client, session, tagUuids=[tag["uuid"]]), "SYS.1003",
                        f"invalid field[tagUuids], resource[uuids:[{tag['uuid']}], type:TagPatternVO] not found")
    assert ok(client.delete(f"{TAGS}/{tag['uuid']}", headers=auth(session))) == {}


def test_create_tag_checks_its_parameters_and_resource_uuid(client: TestClient) -> None:
    session = login(client)
    missing = client.post(TAGS, json={"params": {"name": "no value"}}, headers=auth(session))
    assert_zstack_error(missing, "SYS.1007", "field[value] of message[org.zstack.header.message."
                                             "ApiMessageParamValidator] is mandatory, can not be null")
    wrong_type = client.post(TAGS, json={"params": {"name": "n", "value": "v", "type": "fancy"}}, headers=auth(session))
    assert_zstack_error(wrong_type, "SYS.1007")
    taken = client.post(TAGS, json={"params": {"name": "n", "value": "v", "resourceUuid": TAG_GOLDEN}},
                        headers=auth(session))
    assert_zstack_error(taken, "SYS.1000")
    chosen = "5d94103e19254d8696c0f05489c259ab"
    assert new_tag(client, session, resourceUuid=chosen)["uuid"] == chosen


def test_another_accounts_tag_cannot_be_deleted(client: TestClient) -> None:
    bob = login(client, "bob")
    assert_zstack_error(client.delete(f"{TAGS}/{TAG_OF_ALICE}", headers=auth(bob)), "ID.1002",
                        f"permission denied. The tag pattern[uuid: {TAG_OF_ALICE}] refer to a resource not "
                        f"belonging to the account[uuid: {BOB_UUID}]")
    assert [tag["uuid"] for tag in tags(client, login(client, "alice"))] == [TAG_OF_ALICE]


def test_a_deleted_backup_cannot_be_made_into_an_image(client: TestClient) -> None:
    session = login(client)
    assert ok(client.delete(f"{BACKUPS}/{BACKUP_WITH_METADATA}", headers=auth(session))) == {}
    assert ok(client.get(f"{BACKUPS}/{BACKUP_WITH_METADATA}", headers=auth(session)))["inventories"] == []
    assert_zstack_error(
        create(client, session), "SYS.1003",
        f"invalid field[backupUuid], resource[uuid:{BACKUP_WITH_METADATA}, type:VolumeBackupVO] not found",
    )
    assert ok(client.delete(f"{BACKUPS}/{BACKUP_WITH_METADATA}", headers=auth(session))) == {}


def test_a_backup_deleted_from_one_storage_is_still_on_the_other(client: TestClient) -> None:
    session = login(client)
    deleted = client.delete(f"{BACKUPS}/{BACKUP_WITH_METADATA}", params={"backupStorageUuids": [BS_READY]},
                            headers=auth(session))
    assert ok(deleted) == {}
    backup = ok(client.get(f"{BACKUPS}/{BACKUP_WITH_METADATA}", headers=auth(session)))["inventories"][0]
    assert [ref["backupStorageUuid"] for ref in backup["backupStorageRefs"]] == [BS_DISCONNECTED]
    assert_zstack_error(create(client, session), "SYS.1006",
                        f"Volume backup[uuid:{BACKUP_WITH_METADATA}] not found on backup storage[uuid:{BS_READY}]")


def test_another_accounts_backup_cannot_be_deleted(client: TestClient) -> None:
    bob = login(client, "bob")
    assert_zstack_error(client.delete(f"{BACKUPS}/{BACKUP_OF_ALICE}", headers=auth(bob)), "ID.1002")
    alice = login(client, "alice")
    assert ok(client.get(f"{BACKUPS}/{BACKUP_OF_ALICE}", headers=auth(alice)))["inventories"]
