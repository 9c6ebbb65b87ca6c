"""RPC queries (APIQueryImageMsg, APIQueryVolumeBackupMsg, APIQueryBackupStorageMsg): the RPC `conditions`
form, answered by the same query code as the REST query API (docs/behaviour.md, "Legacy RPC API" and "Queries")."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import (
    BACKUP_OF_ALICE,
    BACKUP_WITH_METADATA,
    BS_DISABLED,
    BS_DISCONNECTED,
    BS_READY,
    create,
    login,
)
from tests.query.support import (
    ALL_IMAGES,
    ALL_STORAGES,
    BACKUP_STORAGE,
    IMAGE_CENTOS,
    IMAGE_OF_ALICE,
    IMAGES,
    VOLUME_BACKUPS,
    get_ok,
)
from tests.rpc.support import (
    GENERIC_REPLY,
    QUERY_BACKUP,
    QUERY_BACKUP_REPLY,
    QUERY_IMAGE,
    QUERY_IMAGE_REPLY,
    QUERY_STORAGE,
    QUERY_STORAGE_REPLY,
    VALIDATOR,
    assert_rpc_error,
    inventories,
    query,
    reply_of,
    rpc_login,
)

CENTOS_SIZE = 21474836480

#: (RPC message, its reply, the REST path answering the same query)
TARGETS = {
    "images": (QUERY_IMAGE, QUERY_IMAGE_REPLY, IMAGES),
    "backups": (QUERY_BACKUP, QUERY_BACKUP_REPLY, VOLUME_BACKUPS),
    "storages": (QUERY_STORAGE, QUERY_STORAGE_REPLY, BACKUP_STORAGE),
}


def cond(name: str, op: str, value: str | None = None) -> dict[str, Any]:
    condition: dict[str, Any] = {"name": name, "op": op}
    if value is not None:
        condition["value"] = value
    return condition


def rest_reply(client: TestClient, path: str, session: str, params: list[tuple[str, str]]) -> dict[str, Any]:
    body = get_ok(client, path, {"Authorization": f"OAuth {session}"}, params)
    del body["schema"]
    return body


# The same query in both forms: RPC conditions (QueryOp names) and REST q= (RestServer's tokens).
SAME_QUERIES = [
    pytest.param("images", [cond("platform", "=", "Linux")], ["platform=Linux"], id="eq"),
    pytest.param("images", [cond("name", "!=", "ubuntu-22.04-iso")], ["name!=ubuntu-22.04-iso"], id="ne"),
    pytest.param("images", [cond("size", ">", str(CENTOS_SIZE))], [f"size>{CENTOS_SIZE}"], id="gt"),
    pytest.param("images", [cond("size", ">=", str(CENTOS_SIZE))], [f"size>={CENTOS_SIZE}"], id="ge"),
    pytest.param("images", [cond("size", "<", str(CENTOS_SIZE))], [f"size<{CENTOS_SIZE}"], id="lt"),
    pytest.param("images", [cond("size", "<=", str(CENTOS_SIZE))], [f"size<={CENTOS_SIZE}"], id="le"),
    pytest.param(
        "images", [cond("uuid", "in", f"{IMAGE_CENTOS},{IMAGE_OF_ALICE}")], [f"uuid?={IMAGE_CENTOS},{IMAGE_OF_ALICE}"],
        id="in",
    ),
    pytest.param("images", [cond("uuid", "not in", IMAGE_CENTOS)], [f"uuid!?={IMAGE_CENTOS}"], id="not-in"),
    pytest.param("images", [cond("name", "like", "%template")], ["name~=%template"], id="like"),
    pytest.param("images", [cond("name", "not like", "%template")], ["name!~=%template"], id="not-like"),
    pytest.param("images", [cond("description", "is null")], ["description is null"], id="is-null"),
    pytest.param("images", [cond("description", "is not null")], ["description not null"], id="is-not-null"),
    pytest.param(
        "images", [cond("platform", "=", "Linux"), cond("architecture", "=", "x86_64")],
        ["platform=Linux", "architecture=x86_64"], id="and",
    ),
    pytest.param(
        "images", [cond("backupStorageRefs.backupStorageUuid", "=", BS_READY)],
        [f"backupStorageRefs.backupStorageUuid={BS_READY}"], id="nested",
    ),
    pytest.param("images", [cond("createDate", ">", "2024-03-01T12:00:00Z")], ["createDate>2024-03-01T12:00:00Z"],
                 id="date"),
    pytest.param("images", [], [], id="no-conditions"),
    pytest.param(
        "backups", [cond("backupStorage.uuid", "in", f"{BS_DISABLED},{BS_DISCONNECTED}")],
        [f"backupStorage.uuid?={BS_DISABLED},{BS_DISCONNECTED}"], id="backups-alias-in",
    ),
    pytest.param("backups", [cond("metadata", "is null")], ["metadata is null"], id="backups-null"),
    pytest.param("backups", [], [], id="backups-all"),
    pytest.param("storages", [cond("status", "!=", "Connected")], ["status!=Connected"], id="storages-ne"),
    pytest.param("storages", [cond("availableCapacity", ">", "2000000000000")], ["availableCapacity>2000000000000"],
                 id="storages-int"),
    pytest.param("storages", [], [], id="storages-all"),
]


@pytest.mark.parametrize(("target", "conditions", "rest_q"), SAME_QUERIES)
def test_rpc_query_answers_what_the_rest_query_answers(
    client: TestClient, target: str, conditions: list[dict[str, Any]], rest_q: list[str]
) -> None:
    message, reply_class, path = TARGETS[target]
    session = rpc_login(client)

    rpc_reply = reply_of(query(client, message, session, conditions=conditions), reply_class)

    assert rpc_reply == rest_reply(client, path, session, [("q", q) for q in rest_q])
    assert rpc_reply["inventories"], "every case is chosen to match something"


@pytest.mark.parametrize(
    ("fields", "rest_params"),
    [
        pytest.param({"sortBy": "size", "sortDirection": "desc"}, [("sort", "-size")], id="sort-desc"),
        pytest.param({"sortBy": "name", "sortDirection": "asc"}, [("sort", "+name")], id="sort-asc"),
        pytest.param({"sortBy": "name"}, [("sort", "name")], id="sort-default-asc"),
        pytest.param({"limit": 1, "start": 1}, [("limit", "1"), ("start", "1")], id="page"),
        pytest.param({"replyWithCount": True, "limit": 2}, [("replyWithCount", "true"), ("limit", "2")],
                     id="reply-with-count"),
        pytest.param({"count": True}, [("count", "true")], id="count"),
        pytest.param({"fields": ["uuid", "name", "backupStorageRefs"]}, [("fields", "uuid,name,backupStorageRefs")],
                     id="fields"),
    ],
)
def test_rpc_query_paging_sorting_counting_and_fields_match_rest(
    client: TestClient, fields: dict[str, Any], rest_params: list[tuple[str, str]]
) -> None:
    session = rpc_login(client)

    rpc_reply = reply_of(query(client, QUERY_IMAGE, session, **fields), QUERY_IMAGE_REPLY)

    assert rpc_reply == rest_reply(client, IMAGES, session, rest_params)


def test_rpc_query_reply_shape(client: TestClient) -> None:
    session = rpc_login(client)

    page = reply_of(query(client, QUERY_IMAGE, session, limit=2, replyWithCount=True), QUERY_IMAGE_REPLY)
    counted = reply_of(query(client, QUERY_IMAGE, session, count=True), QUERY_IMAGE_REPLY)

    assert list(page) == ["inventories", "total"]  # no REST "schema" map
    assert [i["uuid"] for i in page["inventories"]] == ALL_IMAGES[:2]
    assert page["total"] == 3
    assert counted == {"total": 3}
    assert list(reply_of(query(client, QUERY_IMAGE, session), QUERY_IMAGE_REPLY)) == ["inventories"]


def test_rpc_query_storage_carries_image_store_fields(client: TestClient) -> None:
    storages = inventories(client, QUERY_STORAGE, QUERY_STORAGE_REPLY, rpc_login(client))
    assert [s["uuid"] for s in storages] == ALL_STORAGES
    assert {"hostname", "username", "sshPort"} <= set(storages[0])


def test_rpc_query_null_fields_are_absent(client: TestClient) -> None:
    """Python clients send every field of the message, null when unset."""
    session = rpc_login(client)
    nulls = {"limit": None, "start": None, "count": None, "replyWithCount": None, "sortBy": None,
             "sortDirection": None, "fields": None, "timeout": None, "systemTags": None, "userTags": None}

    found = inventories(client, QUERY_IMAGE, QUERY_IMAGE_REPLY, session, **nulls)

    assert [i["uuid"] for i in found] == ALL_IMAGES


def test_rpc_query_gson_style_leniency(client: TestClient) -> None:
    """Numbers as condition values and numeric strings as limit are read as Gson reads them."""
    session = rpc_login(client)

    by_number = inventories(client, QUERY_IMAGE, QUERY_IMAGE_REPLY, session,
                            conditions=[{"name": "size", "op": ">", "value": CENTOS_SIZE}])
    by_bool = inventories(client, QUERY_IMAGE, QUERY_IMAGE_REPLY, session,
                          conditions=[{"name": "virtio", "op": "=", "value": True}])
    limited = inventories(client, QUERY_IMAGE, QUERY_IMAGE_REPLY, session, limit="1")

    assert [i["uuid"] for i in by_number] == [IMAGE_OF_ALICE]
    assert [i["uuid"] for i in by_bool] == [IMAGE_CENTOS]
    assert [i["uuid"] for i in limited] == [IMAGE_CENTOS]


def test_rpc_query_empty_fields_list_selects_every_field(client: TestClient) -> None:
    session = rpc_login(client)
    everything = inventories(client, QUERY_IMAGE, QUERY_IMAGE_REPLY, session)
    assert inventories(client, QUERY_IMAGE, QUERY_IMAGE_REPLY, session, fields=[]) == everything


def test_rpc_query_normal_account_sees_only_its_own(client: TestClient) -> None:
    session = rpc_login(client, "alice")

    images = inventories(client, QUERY_IMAGE, QUERY_IMAGE_REPLY, session)
    backups = inventories(client, QUERY_BACKUP, QUERY_BACKUP_REPLY, session)
    storages = inventories(client, QUERY_STORAGE, QUERY_STORAGE_REPLY, session)

    assert [i["uuid"] for i in images] == [IMAGE_OF_ALICE]
    assert [b["uuid"] for b in backups] == [BACKUP_OF_ALICE]
    assert [s["uuid"] for s in storages] == ALL_STORAGES


def test_rpc_query_by_uuid_on_nested_storage(client: TestClient) -> None:
    found = inventories(client, QUERY_BACKUP, QUERY_BACKUP_REPLY, rpc_login(client),
                        conditions=[cond("backupStorageRefs.backupStorageUuid", "=", BS_DISCONNECTED)])
    assert [b["uuid"] for b in found] == [BACKUP_WITH_METADATA]


# --- errors ---


@pytest.mark.parametrize("op", ["?=", "~=", "!?=", "!~=", "not null", "IN", "=="])
def test_rpc_query_rejects_rest_shorthands_and_unknown_ops(client: TestClient, op: str) -> None:
    response = query(client, QUERY_IMAGE, rpc_login(client), conditions=[cond("name", op, "x")])
    assert_rpc_error(response, GENERIC_REPLY, "SYS.1007", f"unknown QueryOp type[{op}]")


def test_rpc_query_without_conditions_is_sys_1007(client: TestClient) -> None:
    session = rpc_login(client)
    for fields in ({}, {"conditions": None}):
        response = client.post("/zstack/api", json={QUERY_IMAGE: {**fields, "session": {"uuid": session}}})
        assert_rpc_error(
            response, GENERIC_REPLY, "SYS.1007",
            f"field[conditions] of message[{VALIDATOR}] is mandatory, can not be null",
        )


def test_rpc_query_parameter_errors_come_before_the_session_check(client: TestClient) -> None:
    response = client.post("/zstack/api", json={QUERY_IMAGE: {"session": {"uuid": "0" * 32}}})
    assert_rpc_error(response, GENERIC_REPLY, "SYS.1007")


def test_rpc_query_session_check_comes_before_the_condition_check(client: TestClient) -> None:
    response = query(client, QUERY_IMAGE, "0" * 32, conditions=[cond("name", "?=", "x")])
    assert_rpc_error(response, GENERIC_REPLY, "ID.1001", "Session expired")


def test_rpc_query_unknown_field_is_the_rest_error(client: TestClient) -> None:
    session = rpc_login(client)
    rest = client.get(IMAGES, headers={"Authorization": f"OAuth {session}"}, params={"q": "color=red"})

    error = assert_rpc_error(query(client, QUERY_IMAGE, session, conditions=[cond("color", "=", "red")]),
                             GENERIC_REPLY, "SYS.1000")

    assert error["details"] == rest.json()["error"]["details"]
    assert error["details"].endswith("ImageInventory] not having field[color]")


@pytest.mark.parametrize(
    ("fields", "details"),
    [
        pytest.param({"limit": -1}, "java.lang.IllegalArgumentException: max-results cannot be negative", id="limit"),
        pytest.param({"sortBy": "color"}, "org.zstack.zql.ast.visitors.ZQLError: invalid order by clause, "
                     "inventory[ImageInventory] doesn't have field[color]", id="sort-by"),
        pytest.param({"fields": ["uuid", ""]}, "org.antlr.v4.runtime.misc.ParseCancellationException: error "
                     "missing ID at 'limit' at line 1:18, age.uuid, limit 100", id="fields-ending-empty"),
    ],
)
def test_rpc_query_zql_failures_are_sys_1000(client: TestClient, fields: dict[str, Any], details: str) -> None:
    response = query(client, QUERY_IMAGE, rpc_login(client), **fields)
    assert_rpc_error(response, GENERIC_REPLY, "SYS.1000", details)


def test_rpc_query_condition_without_value_is_sys_1007(client: TestClient) -> None:
    response = query(client, QUERY_IMAGE, rpc_login(client), conditions=[{"name": "name", "op": "="}])
    assert_rpc_error(
        response, GENERIC_REPLY, "SYS.1007", ''''value' of query condition {"name":"name","op":"="} cannot be null'''
    )


@pytest.mark.parametrize(
    ("fields", "details"),
    [
        pytest.param({"sortDirection": "down"},
                     f"valid value for field[sortDirection] of message[{VALIDATOR}] are [asc, desc], but down found",
                     id="sort-direction"),
        pytest.param({"limit": "ten"},
                     "Invalid value for integer field [limit], [ten] is not a whole number between -2147483648 "
                     "and 2147483647.", id="limit-text"),
        pytest.param({"start": 1.5},
                     "Invalid value for integer field [start], [1.5] is not a whole number between -2147483648 "
                     "and 2147483647.", id="start-fraction"),
        pytest.param({"limit": 2**31},
                     "Invalid value for integer field [limit], [2147483648] is not a whole number between "
                     "-2147483648 and 2147483647.", id="limit-beyond-java-int"),
        pytest.param({"count": "yes"},
                     "Invalid value for boolean field [count], [yes] is not a valid boolean string[true, false].",
                     id="count"),
        pytest.param({"fields": "uuid,name"},
                     "Invalid value for list field [fields], [uuid,name] is not a list of strings.", id="fields-text"),
        pytest.param({"conditions": {"name": "x"}},
                     "Invalid value for list field [conditions], [{name=x}] is not a list of objects.",
                     id="conditions-object"),
        pytest.param({"conditions": ["name=x"]},
                     "Invalid value for list field [conditions], [[name=x]] is not a list of objects.",
                     id="conditions-strings"),
        pytest.param({"conditions": [{"op": "=", "value": "x"}]},
                     'field[name] of conditions[0] is mandatory; a condition is {"name": "<field>", "op": '
                     '"<operator>", "value": "<text>"}', id="condition-without-name"),
        pytest.param({"conditions": [{"name": "name", "value": "x"}]}, None, id="condition-without-op"),
        pytest.param({"conditions": [{"name": 7, "op": "=", "value": "x"}]},
                     "Invalid value for string field [conditions[0].name], [7] is a JSON number, not a string.",
                     id="condition-name-number"),
        pytest.param({"conditions": [cond("name", "=", "x"), {"name": "uuid", "op": "in", "value": ["a", "b"]}]},
                     "Invalid value for string field [conditions[1].value], a JSON array is not a string; give the "
                     "values of 'in' and 'not in' as one string, separated by commas.", id="condition-value-list"),
    ],
)
def test_rpc_query_parameter_errors_are_sys_1007(
    client: TestClient, fields: dict[str, Any], details: str | None
) -> None:
    response = query(client, QUERY_IMAGE, rpc_login(client), **fields)
    assert_rpc_error(response, GENERIC_REPLY, "SYS.1007", details)


def test_rpc_query_and_rest_query_share_sessions(client: TestClient) -> None:
    """A REST login's session queries over RPC; an RPC login's session queries over REST."""
    rest_session = login(client, "alice")
    rpc_session = rpc_login(client, "alice")

    over_rpc = inventories(client, QUERY_IMAGE, QUERY_IMAGE_REPLY, rest_session)
    over_rest = get_ok(client, IMAGES, {"Authorization": f"OAuth {rpc_session}"})["inventories"]

    assert [i["uuid"] for i in over_rpc] == [i["uuid"] for i in over_rest] == [IMAGE_OF_ALICE]


def test_rpc_query_sees_images_created_over_rest(client: TestClient) -> None:
    session = login(client)
    created = create(client, session, name="made-over-rest")
    assert created.status_code == 200, created.text

    found = inventories(client, QUERY_IMAGE, QUERY_IMAGE_REPLY, rpc_login(client),
                        conditions=[cond("name", "=", "made-over-rest")])

    assert found == [created.json()["inventory"]]
