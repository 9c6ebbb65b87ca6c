"""Queries as a real node's ZQL reads them: the names it accepts (expanded queries, aliases, tag names),
``filterName``, and its failures as SYS.1000 with the exception's text (docs/behaviour.md, "Queries")."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import (
    BS_DISABLED,
    BS_READY,
    TAG_GOLDEN,
    TAG_PRODUCTION,
    assert_zstack_error,
    create,
    login,
)
from tests.query.support import (
    ALL_IMAGES,
    ALL_STORAGES,
    BACKUP_STORAGE,
    IMAGE_CENTOS,
    IMAGE_STORE,
    IMAGES,
    STORAGE_CLASS,
    VOLUME_BACKUPS,
    get_ok,
    uuids,
)

IMAGE = "org.zstack.header.image.ImageInventory"
BACKUP_STORAGE_CLASS = "org.zstack.header.storage.backup.BackupStorageInventory"
CLOUD_RUNTIME = "org.zstack.header.exception.CloudRuntimeException"
PARSE_CANCELLATION = "org.antlr.v4.runtime.misc.ParseCancellationException"


def sys_1000(client: TestClient, path: str, headers: dict[str, str], params: object) -> str:
    error = assert_zstack_error(client.get(path, headers=headers, params=params), "SYS.1000")
    assert error["description"] == "An internal error happened in system"
    details: str = error["details"]
    return details


# --- names a real node accepts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        pytest.param(f"backupStorageRef.backupStorageUuid={BS_READY}", id="hidden-expanded-query"),
        pytest.param(f"backupStorageRefs.backupStorageUuid={BS_READY}", id="queryable-list"),
        pytest.param(f"backupStorage.uuid={BS_READY}", id="alias-key"),
        pytest.param("backupStorage.name=imagestore-ready", id="alias-other-field"),
        pytest.param("backupStorage.type=ImageStoreBackupStorage", id="alias-type"),
        pytest.param("backupStorageRef.backupStorage.status=Connected", id="two-expansions"),
    ],
)
def test_images_through_their_backup_storage(client: TestClient, admin: dict[str, str], condition: str) -> None:
    assert uuids(client, IMAGES, admin, {"q": condition}) == ALL_IMAGES


def test_images_through_their_backup_storage__no_match(client: TestClient, admin: dict[str, str]) -> None:
    assert uuids(client, IMAGES, admin, {"q": "backupStorage.name=imagestore-disabled"}) == []
    assert uuids(client, IMAGES, admin, {"q": "backupStorage.state=Disabled"}) == []


def test_backup_storage_through_its_images(client: TestClient, admin: dict[str, str]) -> None:
    assert uuids(client, BACKUP_STORAGE, admin, {"q": "image.name=centos-7-template"}) == [BS_READY]
    assert uuids(client, IMAGE_STORE, admin, {"q": f"imageRef.imageUuid={IMAGE_CENTOS}"}) == [BS_READY]
    assert uuids(client, BACKUP_STORAGE, admin, {"q": "image.name=nothing"}) == []


def test_volume_backups_through_their_backup_storage(client: TestClient, admin: dict[str, str]) -> None:
    on_disabled = uuids(client, VOLUME_BACKUPS, admin, {"q": "backupStorage.state=Disabled"})
    by_uuid = uuids(client, VOLUME_BACKUPS, admin, {"q": f"backupStorageRefs.backupStorageUuid={BS_DISABLED}"})
    assert on_disabled == by_uuid and on_disabled


def test_images_through_volumes_match_nothing(client: TestClient, admin: dict[str, str]) -> None:
    """No volume exists here: ``volume.*`` is a valid name that no image meets, except the one
    ZQL reads as the image's own uuid (``volume.rootImageUuid``)."""
    assert uuids(client, IMAGES, admin, {"q": "volume.name=root"}) == []
    assert uuids(client, IMAGES, admin, {"q": "volume.vmInstance.name=vm"}) == []
    assert uuids(client, IMAGES, admin, {"q": f"volume.rootImageUuid={IMAGE_CENTOS}"}) == [IMAGE_CENTOS]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param("__systemTag__=bootMode::UEFI", [], id="system-tag"),
        pytest.param("__systemTag__~=%", [], id="system-tag-like"),
        pytest.param("__userTag__?=a,b", [], id="user-tag-in"),
        pytest.param("__systemTag__!=bootMode::UEFI", ALL_IMAGES, id="system-tag-not"),
        pytest.param("__userTag__!~=x%", ALL_IMAGES, id="user-tag-not-like"),
        pytest.param("backupStorage.__systemTag__!=x", ALL_IMAGES, id="nested-tag-not"),
    ],
)
def test_tag_conditions_meet_resources_without_tags(
    client: TestClient, admin: dict[str, str], condition: str, expected: list[str]
) -> None:
    assert uuids(client, IMAGES, admin, {"q": condition}) == expected


