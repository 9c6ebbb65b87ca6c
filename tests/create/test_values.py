"""CreateRootVolumeTemplateFromVolumeBackup: the values of the created image (docs/behaviour.md, "Values of the created image")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.zstack.timefmt import java_date
from tests.helpers import (
    BACKUP_NO_METADATA,
    BACKUP_OF_ALICE,
    BACKUP_WINDOWS,
    BACKUP_WITH_METADATA,
    BS_READY,
    FakeClock,
    assert_zstack_error,
    create,
    login,
    use_clock,
)

START = datetime(2025, 1, 15, 10, 0, 0, tzinfo=UTC)

IMAGE_KEYS = {
    "uuid",
    "name",
    "description",
    "state",
    "status",
    "size",
    "actualSize",
    "md5Sum",
    "url",
    "mediaType",
    "guestOsType",
    "type",
    "platform",
    "architecture",
    "format",
    "system",
    "virtio",
    "createDate",
    "lastOpDate",
    "backupStorageRefs",
}
REF_KEYS = {"id", "imageUuid", "backupStorageUuid", "installPath", "status", "createDate", "lastOpDate"}


@pytest.fixture
def clocked(make_app: Callable[..., FastAPI]) -> Iterator[tuple[TestClient, FakeClock]]:
    app = make_app()
    clock = FakeClock(START)
    use_clock(app, clock)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, clock


def inventory(client: TestClient, backup: str = BACKUP_WITH_METADATA, **params: Any) -> dict[str, Any]:
    response = create(client, login(client), backup, **params)
    assert response.status_code == 200, response.text
    image: dict[str, Any] = response.json()["inventory"]
    return image


def null_paths(value: Any, path: str = "") -> list[str]:
    """Every JSON path under ``value`` that holds null."""
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in null_paths(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in null_paths(v, f"{path}[{i}]")]
    return []


def test_create_takes_image_values_from_the_request_over_the_metadata(client: TestClient) -> None:
    image = inventory(
        client, platform="Windows", guestOsType="Windows 10", architecture="aarch64", virtio=False
    )

    assert (image["platform"], image["guestOsType"], image["architecture"], image["virtio"]) == (
        "Windows",
        "Windows 10",
        "aarch64",
        False,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("platform", "Paravirtualization"),
        ("guestOsType", "Rocky 9"),
        ("architecture", "loongarch64"),
        ("virtio", False),
    ],
)
def test_create_overrides_one_metadata_value__others_from_metadata(
    client: TestClient, field: str, value: Any
) -> None:
    image = inventory(client, **{field: value})

    expected = {
        "platform": "Linux",
        "guestOsType": "CentOS 7",
        "architecture": "x86_64",
        "virtio": True,
        field: value,
    }
    assert {k: image[k] for k in expected} == expected


def test_create_without_metadata_takes_values_from_the_request(client: TestClient) -> None:
    image = inventory(
        client,
        BACKUP_NO_METADATA,
        platform="Linux",
        guestOsType="Debian 12",
        architecture="aarch64",
        virtio=True,
    )

    assert (image["platform"], image["guestOsType"], image["architecture"], image["virtio"]) == (
        "Linux",
        "Debian 12",
        "aarch64",
        True,
    )


def test_create_without_metadata_or_request_values_falls_back(client: TestClient) -> None:
    image = inventory(client, BACKUP_NO_METADATA)

    assert (image["platform"], image["architecture"]) == ("Other", "x86_64")
    assert "guestOsType" not in image
    assert "virtio" not in image


def test_create_takes_architecture_from_the_metadata(client: TestClient) -> None:
    image = inventory(client, BACKUP_OF_ALICE)

    assert (image["platform"], image["guestOsType"], image["architecture"], image["virtio"]) == (
        "Linux",
        "Debian 12",
        "aarch64",
        True,
    )


def test_create_from_windows_backup_gives_windows_virtio(client: TestClient) -> None:
    image = inventory(client, BACKUP_WINDOWS)

    assert (image["platform"], image["guestOsType"], image["architecture"], image["virtio"]) == (
        "WindowsVirtio",
        "Windows Server 2019",
        "x86_64",
        True,
    )


@pytest.mark.parametrize(
    ("params", "expected"), [({"system": True}, True), ({"system": False}, False), ({}, False)]
)
def test_create_sets_system_from_the_request(
    client: TestClient, params: dict[str, Any], expected: bool
) -> None:
    assert inventory(client, **params)["system"] is expected


def test_create_takes_size_from_the_backup(client: TestClient) -> None:
    image = inventory(client, BACKUP_WINDOWS)

    assert image["size"] == image["actualSize"] == 53687091200


@pytest.mark.parametrize("backup", [BACKUP_WITH_METADATA, BACKUP_NO_METADATA])
def test_create_reply_holds_no_nulls(client: TestClient, backup: str) -> None:
    response = create(client, login(client), backup)

    assert response.status_code == 200, response.text
    assert null_paths(response.json()) == []


def test_create_reply_has_exactly_the_image_inventory_fields(client: TestClient) -> None:
    image = inventory(client, description="full", system=True)

    assert set(image) == IMAGE_KEYS
    (ref,) = image["backupStorageRefs"]
    assert set(ref) == REF_KEYS
    assert ref["backupStorageUuid"] == BS_READY


def test_create_reply_ref_ids_increase_across_creates(client: TestClient) -> None:
    ids = [inventory(client)["backupStorageRefs"][0]["id"] for _ in range(3)]

    assert all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == 3


def test_create_dates_come_from_the_clock(clocked: tuple[TestClient, FakeClock]) -> None:
    client, clock = clocked
    clock.advance(90)

    image = inventory(client)

    assert image["createDate"] == image["lastOpDate"] == java_date(START + timedelta(seconds=90))
    ref = image["backupStorageRefs"][0]
    assert ref["createDate"] == ref["lastOpDate"] == image["createDate"]


def test_create_renews_the_session(clocked: tuple[TestClient, FakeClock]) -> None:
    client, clock = clocked
    session = login(client)

    clock.advance(7000)
    assert create(client, session).status_code == 200
    clock.advance(7000)

    assert client.get(f"/zstack/v1/accounts/sessions/{session}/valid").json() == {"valid": True}
    assert create(client, session).status_code == 200


def test_create_renews_the_session__when_it_fails_after_the_session_check(
    clocked: tuple[TestClient, FakeClock],
) -> None:
    client, clock = clocked
    session = login(client)

    clock.advance(7000)
    assert_zstack_error(create(client, session, resourceUuid="bad"), "SYS.1007")
    clock.advance(7000)

    assert client.get(f"/zstack/v1/accounts/sessions/{session}/valid").json() == {"valid": True}


def test_create_that_fails_validation_does_not_renew_the_session(
    clocked: tuple[TestClient, FakeClock],
) -> None:
    client, clock = clocked
    session = login(client)

    clock.advance(7000)
    assert_zstack_error(create(client, session, platform="Foo"), "SYS.1007")
    clock.advance(7000)

    assert client.get(f"/zstack/v1/accounts/sessions/{session}/valid").json() == {"valid": False}
