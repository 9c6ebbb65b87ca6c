"""zstack-mock generate: reproducible, per-index stable, realistic, valid and servable inventories."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.seeding.fixtures import apply_fixtures, fixture_records, load_fixtures
from app.seeding.generate import EPOCH, GenerateSpec, generate_document, write_document
from app.seeding.startup import open_store
from app.store.records import (
    Account,
    BackupStorage,
    Image,
    ImageBackupStorageRef,
    TagPattern,
    VolumeBackup,
    VolumeBackupStorageRef,
)
from tests.helpers import ALICE_UUID, BOB_UUID, auth, create, login

UUID = re.compile(r"^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$")
SECTIONS = ("accounts", "backupStorages", "volumeBackups", "tags", "images")


def _bytes(spec: GenerateSpec) -> bytes:
    return orjson.dumps(generate_document(spec))


def _load(database_url: str, document: dict[str, Any]) -> None:
    store = open_store(database_url, reset=True)
    try:
        apply_fixtures(store, fixture_records(document, source="generated"), source="generated")
    finally:
        store.close()


def _usable_backup(document: dict[str, Any], owner: str = "admin") -> tuple[dict[str, Any], str]:
    """A Ready backup of ``owner`` and an Enabled, Connected storage that holds it."""
    storages = {s["uuid"]: s for s in document["backupStorages"]}
    return next(
        (backup, ref["backupStorageUuid"])
        for backup in document["volumeBackups"]
        for ref in backup["backupStorageRefs"]
        if backup["owner"] == owner and backup["status"] == "Ready" and ref["status"] == "Ready"
        and (storages[ref["backupStorageUuid"]]["state"], storages[ref["backupStorageUuid"]]["status"])
        == ("Enabled", "Connected")
    )


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    spec = GenerateSpec(images=60, backups=60, seed=7)
    assert _bytes(spec) == _bytes(spec)
    assert _bytes(spec) != _bytes(GenerateSpec(images=60, backups=60, seed=8))
    write_document(generate_document(spec), tmp_path / "a.yaml")
    write_document(generate_document(spec), tmp_path / "b.yaml")
    assert (tmp_path / "a.yaml").read_bytes() == (tmp_path / "b.yaml").read_bytes()


def test_a_larger_generation_starts_with_the_smaller_one() -> None:
    small = generate_document(GenerateSpec(images=40, backups=50, tags=3, seed=3))
    large = generate_document(GenerateSpec(images=500, backups=400, tags=30, seed=3))
    for section in SECTIONS:
        assert large[section][: len(small[section])] == small[section], section


def test_one_kind_does_not_depend_on_the_count_of_another() -> None:
    few = generate_document(GenerateSpec(images=30, backups=30, tags=2, seed=9))
    many = generate_document(GenerateSpec(images=30, backups=300, tags=20, seed=9))
    assert few["images"] == many["images"]
    assert few["volumeBackups"] == many["volumeBackups"][:30]


def test_generated_document_passes_the_fixture_validation_with_the_asked_counts() -> None:
    spec = GenerateSpec(accounts=4, backup_storages=5, backups=300, images=250, tags=7, seed=11)
    records = fixture_records(generate_document(spec), source="generated")
    kinds = (Account, BackupStorage, VolumeBackup, TagPattern, Image, ImageBackupStorageRef)
    counts = {kind: sum(isinstance(r, kind) for r in records) for kind in kinds}
    assert counts == {Account: 4, BackupStorage: 5, VolumeBackup: 300, TagPattern: 7, Image: 250,
                      ImageBackupStorageRef: 250}
    assert 300 < sum(isinstance(r, VolumeBackupStorageRef) for r in records) <= 600


def test_include_defaults_adds_alice_and_bob_and_changes_nothing_else() -> None:
    plain = generate_document(GenerateSpec(seed=4))
    with_defaults = generate_document(GenerateSpec(seed=4, include_defaults=True))
    added = with_defaults["accounts"][len(plain["accounts"]):]
    assert [(a["name"], a["uuid"]) for a in added] == [("alice", ALICE_UUID), ("bob", BOB_UUID)]
    assert with_defaults["accounts"][: len(plain["accounts"])] == plain["accounts"]
    assert {k: v for k, v in with_defaults.items() if k != "accounts"} == {
        k: v for k, v in plain.items() if k != "accounts"
    }


@pytest.mark.parametrize("field", ["accounts", "backup_storages", "backups", "images", "tags"])
def test_counts_out_of_range_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match=f"--{field.replace('_', '-')} must"):
        generate_document(GenerateSpec(**{field: -1}))


def test_generated_values_are_consistent() -> None:
    document = generate_document(GenerateSpec(images=400, backups=400, backup_storages=6, seed=5))
    uuids = [e["uuid"] for section in SECTIONS for e in document[section]]
    assert all(UUID.match(u) for u in uuids[1:])  # [0] is the admin of a real install
    assert len(set(uuids)) == len(uuids)
    entries = [e for section in SECTIONS for e in document[section]]
    assert all(EPOCH - timedelta(days=731) <= e["createDate"] <= EPOCH for e in entries)
    assert all(e["createDate"].tzinfo is UTC for e in entries)
    for backup in document["volumeBackups"]:
        assert (backup["status"] == "Ready") or backup["state"] == "Disabled", backup
        assert 1 <= backup["size"] // 1024**3 <= 500
        assert 1 <= len(backup["backupStorageRefs"]) <= 2
        assert all(re.fullmatch(r"zstore://volume-backups/[0-9a-f]{32}", r["installPath"])
                   for r in backup["backupStorageRefs"])
        metadata = backup.get("metadata")
        if metadata is not None:
            assert metadata["platform"].startswith("Windows") == metadata["guestOsType"].startswith("Windows")
            assert metadata["virtio"] is (metadata["platform"] not in ("Windows", "Other"))
            assert UUID.match(metadata["clusterUuid"])
    for image in document["images"]:
        assert image["actualSize"] <= image["size"]
        assert (image["format"] == "iso") is (image["mediaType"] == "ISO")
        assert re.fullmatch(r"[0-9a-f]{32}", image["md5Sum"])
        [ref] = image["backupStorageRefs"]
        assert re.fullmatch(rf"zstore://{image['uuid']}/[0-9a-f]{{32}}", ref["installPath"])


def test_generated_mix_looks_like_a_real_cloud() -> None:
    document = generate_document(GenerateSpec(images=500, backups=500, accounts=5, backup_storages=30, seed=5))
    backups, images = document["volumeBackups"], document["images"]

    def share(entries: list[dict[str, Any]], key: str, value: Any) -> float:
        return sum(e.get(key) == value for e in entries) / len(entries)

    assert share(backups, "status", "Ready") > 0.7
    assert {b["status"] for b in backups} == {"Ready", "Creating", "Deleted"}
    assert {b["type"] for b in backups} == {"Root", "Data"}
    assert {b["mode"] for b in backups} == {"full", "incremental", "auto"}
    assert 0.05 < share(backups, "metadata", None) < 0.3
    platforms = [b["metadata"]["platform"] for b in backups if "metadata" in b]
    assert platforms.count("Linux") > len(platforms) / 2
    assert {"Windows", "WindowsVirtio", "Other", "Paravirtualization"} <= set(platforms)
    assert share(images, "mediaType", "RootVolumeTemplate") > 0.6
    assert {i["mediaType"] for i in images} == {"RootVolumeTemplate", "DataVolumeTemplate", "ISO"}
    assert {i["status"] for i in images} == {"Ready", "Downloading", "Error"}
    assert share(images, "architecture", "x86_64") > 0.7
    assert "aarch64" in {i["architecture"] for i in images}
    assert 0.3 < share(images, "owner", "admin") < 0.7
    assert len({i["owner"] for i in images}) == 5
    storages = document["backupStorages"]
    assert storages[0]["state"] == "Enabled" and storages[0]["status"] == "Connected"
    assert {(s["state"], s["status"]) for s in storages} >= {("Enabled", "Connected"), ("Disabled", "Connected")}
    assert {s["status"] for s in storages} >= {"Connected", "Disconnected"}
    assert len({i["createDate"] for i in images}) > 490
    assert len({i["name"] for i in images}) == 500


def test_admin_logs_in_and_creates_from_a_generated_backup(
    make_app: Callable[..., FastAPI], database_url: str
) -> None:
    document = generate_document(GenerateSpec(images=30, backups=30, seed=2))
    _load(database_url, document)
    backup, storage = _usable_backup(document)
    with TestClient(make_app()) as client:
        session = login(client, "admin", "password")
        response = create(client, session, backup["uuid"], backupStorageUuid=storage)
        assert response.status_code == 200, response.text
        assert response.json()["inventory"]["backupStorageRefs"][0]["backupStorageUuid"] == storage
        listed = client.get("/zstack/v1/images?count=true", headers=auth(session))
        assert listed.json()["total"] == 31


def test_generated_and_default_accounts_log_in(make_app: Callable[..., FastAPI], database_url: str) -> None:
    document = generate_document(GenerateSpec(accounts=3, seed=6, include_defaults=True))
    _load(database_url, document)
    with TestClient(make_app()) as client:
        login(client, document["accounts"][2]["name"], "password-2")
        login(client, "alice")
        login(client, "bob")


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_written_files_load_through_the_fixtures_path(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"generated{suffix}"
    spec = GenerateSpec(images=20, backups=20, seed=1)
    write_document(generate_document(spec), path)
    records = load_fixtures(path)
    assert sum(isinstance(r, Image) for r in records) == 20
    assert records == fixture_records(generate_document(spec), source="generated")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "generate", *args], capture_output=True, text=True, timeout=120)


def test_cli_writes_a_file_that_loads(tmp_path: Path) -> None:
    out = tmp_path / "g.yaml"
    done = _cli("--images", "20", "--backups", "20", "--seed", "7", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert "20 volume backups" in done.stdout and "20 images" in done.stdout
    assert sum(isinstance(r, VolumeBackup) for r in load_fixtures(out)) == 20


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--images", "20"], "give exactly one of --output FILE and --database-url URL"),
        (["--output", "{tmp}/g.yaml", "--database-url", "sqlite:///{tmp}/g.db"], "give exactly one of"),
        (["--images", "-1", "--output", "{tmp}/g.yaml"], "--images must not be negative"),
        (["--output", "{tmp}/missing/g.yaml"], "cannot write {tmp}/missing/g.yaml: No such file or directory"),
        (["--database-url", "sqlite://"], "sqlite:// is an in-memory database"),
    ],
)
def test_cli_refuses_bad_arguments_in_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    done = _cli(*(a.format(tmp=tmp_path) for a in args))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("zstack-mock generate: ")
    assert message.format(tmp=tmp_path) in done.stderr


def test_cli_uses_two_processes_for_large_inventories_with_the_same_result(tmp_path: Path) -> None:
    # 5,000 images is where the images move to a second process, for a file and for a database.
    spec = GenerateSpec(images=5000, backups=50, tags=2, seed=12)
    args = ["--images", "5000", "--backups", "50", "--tags", "2", "--seed", "12"]
    assert _cli(*args, "--output", str(tmp_path / "cli.yaml")).returncode == 0
    write_document(generate_document(spec), tmp_path / "one.yaml")
    assert (tmp_path / "cli.yaml").read_bytes() == (tmp_path / "one.yaml").read_bytes()

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert _cli(*args, "--database-url", url).returncode == 0
    expected = fixture_records(generate_document(spec), source="generated")
    store = open_store(url)
    try:
        for kind in (Account, VolumeBackup, Image):
            loaded = sorted(store.find(kind), key=lambda r: r.uuid)
            assert loaded == sorted((r for r in expected if isinstance(r, kind)), key=lambda r: r.uuid), kind
    finally:
        store.close()
