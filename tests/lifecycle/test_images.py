"""The image's life after the create, over REST, as a real node answers it (ImageBase under the Delay policy)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from tests.helpers import (
    BS_DISCONNECTED,
    BS_READY,
    TAG_PRODUCTION,
    assert_plain_text,
    assert_zstack_error,
    auth,
    create,
    login,
)
from tests.lifecycle.support import ALICE_IMAGE, IMAGES, act, delete, ok, queried

UNKNOWN = "0123456789ab4def8123456789abcdef"


@pytest.fixture
def session(client: TestClient) -> str:
    return login(client)


@pytest.fixture
def image(client: TestClient, session: str) -> str:
    uuid: str = ok(create(client, session, tagUuids=[TAG_PRODUCTION]))["inventory"]["uuid"]
    return uuid


def test_update_change_delete_recover_expunge_as_a_query_shows_each_step(
    client: TestClient, session: str, image: str
) -> None:
    renamed = ok(act(client, session, image, "updateImage", {"name": "renamed", "platform": "Windows"}))["inventory"]
    assert (renamed["name"], renamed["platform"]) == ("renamed", "Windows")
    assert queried(client, session, image) == renamed

    disabled = ok(act(client, session, image, "changeImageState", {"stateEvent": "disable"}))["inventory"]
    assert disabled["state"] == "Disabled" and queried(client, session, image) == disabled

    assert ok(delete(client, session, image)) == {}
    deleted = queried(client, session, image)
    assert deleted is not None and deleted["status"] == "Deleted"
    assert [ref["status"] for ref in deleted["backupStorageRefs"]] == ["Deleted"]

    recovered = ok(act(client, session, image, "recoverImage"))["inventory"]
    assert (recovered["status"], recovered["state"], recovered["name"]) == ("Ready", "Disabled", "renamed")
    assert [ref["status"] for ref in recovered["backupStorageRefs"]] == ["Ready"]

    ok(delete(client, session, image, deleteMode="Enforcing"))
    assert ok(act(client, session, image, "expungeImage")) == {}
    assert queried(client, session, image) is None
    tagged = client.get(IMAGES, params={"q": f"__tagUuid__={TAG_PRODUCTION}"}, headers=auth(session)).json()
    assert image not in [i["uuid"] for i in tagged["inventories"]]


def test_deleting_twice_or_deleting_what_is_gone_succeeds(client: TestClient, session: str, image: str) -> None:
    ok(delete(client, session, image))
    assert ok(delete(client, session, image)) == {}
    ok(act(client, session, image, "expungeImage"))
    assert ok(delete(client, session, image)) == {}
    assert ok(delete(client, session, UNKNOWN)) == {}


def test_an_update_keeps_the_fields_not_given(client: TestClient, session: str, image: str) -> None:
    before = queried(client, session, image)
    after = ok(act(client, session, image, "updateImage", {"description": "new words"}))["inventory"]
    assert before is not None
    assert {k: v for k, v in after.items() if k not in ("description", "lastOpDate")} == {
        k: v for k, v in before.items() if k not in ("description", "lastOpDate")
    }


def test_recovering_or_expunging_an_image_that_is_not_deleted_fails(
    client: TestClient, session: str, image: str
) -> None:
    not_deleted = f"the image[uuid:{image}, name:template] is not deleted on any backup storage"
    assert_zstack_error(act(client, session, image, "recoverImage"), "SYS.1006", not_deleted)
    assert_zstack_error(act(client, session, image, "expungeImage"), "SYS.1006", not_deleted)
    assert_zstack_error(
        act(client, session, image, "expungeImage", {"backupStorageUuids": [BS_DISCONNECTED]}), "SYS.1007",
        f"the image[uuid:{image}, name:template] is not on the backup storage[uuid:{BS_DISCONNECTED}]",
    )
    assert_zstack_error(
        act(client, session, image, "recoverImage", {"backupStorageUuids": [BS_READY]}), "SYS.1007",
        f"the image[uuid:{image}, name:template]'s status[Ready] is not Deleted on the backup "
        f"storage[uuid:{BS_READY}]",
    )


def test_an_expunged_or_unknown_image_is_not_found(client: TestClient, session: str, image: str) -> None:
    ok(delete(client, session, image))
    ok(act(client, session, image, "expungeImage"))
    for action, field in (("recoverImage", "imageUuid"), ("expungeImage", "imageUuid"),
                          ("updateImage", "uuid"), ("changeImageState", "uuid")):
        params = {"stateEvent": "enable"} if action == "changeImageState" else {}
        assert_zstack_error(act(client, session, image, action, params), "SYS.1003",
                            f"invalid field[{field}], resource[uuid:{image}, type:ImageVO] not found")
    assert_zstack_error(delete(client, session, "not-a-uuid"), "SYS.1003", "invalid value[not-a-uuid] of field [uuid]")


def test_another_accounts_image_is_denied_and_left_alone(client: TestClient) -> None:
    bob = login(client, "bob")
    for response in (act(client, bob, ALICE_IMAGE, "updateImage", {"name": "mine"}), delete(client, bob, ALICE_IMAGE)):
        error = assert_zstack_error(response, "ID.1002")
        assert error["details"].startswith(f"operation denied. The resource[uuid: {ALICE_IMAGE}, type: ImageVO,")
    alice = login(client, "alice")
    image = queried(client, alice, ALICE_IMAGE)
    assert image is not None and (image["name"], image["status"]) == ("alice-debian-template", "Ready")


@pytest.mark.parametrize(
    ("action", "params", "details"),
    [
        ("changeImageState", {"stateEvent": "off"}, "valid value for field[stateEvent] of message"
         "[org.zstack.header.message.ApiMessageParamValidator] are [enable, disable], but off found"),
        ("changeImageState", {}, "field[stateEvent] of message[org.zstack.header.message.ApiMessageParamValidator] "
         "is mandatory, can not be null"),
        ("updateImage", {"format": "vmdk"}, "valid value for field[format] of message[org.zstack.header.message."
         "ApiMessageParamValidator] are [raw, qcow2, iso], but vmdk found"),
        ("expungeImage", {"backupStorageUuids": []}, "field[backupStorageUuids] must be a nonempty list"),
    ],
)
def test_parameters_are_checked_as_the_validator_does(
    client: TestClient, session: str, image: str, action: str, params: dict[str, object], details: str
) -> None:
    assert_zstack_error(act(client, session, image, action, params), "SYS.1007", details)


def test_a_body_that_names_no_action_of_the_path_is_a_plain_400(client: TestClient, session: str, image: str) -> None:
    assert_plain_text(act(client, session, image, "syncImageSize"), 400,
                      f"the body doesn't contain action mapping to the URL[/v1/images/{image}/actions]")


def test_an_unknown_delete_mode_fails_in_the_handler(client: TestClient, session: str, image: str) -> None:
    assert_zstack_error(delete(client, session, image, deleteMode="Soft"), "SYS.1000",
                        "java.lang.IllegalArgumentException: No enum constant "
                        "org.zstack.header.message.APIDeleteMessage.DeletionMode.Soft")
    assert queried(client, session, image) is not None


def test_a_delete_from_a_storage_that_does_not_hold_the_image_changes_nothing(
    client: TestClient, session: str, image: str
) -> None:
    ok(delete(client, session, image, backupStorageUuids=[BS_DISCONNECTED]))
    still = queried(client, session, image)
    assert still is not None and still["status"] == "Ready"


def test_a_deleted_image_is_expunged_after_the_expunge_period(client: TestClient, session: str, image: str) -> None:
    """A real node's expunge task removes an image deleted ``image.expungePeriod`` (3 days) ago."""
    client.put("/_mock/clock", json={"now": "2027-01-01T00:00:00Z", "frozen": True})
    ok(delete(client, login(client), image))
    client.put("/_mock/clock", json={"advance": 259_200 - 120})
    time.sleep(1)  # the runner looks at once when the clock moves
    still = queried(client, login(client), image)
    assert still is not None and still["status"] == "Deleted"

    client.put("/_mock/clock", json={"advance": 180})
    deadline = time.monotonic() + 10
    while queried(client, login(client), image) is not None:
        assert time.monotonic() < deadline, "the deleted image was not expunged"
        time.sleep(0.1)
