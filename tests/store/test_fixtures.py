"""Fixture files: validated whole, loaded in one transaction, errors that name file, entry and field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.fixture_files import default_fixtures_path
from app.seeding.fixtures import FixtureError, load_fixtures
from tests.helpers import create, login


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "fixtures.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _default_document() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(default_fixtures_path().read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_default_fixtures_load() -> None:
    records = load_fixtures(default_fixtures_path())
    assert len(records) > 10


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["volumeBackups"][1].update(size="big"),
            "volumeBackups[1] (uuid 0e6c5f0aa6b547c1ae83dd0cbb3a6a5a): field 'size': Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            lambda d: d["backupStorages"][0].update(state="Broken"),
            "backupStorages[0] (uuid 4ed18086e5593b86932436d02f575213): field 'state': Input should be 'Enabled' or 'Disabled'",
        ),
        (
            lambda d: d["images"][0].update(owner="nobody"),
            "images[0] (uuid 74b721499872407893b890a9df8e912e): field 'owner': no account named 'nobody' in 'accounts'",
        ),
        (
            lambda d: d["volumeBackups"][0]["backupStorageRefs"][0].update(backupStorageUuid="0" * 32),
            "volumeBackups[0] (uuid b67eee0a52b04816906cdf207adb00c0): field 'backupStorageRefs.0.backupStorageUuid': "
            "no backup storage 00000000000000000000000000000000 in 'backupStorages'",
        ),
        (
            lambda d: d["tags"][0].update(uuid=d["images"][0]["uuid"]),
            "images[0] (uuid 74b721499872407893b890a9df8e912e): field 'uuid': already used by tags[0]",
        ),
        (
            lambda d: d["accounts"][1].update(colour="blue"),
            "accounts[1] (uuid a2536f110d5343a6b12eff3d815c695f): field 'colour': Extra inputs are not permitted",
        ),
        (
            lambda d: d.update(vms=[]),
            "unknown section(s) ['vms']; known sections are ['accounts', 'backupStorages', 'images', 'tags', "
            "'volumeBackups']",
        ),
    ],
)
def test_invalid_fixtures_name_the_file_entry_and_field(tmp_path: Path, mutate: Callable, message: str) -> None:  # type: ignore[type-arg]
    document = _default_document()
    mutate(document)
    path = _write(tmp_path, document)
    with pytest.raises(FixtureError) as raised:
        load_fixtures(path)
    assert str(raised.value) == f"{path}: {message}"


def test_not_yaml_is_a_fixture_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("accounts: [\n", encoding="utf-8")
    with pytest.raises(FixtureError, match=r"broken\.yaml: not valid YAML"):
        load_fixtures(path)


def test_missing_file_is_a_fixture_error(tmp_path: Path) -> None:
    with pytest.raises(FixtureError, match="cannot read the fixtures file"):
        load_fixtures(tmp_path / "absent.yaml")


def test_failed_reset_leaves_the_database_as_it_was(make_app: Callable[..., FastAPI], tmp_path: Path) -> None:
    with TestClient(make_app()) as client:
        session = login(client)
        image = create(client, session, resourceUuid="5f2b6c1e9a8d4e7fb3c2a1d0e9f8a7b6").json()["inventory"]
    document = _default_document()
    document["images"][0]["size"] = -1
    with pytest.raises(FixtureError):
        make_app(fixtures=_write(tmp_path, document), reset=True)
    with TestClient(make_app()) as client:
        # The session and the image made before the failed reset are still there.
        response = create(client, session, resourceUuid=image["uuid"])
        assert response.json()["error"]["code"] == "SYS.1000"


def test_reset_reloads_the_fixtures_and_forgets_sessions(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app()) as client:
        session = login(client)
    with TestClient(make_app(reset=True)) as client:
        assert client.get(f"/zstack/v1/accounts/sessions/{session}/valid").json() == {"valid": False}


def test_custom_fixtures_file_is_served(make_app: Callable[..., FastAPI], tmp_path: Path) -> None:
    document = _default_document()
    document["accounts"][0]["password"] = "s3cret"
    with TestClient(make_app(fixtures=_write(tmp_path, document))) as client:
        login(client, "admin", "s3cret")
