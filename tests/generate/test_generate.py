"""zstack-mock generate: reproducible, per-index stable, valid, and servable inventories."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.seeding.fixtures import apply_fixtures, fixture_records, load_fixtures
from app.seeding.generate import GenerateSpec, generate_document, write_document
from app.seeding.startup import open_store
from app.store.records import Account, BackupStorage, Image, VolumeBackup
from tests.helpers import create, login


def _bytes(spec: GenerateSpec) -> bytes:
    return orjson.dumps(generate_document(spec))


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not() -> None:
    spec = GenerateSpec(images=60, backups=60, seed=7)
    assert _bytes(spec) == _bytes(spec)
    assert _bytes(spec) != _bytes(GenerateSpec(images=60, backups=60, seed=8))


def test_a_larger_generation_starts_with_the_smaller_one() -> None:
    small = generate_document(GenerateSpec(images=40, backups=40, tags=3, seed=3))
    large = generate_document(GenerateSpec(images=400, backups=400, tags=30, seed=3))
    for section in ("images", "volumeBackups", "tags", "accounts", "backupStorages"):
        assert large[section][: len(small[section])] == small[section], section


def test_generated_document_passes_the_fixture_validation_with_the_asked_counts() -> None:
    spec = GenerateSpec(accounts=4, backup_storages=5, backups=300, images=250, tags=7, seed=11)
    records = fixture_records(generate_document(spec), source="generated")
    counts = {kind: sum(isinstance(r, kind) for r in records) for kind in (Account, BackupStorage, VolumeBackup, Image)}
    assert counts == {Account: 4, BackupStorage: 5, VolumeBackup: 300, Image: 250}


def test_generated_mix_is_realistic() -> None:
    document = generate_document(GenerateSpec(images=500, backups=500, backup_storages=20, seed=5))
    statuses = {b["status"] for b in document["volumeBackups"]}
    platforms = {i["platform"] for i in document["images"]}
    assert {"Ready", "Creating"} <= statuses
    assert {"Linux", "WindowsVirtio"} <= platforms
    assert any("metadata" not in b for b in document["volumeBackups"])
    assert {s["status"] for s in document["backupStorages"]} >= {"Connected", "Disconnected"}
    assert len({i["createDate"] for i in document["images"]}) > 400
    assert document["accounts"][0]["name"] == "admin"


def test_admin_logs_in_and_creates_from_a_generated_backup(
    make_app: Callable[..., FastAPI], database_url: str
) -> None:
    document = generate_document(GenerateSpec(images=30, backups=30, seed=2))
    store = open_store(database_url, reset=True)
    apply_fixtures(store, fixture_records(document, source="generated"), source="generated")
    store.close()
    storages = {s["uuid"]: s for s in document["backupStorages"]}
    backup, storage = next(
        (b, ref["backupStorageUuid"])
        for b in document["volumeBackups"]
        for ref in b["backupStorageRefs"]
        if b["owner"] == "admin"
        and storages[ref["backupStorageUuid"]]["state"] == "Enabled"
        and storages[ref["backupStorageUuid"]]["status"] == "Connected"
    )
    with TestClient(make_app()) as client:
        session = login(client)
        response = create(client, session, backup["uuid"], backupStorageUuid=storage)
        assert response.status_code == 200, response.text
        listed = client.get("/zstack/v1/images?count=true", headers={"Authorization": f"OAuth {session}"})
        assert listed.json()["total"] == 31


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_written_files_load_through_the_fixtures_path(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"generated{suffix}"
    write_document(generate_document(GenerateSpec(images=20, backups=20, seed=1)), path)
    assert sum(isinstance(r, Image) for r in load_fixtures(path)) == 20


def test_cli_writes_a_file_and_rejects_a_missing_target(tmp_path: Path) -> None:
    out = tmp_path / "g.yaml"
    command = [sys.executable, "-m", "app", "generate", "--images", "20", "--backups", "20", "--seed", "7"]
    done = subprocess.run([*command, "--output", str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert sum(isinstance(r, VolumeBackup) for r in load_fixtures(out)) == 20

    missing = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2
    assert "one of the arguments --output --database-url is required" in missing.stderr

    negative = subprocess.run([*command[:5], "-1", "--output", str(out)], capture_output=True, text=True, timeout=60)
    assert negative.returncode == 2
    assert "--images must not be negative" in negative.stderr
    assert "Traceback" not in negative.stderr
