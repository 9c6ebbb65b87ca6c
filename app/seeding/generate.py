"""Generated inventories: realistic, reproducible fixtures documents of any size.

Every resource is drawn from its own random generator, seeded by ``(seed, kind, index)``, so its
values depend only on the seed and its index (and on how many accounts and backup storages there
are to point at): generating 1,000 or 100,000 images gives the same first 1,000. Names and
descriptions come from word pools that Faker fills once per seed, not from a Faker call per
resource, which would cost a second per ten thousand resources.

The result is a fixtures document, the same shape as ``fixtures/default.yaml``, and it is loaded
through the same validated path (``fixture_records``).
"""

from __future__ import annotations

import bisect
import multiprocessing
import random
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from pathlib import Path
from typing import Any

import orjson
import yaml
from faker import Faker

from app.seeding.fixtures import FixtureError, fixture_records
from app.store.records import Image, ImageBackupStorageRef, Record

ADMIN_UUID = "36c27e8ff05c4780bf6d2fa65700f22e"
#: Generated dates fall in the two years before this moment, so output never depends on "now".
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_SPAN_SECONDS = 2 * 365 * 24 * 3600
_GIB = 1024**3


class _Weighted:
    """Options drawn in proportion to their weights."""

    def __init__(self, *options: tuple[Any, int]) -> None:
        self.values = [value for value, _ in options]
        total = sum(weight for _, weight in options)
        running, self.bounds = 0, []
        for _, weight in options:
            running += weight
            self.bounds.append(running / total)

    def draw(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.bounds, rng.random())]


_OPERATING_SYSTEMS: tuple[tuple[str, str, int], ...] = (
    # (platform, guestOsType, weight): Linux dominates, as on most clouds.
    ("Linux", "CentOS 7", 20),
    ("Linux", "Rocky Linux 9", 10),
    ("Linux", "Ubuntu 22.04", 20),
    ("Linux", "Ubuntu 20.04", 10),
    ("Linux", "Debian 12", 8),
    ("Linux", "Kylin V10", 4),
    ("Windows", "Windows Server 2016", 4),
    ("WindowsVirtio", "Windows Server 2019", 8),
    ("WindowsVirtio", "Windows Server 2022", 6),
    ("Other", "FreeBSD 13", 2),
    ("Paravirtualization", "openSUSE 15", 2),
)
_OS = _Weighted(*(((platform, guest_os), weight) for platform, guest_os, weight in _OPERATING_SYSTEMS))
_ARCHITECTURE = _Weighted(("x86_64", 85), ("aarch64", 13), ("loongarch64", 2))
_STORAGE_CONDITION = _Weighted(
    (("Enabled", "Connected"), 80), (("Disabled", "Connected"), 10),
    (("Enabled", "Disconnected"), 7), (("Enabled", "Connecting"), 3),
)
_BACKUP_STATUS = _Weighted(("Ready", 85), ("Creating", 10), ("Deleted", 5))
_BACKUP_MODE = _Weighted(("full", 45), ("incremental", 45), ("auto", 10))
_MEDIA_TYPE = _Weighted(("RootVolumeTemplate", 80), ("DataVolumeTemplate", 12), ("ISO", 8))
_IMAGE_STATUS = _Weighted(("Ready", 92), ("Downloading", 4), ("Error", 4))


@dataclass(frozen=True, slots=True)
class GenerateSpec:
    accounts: int = 3
    backup_storages: int = 3
    backups: int = 100
    images: int = 100
    tags: int = 5
    seed: int = 0


class _Pools:
    """Words and phrases from Faker, drawn once per seed."""

    def __init__(self, seed: int) -> None:
        fake = Faker()
        fake.seed_instance(seed)
        self.words = sorted({fake.word().lower() for _ in range(400)})
        self.names = sorted({fake.first_name().lower() for _ in range(200)})
        self.phrases = [fake.sentence(nb_words=8).rstrip(".") for _ in range(200)]
        self.colors = [fake.hex_color() for _ in range(40)]
        self.clusters = [_uuid(_rng(seed, "cluster", i)) for i in range(4)]
        self.zones = [_uuid(_rng(seed, "zone", i)) for i in range(3)]


def _rng(seed: int, kind: str, index: int) -> random.Random:
    return random.Random(f"{seed}:{kind}:{index}")


# randrange() and choice() cost a few Python calls each; generating 200,000 resources makes ~40 draws
# per resource, so these work from one random() call apiece.
def _pick(rng: random.Random, options: Sequence[Any]) -> Any:
    return options[int(rng.random() * len(options))]


def _between(rng: random.Random, low: int, high: int) -> int:
    """An integer in [low, high)."""
    return low + int(rng.random() * (high - low))


