"""Paging, sorting, counting and field selection (docs/behaviour.md, "Queries")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers import (
    BACKUP_OF_ALICE,
    BACKUP_WINDOWS,
    BACKUP_WITH_METADATA,
    FakeClock,
    create,
    login,
    use_clock,
)
from tests.query.conftest import oauth
from tests.query.support import (
    ALL_BACKUPS,
    ALL_IMAGES,
    ALL_STORAGES,
    BACKUP_STORAGE,
    IMAGE_CENTOS,
    IMAGE_CLASS,
    IMAGE_OF_ALICE,
    IMAGE_REF_CLASS,
    IMAGE_STORE,
    IMAGE_UBUNTU_ISO,
    IMAGES,
    VOLUME_BACKUPS,
    get_ok,
    uuids,
)

CENTOS, UBUNTU, ALICES = IMAGE_CENTOS, IMAGE_UBUNTU_ISO, IMAGE_OF_ALICE
BY_SIZE = [UBUNTU, CENTOS, ALICES]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"limit": "2"}, [CENTOS, UBUNTU], id="limit"),
        pytest.param({"start": "1"}, [UBUNTU, ALICES], id="start"),
        pytest.param({"limit": "1", "start": "1"}, [UBUNTU], id="limit-and-start"),
        pytest.param({"limit": "5", "start": "2"}, [ALICES], id="limit-past-end"),
        pytest.param({"limit": " 2 "}, [CENTOS, UBUNTU], id="limit-trimmed"),
    ],
)
def test_paging(
    client: TestClient, admin: dict[str, str], params: dict[str, str], expected: list[str]
) -> None:
    assert uuids(client, IMAGES, admin, params) == expected


def test_paging__start_past_the_end_is_empty(client: TestClient, admin: dict[str, str]) -> None:
    assert get_ok(client, IMAGES, admin, {"start": "3"}) == {"inventories": [], "schema": {}}


def test_paging__volume_backups_window(client: TestClient, admin: dict[str, str]) -> None:
    assert uuids(client, VOLUME_BACKUPS, admin, {"limit": "2", "start": "2"}) == ALL_BACKUPS[2:4]


def test_paging__repeated_limit_uses_the_first_value(client: TestClient, admin: dict[str, str]) -> None:
    assert uuids(client, f"{IMAGES}?limit=1&limit=2", admin) == [CENTOS]


def test_default_order_is_create_date_ascending(make_app: Callable[..., FastAPI]) -> None:
    """A row inserted last but dated first sorts first: the order is createDate, not insertion."""
    app = make_app()
    clock = FakeClock(datetime(2023, 6, 1, 0, 0, 0, tzinfo=UTC))
    use_clock(app, clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        session = login(client)
        early = create(client, session, name="early")
        assert early.status_code == 200, early.text
        clock.current = datetime(2030, 1, 1, 0, 0, 0, tzinfo=UTC)
        session = login(client)  # the first session expired in the jump
        late = create(client, session, name="late")
        assert late.status_code == 200, late.text
        expected = [early.json()["inventory"]["uuid"], *ALL_IMAGES, late.json()["inventory"]["uuid"]]
        assert uuids(client, IMAGES, oauth(session)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("sort=-createDate", ALL_IMAGES[::-1], id="desc-create-date"),
        pytest.param("sort=%2BcreateDate", ALL_IMAGES, id="asc-create-date"),
        pytest.param("sort=%2Bsize", BY_SIZE, id="plus-encoded"),
        pytest.param("sort=+size", BY_SIZE, id="plus-unencoded-is-a-space"),
        pytest.param("sort=%20size", BY_SIZE, id="literal-space"),
        pytest.param("sort=size", BY_SIZE, id="bare"),
        pytest.param("sort=-size", BY_SIZE[::-1], id="desc-size"),
        pytest.param("sort=-name", [UBUNTU, CENTOS, ALICES], id="desc-name"),
        pytest.param("sort=name", [ALICES, CENTOS, UBUNTU], id="asc-name"),
    ],
)
def test_sort(client: TestClient, admin: dict[str, str], query: str, expected: list[str]) -> None:
    assert uuids(client, f"{IMAGES}?{query}", admin) == expected


def test_sort__then_page(client: TestClient, admin: dict[str, str]) -> None:
    assert uuids(client, f"{IMAGES}?sort=-size&limit=1&start=1", admin) == [CENTOS]
    assert uuids(client, VOLUME_BACKUPS, admin, {"sort": "-size", "limit": "2"}) == [
        BACKUP_WINDOWS,
        BACKUP_OF_ALICE,
    ]
    assert uuids(client, VOLUME_BACKUPS, admin, {"sort": "-createDate", "limit": "1"}) == [BACKUP_WINDOWS]


@pytest.mark.parametrize(
    ("path", "total"),
    [
        pytest.param(IMAGES, 3, id="images"),
        pytest.param(VOLUME_BACKUPS, 5, id="volume-backups"),
        pytest.param(BACKUP_STORAGE, 3, id="backup-storage"),
        pytest.param(IMAGE_STORE, 3, id="image-store"),
    ],
)
def test_count(client: TestClient, admin: dict[str, str], path: str, total: int) -> None:
    assert get_ok(client, path, admin, {"count": "true"}) == {"total": total, "schema": {}}


def test_count__applies_conditions_not_paging(client: TestClient, admin: dict[str, str]) -> None:
    params = [("count", "true"), ("q", "platform=Linux"), ("q", "architecture=x86_64"), ("limit", "1")]
    assert get_ok(client, IMAGES, admin, params) == {"total": 2, "schema": {}}
    assert get_ok(client, IMAGES, admin, {"count": "True", "start": "3"}) == {"total": 3, "schema": {}}


def test_count__false_is_a_normal_query(client: TestClient, admin: dict[str, str]) -> None:
    body = get_ok(client, IMAGES, admin, {"count": "false"})
    assert [inv["uuid"] for inv in body["inventories"]] == ALL_IMAGES
    assert "total" not in body


def test_reply_with_count(client: TestClient, admin: dict[str, str]) -> None:
    body = get_ok(client, IMAGES, admin, {"replyWithCount": "true", "limit": "1", "start": "1"})
    assert [inv["uuid"] for inv in body["inventories"]] == [UBUNTU]
    assert body["total"] == 3
    assert list(body) == ["schema", "total", "inventories"]  # a java.util.HashMap's order


def test_reply_with_count__counts_matches_only(client: TestClient, admin: dict[str, str]) -> None:
    body = get_ok(client, VOLUME_BACKUPS, admin, {"replyWithCount": "true", "q": "mode=full", "limit": "1"})
    assert [inv["uuid"] for inv in body["inventories"]] == [BACKUP_WITH_METADATA]
    assert body["total"] == 4


def test_reply_with_count__false_adds_nothing(client: TestClient, admin: dict[str, str]) -> None:
    assert "total" not in get_ok(client, IMAGES, admin, {"replyWithCount": "false"})


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param(IMAGES, ALL_IMAGES, id="images"),
        pytest.param(VOLUME_BACKUPS, ALL_BACKUPS, id="volume-backups"),
        pytest.param(BACKUP_STORAGE, ALL_STORAGES, id="backup-storage"),
    ],
)
def test_fields(client: TestClient, admin: dict[str, str], path: str, expected: list[str]) -> None:
    inventories = get_ok(client, path, admin, {"fields": "uuid,name"})["inventories"]
    assert [set(inv) for inv in inventories] == [{"uuid", "name"}] * len(expected)
    assert [inv["uuid"] for inv in inventories] == expected


def test_fields__trimmed_and_nested_list(client: TestClient, admin: dict[str, str]) -> None:
    body = get_ok(client, IMAGES, admin, {"fields": " uuid , backupStorageRefs ", "limit": "1"})
    [image] = body["inventories"]
    assert set(image) == {"uuid", "backupStorageRefs"}
    assert len(image["backupStorageRefs"]) == 1
    assert body["schema"] == {
        "inventories[0].backupStorageRefs[0]": IMAGE_REF_CLASS,
        "inventories[0]": IMAGE_CLASS,
    }


def test_fields__schema_without_children(client: TestClient, admin: dict[str, str]) -> None:
    body = get_ok(client, IMAGES, admin, {"fields": "uuid", "q": f"uuid={CENTOS}"})
    assert body == {"inventories": [{"uuid": CENTOS}], "schema": {"inventories[0]": IMAGE_CLASS}}