def test_tag_pattern_condition_finds_images_created_with_tag_uuids(
    client: TestClient, admin: dict[str, str]
) -> None:
    session = login(client)
    created = create(client, session, name="tagged", tagUuids=[TAG_PRODUCTION])
    assert created.status_code == 200, created.text
    tagged = created.json()["inventory"]["uuid"]

    assert uuids(client, IMAGES, admin, {"q": f"__tagUuid__={TAG_PRODUCTION}"}) == [tagged]
    assert uuids(client, IMAGES, admin, {"q": f"__tagUuid__?={TAG_GOLDEN},{TAG_PRODUCTION}"}) == [tagged]
    assert uuids(client, IMAGES, admin, {"q": f"__tagUuid__!={TAG_PRODUCTION}"}) == ALL_IMAGES
    assert uuids(client, IMAGES, admin, {"q": f"__tagUuid__={TAG_GOLDEN}"}) == []


def test_backup_storage_hostname_needs_the_image_store_type(client: TestClient, admin: dict[str, str]) -> None:
    """``/backup-storage`` queries BackupStorageInventory, which has no ``hostname``, unless a
    ``type=ImageStoreBackupStorage`` condition narrows it to the ImageStore class."""
    narrowed = {"q": ["type=ImageStoreBackupStorage", "hostname=192.0.2.11"]}
    assert uuids(client, BACKUP_STORAGE, admin, narrowed) == [BS_DISABLED]
    details = sys_1000(client, BACKUP_STORAGE, admin, {"q": "hostname=192.0.2.11"})
    assert details == f"{CLOUD_RUNTIME}: inventory class[class {BACKUP_STORAGE_CLASS}] not having field[hostname]"


# --- failures, with ZQL's texts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "condition", "details"),
    [
        pytest.param(IMAGES, "foo=1", f"inventory class[class {IMAGE}] not having field[foo]", id="field"),
        pytest.param(
            IMAGES,
            "backupStorageRefs.nope=1",
            "inventory class[class org.zstack.header.image.ImageBackupStorageRefInventory] not having field[nope]",
            id="field-of-expanded",
        ),
        pytest.param(
            IMAGES,
            "backupStorageRefs.id=1",
            "inventory class[class org.zstack.header.image.ImageBackupStorageRefInventory] not having field[id]",
            id="api-no-see-field",
        ),
        pytest.param(
            VOLUME_BACKUPS,
            "foo is null",
            "inventory class[class org.zstack.header.storage.volume.backup.VolumeBackupInventory] "
            "not having field[foo]",
            id="volume-backups",
        ),
        pytest.param(
            IMAGES,
            "volume.colour=red",
            "inventory class[class org.zstack.header.volume.VolumeInventory] not having field[colour]",
            id="field-of-unstored",
        ),
        pytest.param(
            IMAGES,
            "backupStorage.hostname=192.0.2.10",
            f"inventory class[class {BACKUP_STORAGE_CLASS}] not having field[hostname]",
            id="image-store-field-through-backup-storage",
        ),
        pytest.param(
            IMAGES,
            "foo.bar=1",
            f"invalid nested query condition[] on class {IMAGE},the expanded target[class {IMAGE}] "
            "have no expanded query[foo]",
            id="no-expanded-query",
        ),
        pytest.param(
            IMAGES,
            "foo.bar.baz=1",
            f"invalid nested query condition[bar] on class {IMAGE},the expanded target[class {IMAGE}] "
            "have no expanded query[foo]",
            id="no-expanded-query-names-the-rest",
        ),
        pytest.param(
            IMAGES,
            "name) OR 1=1 --=x",
            f"inventory class[class {IMAGE}] not having field[name) OR 1]",
            id="injection-in-name",
        ),
    ],
)
def test_unknown_condition_name_is_sys_1000(
    client: TestClient, admin: dict[str, str], path: str, condition: str, details: str
) -> None:
    assert sys_1000(client, path, admin, {"q": condition}) == f"{CLOUD_RUNTIME}: {details}"


