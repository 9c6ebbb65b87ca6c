"""The same query asked again answers what the inventory holds now: the server may keep a rendered page,
but never past a change a client could see, nor for another account or an ended session."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import assert_zstack_error, create, login
from tests.query.conftest import oauth
from tests.query.support import ALL_IMAGES, IMAGE_OF_ALICE, IMAGES, uuids

PAGE = {"limit": "50"}


def test_a_page_asked_again_shows_a_create_and_a_restore(client: TestClient) -> None:
    session = login(client)
    assert uuids(client, IMAGES, oauth(session), PAGE) == ALL_IMAGES
    assert client.post("/_mock/snapshots", json={"name": "before"}).status_code == 201

    created = create(client, session, name="new page entry")
    assert created.status_code == 200, created.text
    new = created.json()["inventory"]["uuid"]
    assert uuids(client, IMAGES, oauth(session), PAGE) == [*ALL_IMAGES, new]
    by_name = client.get(IMAGES, headers=oauth(session), params={"q": "name=new page entry"}).json()
    assert [i["uuid"] for i in by_name["inventories"]] == [new]

    assert client.post("/_mock/snapshots/before/restore").status_code == 200
    assert uuids(client, IMAGES, oauth(session), PAGE) == ALL_IMAGES


def test_the_same_page_for_another_account_is_its_own(client: TestClient) -> None:
    admin, alice = oauth(login(client, "admin")), oauth(login(client, "alice"))
    assert uuids(client, IMAGES, admin, PAGE) == ALL_IMAGES
    assert uuids(client, IMAGES, alice, PAGE) == [IMAGE_OF_ALICE]
    assert uuids(client, IMAGES, admin, PAGE) == ALL_IMAGES


def test_a_page_is_not_answered_to_an_ended_session(client: TestClient) -> None:
    session = login(client)
    assert uuids(client, IMAGES, oauth(session), PAGE) == ALL_IMAGES
    assert client.delete(f"/zstack/v1/accounts/sessions/{session}").status_code == 200
    assert_zstack_error(client.get(IMAGES, headers=oauth(session), params=PAGE), "ID.1001")