def _uuid(rng: random.Random) -> str:
    raw = bytearray(rng.getrandbits(128).to_bytes(16, "big"))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return raw.hex()


def _date(rng: random.Random) -> datetime:
    return EPOCH - timedelta(seconds=_between(rng, 0, _SPAN_SECONDS))




def generate_document(spec: GenerateSpec) -> dict[str, list[dict[str, Any]]]:
    """A fixtures document holding ``spec``'s counts of each resource."""
    for name in ("accounts", "backup_storages"):
        if getattr(spec, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("backups", "images", "tags"):
        if getattr(spec, name) < 0:
            raise ValueError(f"--{name} must not be negative")
    pools = _Pools(spec.seed)
    accounts = [_account(spec, pools, i) for i in range(spec.accounts)]
    storages = [_backup_storage(spec, pools, i) for i in range(spec.backup_storages)]
    owner_names = [a["name"] for a in accounts]
    storage_uuids = [s["uuid"] for s in storages]
    return {
        "accounts": accounts,
        "backupStorages": storages,
        "volumeBackups": [_backup(spec, pools, i, owner_names, storage_uuids) for i in range(spec.backups)],
        "tags": [_tag(spec, pools, i, owner_names) for i in range(spec.tags)],
        "images": [_image(spec, pools, i, owner_names, storage_uuids) for i in range(spec.images)],
    }


def generate_records(spec: GenerateSpec) -> list[Record]:
    """Generate and validate ``spec``'s inventory as records, using both cores of the machine.

    A second process generates and validates the images while this one does everything else; each
    half goes through ``fixture_records`` with the accounts and storages it refers to, and the UUIDs
    of the two halves are then checked against each other, so the result is what validating the
    whole document at once would give.
    """
    source = f"generated (seed {spec.seed})"
    if spec.images < 1000:
        return fixture_records(generate_document(spec), source=source)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        images = pool.submit(_image_rows, spec, source)
        rest = fixture_records(generate_document(replace(spec, images=0)), source=source)
        image_rows, ref_rows = images.result()
    image_records: list[Record] = [Image(*row) for row in image_rows]
    image_records += [ImageBackupStorageRef(*row) for row in ref_rows]
    seen = {record.uuid for record in rest if hasattr(record, "uuid")}
    for record in image_records:
        if isinstance(record, Image) and record.uuid in seen:
            raise FixtureError(f"{source}: images: uuid {record.uuid} is used twice")
    return rest + image_records


_Rows = list[tuple[Any, ...]]


def _image_rows(spec: GenerateSpec, source: str) -> tuple[_Rows, _Rows]:
    """The images half, as plain tuples: pickling them costs a fifth of pickling the dataclasses."""
    document = generate_document(replace(spec, backups=0, tags=0))
    records = fixture_records(document, source=source)
    image_fields = attrgetter(*(f.name for f in fields(Image)))
    ref_fields = attrgetter(*(f.name for f in fields(ImageBackupStorageRef)))
    images = [image_fields(r) for r in records if isinstance(r, Image)]
    refs = [ref_fields(r) for r in records if isinstance(r, ImageBackupStorageRef)]
    return images, refs


def _account(spec: GenerateSpec, pools: _Pools, index: int) -> dict[str, Any]:
    if index == 0:
        return {"uuid": ADMIN_UUID, "name": "admin", "password": "password", "type": "SystemAdmin",
                "createDate": EPOCH - timedelta(seconds=_SPAN_SECONDS)}
    rng = _rng(spec.seed, "account", index)
    return {
        "uuid": _uuid(rng),
        "name": f"{_pick(rng, pools.names)}-{index}",
        "password": f"password-{index}",
        "type": "Normal",
        "description": _pick(rng, pools.phrases),
        "createDate": _date(rng),
    }


def _backup_storage(spec: GenerateSpec, pools: _Pools, index: int) -> dict[str, Any]:
    rng = _rng(spec.seed, "backupStorage", index)
    state, status = ("Enabled", "Connected") if index == 0 else _STORAGE_CONDITION.draw(rng)
    total = _between(rng, 2, 64) * 1024 * _GIB
    return {
        "uuid": _uuid(rng),
        "name": f"imagestore-{_pick(rng, pools.words)}-{index}",
        "description": _pick(rng, pools.phrases),
        "hostname": f"192.0.2.{index % 254 + 1}",
        "url": "/zstack_bs",
        "state": state,
        "status": status,
        "totalCapacity": total,
        "availableCapacity": _between(rng, total // 20, total),
        "attachedZoneUuids": [_pick(rng, pools.zones)],
        "createDate": _date(rng),
    }


def _owner(rng: random.Random, owner_names: list[str]) -> str:
    # Half of everything belongs to admin, the rest is spread over the tenants.
    if len(owner_names) == 1 or rng.random() < 0.5:
        return owner_names[0]
    return owner_names[rng.randrange(1, len(owner_names))]


def _operating_system(rng: random.Random) -> tuple[str, str, str]:
    platform, guest_os = _OS.draw(rng)
    architecture = _ARCHITECTURE.draw(rng) if platform == "Linux" else "x86_64"
    return platform, guest_os, architecture


def _blob(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _backup(
    spec: GenerateSpec, pools: _Pools, index: int, owner_names: list[str], storage_uuids: list[str]
) -> dict[str, Any]:
    rng = _rng(spec.seed, "volumeBackup", index)
    uuid = _uuid(rng)
    created = _date(rng)
    status = _BACKUP_STATUS.draw(rng)
    platform, guest_os, architecture = _operating_system(rng)
    volume_type = "Root" if rng.random() < 0.8 else "Data"
    entry: dict[str, Any] = {
        "uuid": uuid,
        "name": f"{_pick(rng, pools.words)}-{_pick(rng, pools.words)}-{volume_type.lower()}-backup-{index}",
        "description": _pick(rng, pools.phrases),
        "volumeUuid": _uuid(rng),
        "vmInstanceUuid": _uuid(rng),
        "type": volume_type,
        "mode": _BACKUP_MODE.draw(rng),
        "state": "Enabled" if status == "Ready" else "Disabled",
        "status": status,
        "size": _between(rng, 1, 500) * _GIB,
        "hypervisorType": "KVM",
        "owner": _owner(rng, owner_names),
        "createDate": created,
        "lastOpDate": created + timedelta(seconds=_between(rng, 0, 3600)),
    }
    if rng.random() < 0.85:
        entry["metadata"] = {
            "platform": platform,
            "guestOsType": guest_os,
            "architecture": architecture,
            "virtio": platform != "Windows",
            "clusterUuid": _pick(rng, pools.clusters),
            "vmSystemTags": ["qemuga"] if rng.random() < 0.3 else [],
        }
    blob = _blob(rng)
    copies = 1 if len(storage_uuids) == 1 or rng.random() < 0.7 else 2
    entry["backupStorageRefs"] = [
        {"backupStorageUuid": bs, "installPath": f"zstore://volume-backups/{blob}",
         "status": "Ready" if status == "Ready" else "Creating"}
        for bs in rng.sample(storage_uuids, copies)
    ]
    return entry


def _tag(spec: GenerateSpec, pools: _Pools, index: int, owner_names: list[str]) -> dict[str, Any]:
    rng = _rng(spec.seed, "tag", index)
    name = f"{_pick(rng, pools.words)}-{index}"
    return {
        "uuid": _uuid(rng),
        "name": name,
        "value": name,
        "color": _pick(rng, pools.colors),
        "owner": _owner(rng, owner_names),
        "createDate": _date(rng),
    }


def _image(
    spec: GenerateSpec, pools: _Pools, index: int, owner_names: list[str], storage_uuids: list[str]
) -> dict[str, Any]:
    rng = _rng(spec.seed, "image", index)
    uuid = _uuid(rng)
    created = _date(rng)
    media_type = _MEDIA_TYPE.draw(rng)
    platform, guest_os, architecture = _operating_system(rng)
    size = _between(rng, 1, 200) * _GIB
    status = _IMAGE_STATUS.draw(rng)
    return {
        "uuid": uuid,
        "name": f"{guest_os.lower().replace(' ', '-')}-{_pick(rng, pools.words)}-{index}",
        "description": _pick(rng, pools.phrases),
        "state": "Enabled" if rng.random() < 0.95 else "Disabled",
        "status": status,
        "size": size,
        "actualSize": _between(rng, size // 20, size + 1),
        "md5Sum": _blob(rng),
        "mediaType": media_type,
        "guestOsType": guest_os,
        "platform": platform,
        "architecture": architecture,
        "format": "iso" if media_type == "ISO" else "qcow2",
        "system": rng.random() < 0.05,
        "virtio": platform not in ("Windows", "Other"),
        "owner": _owner(rng, owner_names),
        "createDate": created,
        "lastOpDate": created + timedelta(seconds=_between(rng, 0, 86400)),
        "backupStorageRefs": [
            {"backupStorageUuid": _pick(rng, storage_uuids), "installPath": f"zstore://{uuid}/{_blob(rng)}",
             "status": status}
        ],
    }


def write_document(document: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """Write a fixtures file: JSON for a ``.json`` path, YAML otherwise (libyaml's dumper if present)."""
    if path.suffix == ".json":
        path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
        return
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    with path.open("w", encoding="utf-8") as stream:
        yaml.dump(document, stream, Dumper=dumper, sort_keys=False, allow_unicode=True)
