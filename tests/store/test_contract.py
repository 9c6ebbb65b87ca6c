"""The store interface (``app.store.base.Store``) behaves the same over SQLite and PostgreSQL: every
method, every operator, the values each column type holds, transactions, generated keys, the schema check."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from app.seeding.startup import OpenStore, open_store
from app.store.base import Subquery
from app.store.records import (
    Account,
    FaultRule,
    Image,
    ImageBackupStorageRef,
    ImageTag,
    JournalEntry,
    Session,
)
from app.store.sql import SCHEMA_VERSION_KEY, StoreError
from app.store.sqlite import sqlite_path

NOW = datetime(2026, 12, 7, 12, 0, 0, 123456, tzinfo=UTC)


def image(uuid: str, **fields: Any) -> Image:
    values: dict[str, Any] = {
        "uuid": uuid, "name": f"image-{uuid[:4]}", "description": None, "state": "Enabled", "status": "Ready",
        "size": 1, "actual_size": 1, "md5_sum": None, "url": None, "media_type": "RootVolumeTemplate",
        "guest_os_type": None, "type": "zstack", "platform": "Linux", "architecture": "x86_64",
        "format": "qcow2", "system": False, "virtio": None, "create_date": NOW, "last_op_date": NOW,
        "account_uuid": "a" * 32,
    }
    values.update(fields)
    return Image(**values)


def ref(image_uuid: str, ref_id: int | None = None) -> ImageBackupStorageRef:
    return ImageBackupStorageRef(
        id=ref_id, image_uuid=image_uuid, backup_storage_uuid="b" * 32, install_path="/p", export_url=None,
        export_md5_sum=None, status="Ready", create_date=NOW, last_op_date=NOW,
    )


def session(uuid: str) -> Session:
    return Session(uuid=uuid, account_uuid="a" * 32, user_uuid="a" * 32, expired_date=NOW, create_date=NOW)


def uuids(records: list[Any]) -> list[str]:
    return [r.uuid for r in records]


@pytest.fixture
def images(store: OpenStore) -> OpenStore:
    store.insert_many([
        image("1" * 32, name="alpha", size=10, platform="Linux", description="first"),
        image("2" * 32, name="Beta_2", size=2**40, platform="Windows", create_date=NOW + timedelta(seconds=1)),
        image("3" * 32, name="gamma%", size=3 * 2**31, platform=None, system=True, virtio=True,
              create_date=NOW + timedelta(microseconds=1)),
        image("4" * 32, name="délta", size=0, platform="Linux", virtio=False),
    ])
    return store


def test_a_record_reads_back_as_it_was_written(store: OpenStore) -> None:
    written = image("1" * 32, size=2**62, actual_size=2**31 + 1, system=True, virtio=None,
                    description='{"json": ["text", 1]} ünïcode ✓', create_date=NOW)
    store.insert(written)
    found = store.get(Image, uuid="1" * 32)
    assert found == written
    assert found is not None and found.create_date.tzinfo is UTC and found.create_date.microsecond == 123456
    assert isinstance(found.system, bool) and found.virtio is None
    assert store.get(Image, uuid="9" * 32) is None


def test_a_date_with_another_zone_is_the_same_instant(store: OpenStore) -> None:
    store.insert(image("1" * 32, create_date=NOW.astimezone(UTC).replace(tzinfo=None).replace(tzinfo=UTC)))
    plus_two = NOW.astimezone(__import__("datetime").timezone(timedelta(hours=2)))
    assert uuids(store.find(Image, {"create_date": plus_two})) == ["1" * 32]
    found = store.get(Image, uuid="1" * 32)
    assert found is not None and found.create_date.tzinfo is UTC


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"name": "alpha"}, ["1"]),
        ({"name__ne": "alpha"}, ["2", "3", "4"]),
        ({"size__gt": 2**32}, ["2", "3"]),
        ({"size__ge": 10}, ["1", "2", "3"]),
        ({"size__lt": 10}, ["4"]),
        ({"size__le": 10}, ["1", "4"]),
        ({"platform__in": ["Linux", "Solaris"]}, ["1", "4"]),
        ({"platform__in": []}, []),
        ({"platform__notin": ["Linux"]}, ["2"]),
        ({"platform__notin": []}, ["1", "2", "3", "4"]),
        ({"platform__isnull": True}, ["3"]),
        ({"platform__isnull": False}, ["1", "2", "4"]),
        ({"platform__ne": "Linux"}, ["2"]),
        ({"system": True}, ["3"]),
        ({"virtio": False}, ["4"]),
        ({"create_date__gt": NOW}, ["2", "3"]),
        ({"description__like": "FIR%"}, ["1"]),
        # LIKE folds ASCII letters only, and has no escape character: '_' and '%' are wildcards.
        ({"name__like": "%A%"}, ["1", "2", "3", "4"]),
        ({"name__like": "%M%"}, ["3"]),
        ({"name__like": "DÉLTA"}, []),
        ({"name__like": "délta"}, ["4"]),
        ({"name__like": "beta_2"}, ["2"]),
        ({"name__like": "beta\\_2"}, []),
        ({"name__like": "gamma%"}, ["3"]),
        ({"name__like": "_____"}, ["1", "4"]),
        ({"name__notlike": "%a"}, ["2", "3"]),
        ([("size__gt", 0), ("size__lt", 2**33)], ["1", "3"]),
        ({"uuid__in": Subquery(Image, "uuid", {"platform": "Windows"})}, ["2"]),
        ({"uuid__notin": Subquery(Image, "uuid", [("name__like", "%m%")])}, ["1", "2", "4"]),
    ],
)
def test_every_operator_selects_the_same_records(images: OpenStore, where: Any, expected: list[str]) -> None:
    found = images.find(Image, where, order_by=["uuid"])
    assert uuids(found) == [digit * 32 for digit in expected]
    assert images.count(Image, where) == len(expected)


def test_a_subquery_reads_another_record_type(store: OpenStore) -> None:
    store.insert_many([image("1" * 32), image("2" * 32), ImageTag(image_uuid="2" * 32, tag_uuid="t" * 32)])
    tagged = {"uuid__in": Subquery(ImageTag, "image_uuid", {"tag_uuid": "t" * 32})}
    assert uuids(store.find(Image, tagged)) == ["2" * 32]
    with pytest.raises(ValueError, match="no field"):
        store.find(Image, {"uuid__in": Subquery(ImageTag, "nope", {})})


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["name"], ["2", "1", "4", "3"]),  # byte order: capitals before small letters
        (["-name"], ["3", "4", "1", "2"]),
        (["platform", "uuid"], ["3", "1", "4", "2"]),  # NULL first ascending
        (["-platform", "uuid"], ["2", "1", "4", "3"]),  # and last descending
        (["create_date", "uuid"], ["1", "4", "3", "2"]),
        (["-size"], ["2", "3", "1", "4"]),
    ],
)
def test_ordering_is_the_same(images: OpenStore, order_by: list[str], expected: list[str]) -> None:
    assert uuids(images.find(Image, order_by=order_by)) == [digit * 32 for digit in expected]


def test_limit_offset_and_counts_up_to_a_bound(images: OpenStore) -> None:
    assert uuids(images.find(Image, order_by=["uuid"], limit=2, offset=1)) == ["2" * 32, "3" * 32]
    assert images.find(Image, order_by=["uuid"], limit=0) == []
    assert images.count(Image) == 4
    assert images.count(Image, at_most=3) == 3
    assert images.count(Image, {"platform": "Linux"}, at_most=10) == 2


def test_update_and_delete_say_how_many_records_matched(images: OpenStore) -> None:
    assert images.update(Image, {"platform": "Linux"}, {"status": "Deleted", "size": 2**50}) == 2
    assert images.count(Image, {"status": "Deleted", "size": 2**50}) == 2
    assert images.update(Image, {"platform": "BeOS"}, {"status": "x"}) == 0
    assert images.delete(Image, {"status": "Deleted"}) == 2
    assert images.delete(Image) == 2
    assert images.count(Image) == 0


def test_generated_keys_are_the_largest_plus_one_as_sqlite_rowids(store: OpenStore) -> None:
    assert store.insert(ref("1" * 32)).id == 1
    assert store.insert(ref("1" * 32)).id == 2
    store.insert_many([ref("2" * 32), ref("3" * 32)])
    assert [r.id for r in store.find(ImageBackupStorageRef, order_by=["id"])] == [1, 2, 3, 4]
    store.delete(ImageBackupStorageRef, {"id__ge": 3})
    assert store.insert(ref("4" * 32)).id == 3
    store.delete(ImageBackupStorageRef)
    assert store.insert(ref("5" * 32)).id == 1


def test_replace_records_keeps_generated_keys_and_other_tables(store: OpenStore) -> None:
    store.insert(session("s" * 32))
    store.insert_many([image("1" * 32), ref("1" * 32), ref("1" * 32)])
    store.replace_records([Image, ImageBackupStorageRef], [image("2" * 32), ref("2" * 32, 7), ref("2" * 32, 40)])
    assert uuids(store.find(Image)) == ["2" * 32]
    assert [r.id for r in store.find(ImageBackupStorageRef, order_by=["id"])] == [7, 40]
    assert store.insert(ref("2" * 32)).id == 41
    assert uuids(store.find(Session)) == ["s" * 32]
    with pytest.raises(ValueError, match="not among the tables"):
        store.replace_records([Image], [session("t" * 32)])
    store.replace_records([ImageBackupStorageRef], [ref("3" * 32, 5), ref("3" * 32), ref("3" * 32, 2), ref("3" * 32)])
    assert [r.id for r in store.find(ImageBackupStorageRef, order_by=["id"])] == [2, 5, 6, 7]  # None: next rowid
    store.replace_records([ImageBackupStorageRef], [])
    assert store.count(ImageBackupStorageRef) == 0 and store.count(Image) == 1


def test_replace_inventory_wipes_everything_else(store: OpenStore) -> None:
    store.insert_many([session("s" * 32), image("1" * 32)])
    store.set_meta("fixtures", "old")
    admin = Account(uuid="a" * 32, name="admin", description=None, type="SystemAdmin", create_date=NOW,
                    last_op_date=NOW, password_sha512="0" * 128)
    store.replace_inventory([admin, image("2" * 32), ref("2" * 32)])
    assert store.count(Session) == 0 and uuids(store.find(Image)) == ["2" * 32]
    assert store.get(Account, uuid="a" * 32) == admin
    assert store.get_meta("fixtures") is None
    assert [r.id for r in store.find(ImageBackupStorageRef)] == [1]


def test_a_failed_transaction_leaves_nothing_and_nested_ones_join_it(store: OpenStore) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.insert(image("1" * 32))
        with store.transaction():
            store.insert(image("2" * 32))
            store.set_meta("k", "v")
        raise RuntimeError("the call failed")
    assert store.count(Image) == 0 and store.get_meta("k") is None
    with store.transaction():
        store.insert(image("1" * 32))
        with store.transaction():
            store.update(Image, {"uuid": "1" * 32}, {"name": "renamed"})
        assert store.count(Image, {"name": "renamed"}) == 1
    assert store.count(Image, {"name": "renamed"}) == 1


def test_meta_values_are_set_and_replaced(store: OpenStore) -> None:
    assert store.get_meta("clock") is None
    store.set_meta("clock", "frozen")
    store.set_meta("clock", "running")
    assert store.get_meta("clock") == "running"


def test_text_fields_hold_long_and_unusual_text(store: OpenStore) -> None:
    body = "x" * 70_000 + "'; DROP TABLE image; -- \\ % _ \u2028 \U0001f600"
    entry = JournalEntry(
        id=None, create_date=NOW, method="POST", path="/p" * 2000, query="", headers_json="{}", body=body,
        body_size=len(body), body_truncated=False, operation=None, session_uuid=None, status=None, verdict=None,
        error_code=None, error_details=None, fault=None, duration_ms=0.125, job_uuid=None,
    )
    stored = store.insert(entry)
    assert store.find(JournalEntry, {"id": stored.id}) == [entry]


def test_conditions_never_become_sql(store: OpenStore) -> None:
    with pytest.raises(ValueError, match="no field"):
        store.find(Image, {"name; DROP TABLE image --": "x"})
    with pytest.raises(ValueError, match="unknown operator"):
        store.find(Image, {"name__regexp": "x"})
    with pytest.raises(ValueError, match="no field"):
        store.find(Image, order_by=["name desc"])
    with pytest.raises(ValueError, match="no field"):
        store.update(Image, {}, {"nope": 1})
    assert store.find(Image, {"name": "x' OR '1'='1"}) == []


def test_a_rule_counter_read_and_written_in_transactions_is_exact_across_stores(
    two_connections: tuple[OpenStore, OpenStore],
) -> None:
    """Read-modify-write in a transaction runs alone, whichever store (process) does it."""
    import threading

    rule = two_connections[0].insert(FaultRule(id=None, name=None, spec_json="{}", matched=0, fired=0, spent=False,
                                          create_date=NOW, expire_date=None))

    def bump(store: OpenStore) -> None:
        for _ in range(25):
            with store.transaction():
                current = store.get(FaultRule, id=rule.id)
                assert current is not None
                store.update(FaultRule, {"id": rule.id}, {"matched": current.matched + 1})

    threads = [threading.Thread(target=bump, args=(s,)) for s in two_connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    final = two_connections[1].get(FaultRule, id=rule.id)
    assert final is not None and final.matched == 50


def test_a_database_of_another_schema_version_is_refused(
    shared_database_url: str, open_stores: Callable[[], OpenStore]
) -> None:
    store = open_stores()
    store.insert(image("1" * 32))
    store.set_meta(SCHEMA_VERSION_KEY, "0")
    with pytest.raises(StoreError, match=r"holds schema version 0, this zstack-mock uses \d+: start once with --reset"):
        open_store(shared_database_url)
    recreated = open_store(shared_database_url, reset=True)
    try:
        assert recreated.count(Image) == 0
    finally:
        recreated.close()
    open_stores()  # and now it opens as it is


def test_a_table_missing_from_a_database_of_this_version_is_created_and_the_rest_kept(
    shared_database_url: str, open_stores: Callable[[], OpenStore]
) -> None:
    open_stores().insert(image("1" * 32))
    drop = "DROP TABLE image_tag"  # as if a later release had added it
    if shared_database_url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(sqlite_path(shared_database_url))) as conn:
            conn.execute(drop)
            conn.commit()
    else:
        with psycopg.connect(shared_database_url, autocommit=True) as conn:
            conn.execute(drop)
    reopened = open_store(shared_database_url)
    try:
        assert reopened.count(Image) == 1
        assert reopened.count(ImageTag) == 0
    finally:
        reopened.close()


def test_text_with_nul_characters_is_stored_and_found(store: OpenStore, shared_database_url: str) -> None:
    """SQLite keeps a NUL character; PostgreSQL's text cannot hold one, so it becomes U+FFFD there, in
    what is stored and in what is looked for alike (docs/behaviour.md)."""
    store.insert(image("1" * 32, name="a\x00b", description="\x00"))
    store.set_meta("k\x00", "v\x00")
    kept = "a\x00b" if shared_database_url.startswith("sqlite") else "a\ufffdb"
    assert [i.name for i in store.find(Image, {"name": "a\x00b"})] == [kept]
    assert store.count(Image, {"name__like": "a\x00%"}) == 1
    assert store.update(Image, {"uuid": "1" * 32}, {"description": "x\x00"}) == 1
    assert store.get_meta("k\x00") in ("v\x00", "v\ufffd")