def test_unknown_names_are_found_in_zstacks_hashset_order(client: TestClient, admin: dict[str, str]) -> None:
    """Conditions reach ZQL through a HashSet of their texts: ``b = '1'`` is met before ``a = '1'``."""
    details = sys_1000(client, IMAGES, admin, {"q": ["a=1", "b=1"]})
    assert details.endswith("not having field[b]"), details


@pytest.mark.parametrize("sort", ["foo", "-foo", "name;DROP TABLE image"])
def test_unknown_sort_key_is_sys_1000(client: TestClient, admin: dict[str, str], sort: str) -> None:
    details = sys_1000(client, IMAGES, admin, {"sort": sort})
    assert details == (
        "org.zstack.zql.ast.visitors.ZQLError: invalid order by clause, "
        f"inventory[ImageInventory] doesn't have field[{sort.lstrip('-')}]"
    )
    assert uuids(client, IMAGES, admin) == ALL_IMAGES


def test_unknown_selected_field_is_sys_1000(client: TestClient, admin: dict[str, str]) -> None:
    """ZQL's message keeps a literal ``${selfInventoryClass}``: it is a Java format string."""
    details = sys_1000(client, IMAGES, admin, {"fields": "uuid,colour"})
    assert details == f"{CLOUD_RUNTIME}: inventory[${{selfInventoryClass}}] has no field[colour]"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param("", "no viable alternative at input 'image.limit' at line 1:13, ry image. limit 100", id="empty"),
        pytest.param(
            " ,name", "no viable alternative at input 'image.,' at line 1:12, ery image.,name limi", id="empty-first"
        ),
        pytest.param(
            "uuid,,name",
            "extraneous input ',' expecting ID at line 1:17, mage.uuid,,name limi",
            id="empty-inside",
        ),
        pytest.param(
            "uuid, , ,name", "missing ID at ',' at line 1:17, mage.uuid,,,name lim", id="two-empty-inside"
        ),
    ],
)
def test_empty_selected_field_is_zqls_syntax_error(
    client: TestClient, admin: dict[str, str], fields: str, message: str
) -> None:
    details = sys_1000(client, IMAGES, admin, {"fields": fields})
    assert details == f"{PARSE_CANCELLATION}: error {message}"


@pytest.mark.parametrize(
    ("params", "details"),
    [
        pytest.param({"limit": "-1"}, "max-results cannot be negative", id="limit"),
        pytest.param({"start": "-5"}, "first-result value cannot be negative : -5", id="start"),
        pytest.param({"limit": "-1", "start": "-5"}, "max-results cannot be negative", id="limit-first"),
        pytest.param({"limit": "-1", "count": "true"}, "max-results cannot be negative", id="count-too"),
    ],
)
def test_negative_paging_is_hibernates_error(
    client: TestClient, admin: dict[str, str], params: dict[str, str], details: str
) -> None:
    assert sys_1000(client, IMAGES, admin, params) == f"java.lang.IllegalArgumentException: {details}"


