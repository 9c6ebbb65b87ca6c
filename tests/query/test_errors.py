"""Malformed queries: plain-text 400s from the REST layer, SYS.1007 / ID.1001 from the API (docs/behaviour.md, "Queries")."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import assert_plain_text, assert_zstack_error
from tests.query.support import (
    ALL_IMAGES,
    BACKUP_STORAGE,
    IMAGE_CENTOS,
    IMAGE_STORE,
    IMAGES,
    VOLUME_BACKUPS,
    uuids,
)

VALID_OPERATORS = "[!=, >=, <=, !?=, !~=, ~=, ?=, =, >, <, is null, not null]"


@pytest.mark.parametrize("path", [IMAGES, VOLUME_BACKUPS, BACKUP_STORAGE, IMAGE_STORE])
def test_condition_without_operator_is_400(client: TestClient, admin: dict[str, str], path: str) -> None:
    response = client.get(path, headers=admin, params={"q": "platform"})
    assert_plain_text(
        response,
        400,
        "Invalid query parameter. The 'platform' in the parameter[q] doesn't contain any query operator. "
        f"Valid query operators are {VALID_OPERATORS}",
    )


@pytest.mark.parametrize(
    ("condition", "op"),
    [
        pytest.param("name=", "=", id="eq"),
        pytest.param("=name", "=", id="eq-leading"),
        pytest.param("size<=", "<=", id="le"),
        pytest.param("size>", ">", id="gt"),
        pytest.param("uuid?=", "in", id="in-says-queryop"),
        pytest.param("name~=", "like", id="like-says-queryop"),
    ],
)
def test_condition_without_value_is_400(
    client: TestClient, admin: dict[str, str], condition: str, op: str
) -> None:
    """RestServer names the QueryOp (`in`, `like`), not the REST token, in this message."""
    response = client.get(IMAGES, headers=admin, params={"q": condition})
    assert_plain_text(
        response,
        400,
        f"Invalid query parameter. The '{condition}' in parameter[q] is not a key-value pair split by {op}",
    )


@pytest.mark.parametrize(
    "value",
    # Java's Integer.valueOf (of the trimmed value): no underscore or fraction, within -2^31..2^31-1.
    ["abc", "1.5", "", "0x10", "1_0", "1 0", "2147483648", "-2147483649", "99999999999999999999999"],
)
@pytest.mark.parametrize("name", ["limit", "start"])
def test_non_integer_paging_is_400(client: TestClient, admin: dict[str, str], name: str, value: str) -> None:
    response = client.get(IMAGES, headers=admin, params={name: value})
    assert_plain_text(response, 400, f"Invalid query parameter. '{name}' must be an integer")


def test_sort_by_a_list_field_is_sys_1007(client: TestClient, admin: dict[str, str]) -> None:
    """ZQL accepts the name and the database fails on it; the mock says why instead."""
    error = assert_zstack_error(client.get(IMAGES, headers=admin, params={"sort": "backupStorageRefs"}), "SYS.1007")
    assert error["details"].startswith("sortBy[backupStorageRefs]: zstack-mock cannot sort by it"), error["details"]


@pytest.mark.parametrize("path", [BACKUP_STORAGE, IMAGE_STORE])
def test_attached_zone_uuids_is_selected_but_not_queried_or_sorted(
    client: TestClient, admin: dict[str, str], path: str
) -> None:
    error = assert_zstack_error(client.get(path, headers=admin, params={"q": "attachedZoneUuids=x"}), "SYS.1007")
    assert error["details"].startswith("condition[attachedZoneUuids]: zstack-mock cannot query this"), error
    error = assert_zstack_error(client.get(path, headers=admin, params={"sort": "attachedZoneUuids"}), "SYS.1007")
    assert error["details"].startswith("sortBy[attachedZoneUuids]: zstack-mock cannot sort by it"), error
    selected = client.get(path, headers=admin, params={"fields": "attachedZoneUuids"}).json()["inventories"]
    assert selected and all(list(inventory) == ["attachedZoneUuids"] for inventory in selected)


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        pytest.param("size>big", "size", id="int"),
        pytest.param("size?=1,two", "size", id="int-in-list"),
        pytest.param("system=yes", "system", id="bool"),
        pytest.param("createDate>yesterday", "createDate", id="date"),
        pytest.param("size~=1%", "size", id="like-on-int"),
    ],
)
def test_ill_typed_condition_value_is_sys_1007(
    client: TestClient, admin: dict[str, str], condition: str, field: str
) -> None:
    error = assert_zstack_error(client.get(IMAGES, headers=admin, params={"q": condition}), "SYS.1007")
    assert error["details"].startswith(f"condition[{field}]"), error["details"]


@pytest.mark.parametrize(
    "path", [IMAGES, f"{IMAGES}/{IMAGE_CENTOS}", VOLUME_BACKUPS, BACKUP_STORAGE, IMAGE_STORE]
)
def test_missing_authorization_is_400(client: TestClient, path: str) -> None:
    assert_plain_text(client.get(path), 400, "missing header 'Authorization'")


def test_missing_authorization__checked_before_parameters(client: TestClient) -> None:
    assert_plain_text(client.get(IMAGES, params={"limit": "abc"}), 400, "missing header 'Authorization'")


def test_authorization_not_oauth_is_400(client: TestClient) -> None:
    response = client.get(IMAGES, headers={"Authorization": "Bearer 0123"})
    assert_plain_text(response, 400, "Authorization type must be 'OAuth'")


@pytest.mark.parametrize("path", [IMAGES, f"{IMAGES}/{IMAGE_CENTOS}", VOLUME_BACKUPS, IMAGE_STORE])
def test_unknown_session_is_id_1001(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Authorization": "OAuth 0123456789abcdef0123456789abcdef"})
    error = assert_zstack_error(response, "ID.1001")
    assert (
        error["description"]
        == "The session is invalid, either wrong session id or the session has been expired"
    )


@pytest.mark.parametrize("name", ["limit", "start"])
def test_paging_at_java_s_integer_bounds_is_read(client: TestClient, admin: dict[str, str], name: str) -> None:
    assert client.get(IMAGES, headers=admin, params={name: "2147483647"}).status_code == 200
    assert client.get(IMAGES, headers=admin, params={name: "+1"}).status_code == 200
    assert client.get(IMAGES, headers=admin, params={name: " 2 "}).status_code == 200  # RestServer trims it


def test_unknown_session__malformed_parameters_answer_first(client: TestClient) -> None:
    """The REST layer parses the query string before the API checks the session."""
    response = client.get(IMAGES, headers={"Authorization": "OAuth nope"}, params={"limit": "abc"})
    assert_plain_text(response, 400, "Invalid query parameter. 'limit' must be an integer")


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"foo": "bar"}, id="foo"),
        pytest.param({"groupBy": "x"}, id="groupBy"),
        pytest.param({"Limit": "abc", "qq": "nonsense"}, id="near-names"),
    ],
)
def test_unknown_parameters_are_ignored(
    client: TestClient, admin: dict[str, str], params: dict[str, str]
) -> None:
    assert uuids(client, IMAGES, admin, params) == ALL_IMAGES