def test_zql_checks_come_in_its_order(client: TestClient, admin: dict[str, str]) -> None:
    """Fields, then conditions, then the sort key, then paging."""
    everything = {"fields": "colour", "q": "foo=1", "sort": "bar", "limit": "-1"}
    assert sys_1000(client, IMAGES, admin, everything).endswith("has no field[colour]")
    del everything["fields"]
    assert sys_1000(client, IMAGES, admin, everything).endswith("not having field[foo]")
    del everything["q"]
    assert sys_1000(client, IMAGES, admin, everything).endswith("doesn't have field[bar]")
    del everything["sort"]
    assert sys_1000(client, IMAGES, admin, everything).endswith("max-results cannot be negative")


# --- filterName ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["applianceType:vrouter", "applianceType:VirtualRouter"])
def test_filter_name_of_appliance_images_matches_none_here(
    client: TestClient, admin: dict[str, str], name: str
) -> None:
    """The filter keeps images with an ``applianceType::`` system tag; no image here has one."""
    assert uuids(client, IMAGES, admin, {"filterName": name}) == []
    assert get_ok(client, IMAGES, admin, {"filterName": name, "count": "true"})["total"] == 0


def test_empty_filter_name_is_no_filter(client: TestClient, admin: dict[str, str]) -> None:
    assert uuids(client, IMAGES, admin, {"filterName": ""}) == ALL_IMAGES


@pytest.mark.parametrize("name", ["x", "applianceType", "applianceType:", "a::"])
def test_filter_name_without_a_condition_is_sys_1007(client: TestClient, admin: dict[str, str], name: str) -> None:
    assert_zstack_error(
        client.get(IMAGES, headers=admin, params={"filterName": name}),
        "SYS.1007",
        "filterName must be formatted as [filterType:condition(s)]",
    )


def test_filter_name_of_unknown_type_is_sys_1000(client: TestClient, admin: dict[str, str]) -> None:
    details = sys_1000(client, IMAGES, admin, {"filterName": "owner:alice"})
    assert details == f"{CLOUD_RUNTIME}: unable to find QueryBelongFilter with type[owner:alice]"


def test_filter_name_of_unknown_appliance_type_is_sys_1007(client: TestClient, admin: dict[str, str]) -> None:
    assert_zstack_error(
        client.get(IMAGES, headers=admin, params={"filterName": "applianceType:SLB"}),
        "SYS.1007",
        "invalid ApplianceVmType SLB",
    )


# --- the schema of a field query ---------------------------------------------------------------------


def test_field_query_schema_names_the_querys_own_class(client: TestClient, admin: dict[str, str]) -> None:
    selected = get_ok(client, BACKUP_STORAGE, admin, {"fields": "uuid"})
    assert selected["inventories"] == [{"uuid": uuid} for uuid in ALL_STORAGES]
    assert set(selected["schema"].values()) == {BACKUP_STORAGE_CLASS}

    whole = get_ok(client, BACKUP_STORAGE, admin)
    assert set(whole["schema"].values()) == {STORAGE_CLASS}

    narrowed = get_ok(client, BACKUP_STORAGE, admin, {"fields": "uuid,hostname", "q": "type=ImageStoreBackupStorage"})
    assert set(narrowed["schema"].values()) == {STORAGE_CLASS}
    assert get_ok(client, IMAGE_STORE, admin, {"fields": "uuid"})["schema"]["inventories[0]"] == STORAGE_CLASS


def test_zone_conditions_are_refused_clearly(client: TestClient, admin: dict[str, str]) -> None:
    for condition in ("zone.uuid=z", "zoneRef.zoneUuid=z", "attachedZoneUuids=z"):
        error = assert_zstack_error(client.get(BACKUP_STORAGE, headers=admin, params={"q": condition}), "SYS.1007")
        assert "zstack-mock cannot query this" in error["details"], error["details"]

