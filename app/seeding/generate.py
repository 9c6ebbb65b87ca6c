"""Generated inventories: realistic, reproducible fixtures documents of any size.

Every resource is drawn from its own random generator, seeded by ``(seed, kind, index)``, so its
values depend only on the seed and its index (and on how many accounts and backup storages there
are to point at): generating 1,000 or 100,000 images gives the same first 1,000. Names and
descriptions come from pools that Faker fills once per seed; a Faker call per resource would cost
about a second per ten thousand resources.

The result is a fixtures document, the same shape as ``fixtures/default.yaml``, and it is loaded
through the same validated path (``fixture_records``).
"""

from __future__ import annotations

import multiprocessing
import random
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from pathlib import Path
from typing import Any

import orjson
import yaml
from faker import Faker

from ..fixture_files import default_fixtures_path
from ..store.records import Image, ImageBackupStorageRef, Record
from .fixtures import FixtureError, fixture_records

try:
    from yaml import CSafeDumper as _BaseDumper
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]

__all__ = [
    "ADMIN_UUID", "EPOCH", "GenerateSpec", "generate_document", "generate_records", "write_document", "write_generated",
]

#: The admin account of the default fixtures (and of a real ZStack install).
ADMIN_UUID = "36c27e8ff05c4780bf6d2fa65700f22e"
#: Generated dates fall in the two years before this moment, so output never depends on "now".
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_SPAN_SECONDS = 2 * 365 * 24 * 3600
_GIB = 1024**3
#: Below this many images one process does it all; above it, a second one does the images.
_PARALLEL_FROM = 5000

Document = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class GenerateSpec:
    """How much to generate. ``accounts`` counts admin; ``include_defaults`` adds alice and bob."""

    accounts: int = 3
    backup_storages: int = 3
    backups: int = 100
    images: int = 100
    tags: int = 5
    seed: int = 0
    include_defaults: bool = False

    def check(self) -> None:
        """Raise ``ValueError`` naming the option (as on the command line) that is out of range."""
        for name in ("accounts", "backup_storages"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
        for name in ("backups", "images", "tags"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{name} must not be negative")


def _table(*options: tuple[Any, int]) -> tuple[Any, ...]:
    """Options repeated by weight: ``table[int(random() * len(table))]`` draws in proportion."""
    return tuple(value for value, weight in options for _ in range(weight))


# (platform, guestOsType): Linux dominates, as on most clouds.
_OPERATING_SYSTEMS = _table(
    (("Linux", "CentOS 7"), 18), (("Linux", "Rocky Linux 9"), 10), (("Linux", "Ubuntu 22.04"), 18),
    (("Linux", "Ubuntu 20.04"), 10), (("Linux", "Debian 12"), 8), (("Linux", "Kylin V10"), 4),
    (("Linux", "openEuler 22.03"), 3), (("Windows", "Windows Server 2016"), 4),
    (("WindowsVirtio", "Windows Server 2019"), 10), (("WindowsVirtio", "Windows Server 2022"), 8),
    (("Windows", "Windows 10"), 2), (("Other", "FreeBSD 13"), 3), (("Paravirtualization", "openSUSE 15"), 2),
)
_ARCHITECTURES = _table(("x86_64", 85), ("aarch64", 13), ("loongarch64", 2))
_STORAGE_CONDITIONS = _table(
    (("Enabled", "Connected"), 80), (("Disabled", "Connected"), 10),
    (("Enabled", "Disconnected"), 7), (("Enabled", "Connecting"), 3),
)
# (status, state): a backup is Disabled while Creating and Enabled once Ready (ZStack's VolumeBackupInventory); an
# administrator disables a few Ready ones.
_BACKUP_CONDITIONS = _table(
    (("Ready", "Enabled"), 82), (("Ready", "Disabled"), 3), (("Creating", "Disabled"), 10),
    (("Deleted", "Disabled"), 5),
)
_BACKUP_MODES = _table(("full", 45), ("incremental", 45), ("auto", 10))
_MEDIA_TYPES = _table(("RootVolumeTemplate", 80), ("DataVolumeTemplate", 12), ("ISO", 8))
_IMAGE_STATUSES = _table(("Ready", 92), ("Downloading", 4), ("Error", 4))
_VM_SYSTEM_TAGS = (
    "qemuga", "cdroms::Empty::None::None", "usbRedirect::true", "vmConsoleMode::vnc",
)
_ARCH_SHORT = {"x86_64": "x64", "aarch64": "arm64"}
_ROLES = ("web", "db", "app", "cache", "mq", "build", "ci", "lb", "k8s-node", "etl")

_KINDS = {"account": 1, "backupStorage": 2, "volumeBackup": 3, "tag": 4, "image": 5, "cluster": 6, "zone": 7}
_UUID_CLEAR = ((1 << 128) - 1) ^ ((0xF << 76) | (0xC << 60))
_UUID_SET = (0x4 << 76) | (0x8 << 60)


def _rng(seed: int, kind: str, index: int) -> random.Random:
    """The generator of one resource: seeded by an integer that encodes (seed, kind, index)."""
    zigzag = seed * 2 if seed >= 0 else -seed * 2 - 1
    return random.Random((zigzag << 72) | (_KINDS[kind] << 64) | index)


def _uuid(rng: random.Random) -> str:
    """32 lowercase hex digits shaped like a version-4 UUID (digit 12 is 4, digit 16 is 8 to b)."""
    return f"{(rng.getrandbits(128) & _UUID_CLEAR) | _UUID_SET:032x}"


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _owner(r: Callable[[], float], owners: list[str]) -> str:
    """Admin (account 0) owns half of everything; the tenants share the rest."""
    return owners[0] if len(owners) == 1 or r() < 0.5 else owners[1 + int(r() * (len(owners) - 1))]


def _date(rng: random.Random) -> datetime:
    return EPOCH - timedelta(seconds=int(rng.random() * _SPAN_SECONDS))


class _Pools:
    """Words and phrases from Faker, drawn once per seed: resources pick from these."""

    def __init__(self, seed: int) -> None:
        fake = Faker("en_US")
        fake.seed_instance(seed)
        self.words = sorted({fake.word().lower() for _ in range(400)})
        self.hosts = sorted({fake.domain_word().lower() for _ in range(300)})
        self.people = sorted({fake.first_name().lower() for _ in range(300)})
        self.sentences = [fake.sentence(nb_words=8) for _ in range(300)]
        self.colors = [fake.hex_color() for _ in range(40)]
        self.clusters = [_uuid(_rng(seed, "cluster", i)) for i in range(4)]
        self.zones = [_uuid(_rng(seed, "zone", i)) for i in range(2)]


def generate_document(spec: GenerateSpec) -> Document:
    """A fixtures document holding ``spec``'s counts of each resource (``ValueError`` if out of range)."""
    spec.check()
    pools = _Pools(spec.seed)
    accounts = [_account(spec.seed, pools, i) for i in range(spec.accounts)]
    storages = [_backup_storage(spec.seed, pools, i) for i in range(spec.backup_storages)]
    owners = [a["name"] for a in accounts]
    storage_uuids = [s["uuid"] for s in storages]
    if spec.include_defaults:
        accounts += _default_accounts()
    return {
        "accounts": accounts,
        "backupStorages": storages,
        "volumeBackups": [_backup(spec.seed, pools, i, owners, storage_uuids) for i in range(spec.backups)],
        "tags": [_tag(spec.seed, pools, i, owners) for i in range(spec.tags)],
        "images": [_image(spec.seed, pools, i, owners, storage_uuids) for i in range(spec.images)],
    }


def _default_accounts() -> list[dict[str, Any]]:
    """The default fixtures' accounts other than admin (alice and bob): logins the README names."""
    document = yaml.load(default_fixtures_path().read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    return [account for account in document["accounts"] if account["name"] != "admin"]


def _account(seed: int, pools: _Pools, index: int) -> dict[str, Any]:
    if index == 0:
        return {"uuid": ADMIN_UUID, "name": "admin", "password": "password", "type": "SystemAdmin",
                "description": "the administrator", "createDate": EPOCH - timedelta(seconds=_SPAN_SECONDS)}
    rng = _rng(seed, "account", index)
    r = rng.random
    return {
        "uuid": _uuid(rng),
        "name": f"{pools.people[int(r() * len(pools.people))]}-{index}",
        "password": f"password-{index}",
        "type": "Normal",
        "description": pools.sentences[int(r() * len(pools.sentences))],
        "createDate": _date(rng),
    }


def _backup_storage(seed: int, pools: _Pools, index: int) -> dict[str, Any]:
    rng = _rng(seed, "backupStorage", index)
    r = rng.random
    # Storage 0 is always usable, so every inventory has somewhere to create templates.
    state, status = ("Enabled", "Connected") if index == 0 else _STORAGE_CONDITIONS[int(r() * len(_STORAGE_CONDITIONS))]
    total = (2 + int(r() * 62)) * 1024 * _GIB
    return {
        "uuid": _uuid(rng),
        "name": f"imagestore-{pools.words[int(r() * len(pools.words))]}-{index}",
        "description": pools.sentences[int(r() * len(pools.sentences))],
        "hostname": f"10.0.{index // 250}.{index % 250 + 1}",
        "url": "/zstack_bs",
        "username": "root",
        "sshPort": 22,
        "type": "ImageStoreBackupStorage",
        "state": state,
        "status": status,
        "totalCapacity": total,
        "availableCapacity": total // 20 + int(r() * (total - total // 20)),
        "attachedZoneUuids": [pools.zones[int(r() * len(pools.zones))]],
        "createDate": _date(rng),
    }


def _backup(seed: int, pools: _Pools, index: int, owners: list[str], storages: list[str]) -> dict[str, Any]:
    rng = _rng(seed, "volumeBackup", index)
    r = rng.random
    status, state = _BACKUP_CONDITIONS[int(r() * len(_BACKUP_CONDITIONS))]
    platform, guest_os = _OPERATING_SYSTEMS[int(r() * len(_OPERATING_SYSTEMS))]
    architecture = _ARCHITECTURES[int(r() * len(_ARCHITECTURES))] if platform == "Linux" else "x86_64"
    volume_type = "Root" if r() < 0.75 else "Data"
    vm_uuid = _uuid(rng)
    created = _date(rng)
    host = pools.hosts[int(r() * len(pools.hosts))]
    entry: dict[str, Any] = {
        "uuid": _uuid(rng),
        "name": f"{_ROLES[int(r() * len(_ROLES))]}-{host}-{volume_type.lower()}-backup-{index}",
        "description": pools.sentences[int(r() * len(pools.sentences))],
        "volumeUuid": _uuid(rng),
        "vmInstanceUuid": vm_uuid,
        "type": volume_type,
        "mode": _BACKUP_MODES[int(r() * len(_BACKUP_MODES))],
        "state": state,
        "status": status,
        "size": (1 + int(r() * 500)) * _GIB,
        "hypervisorType": "KVM",
        "owner": _owner(r, owners),
        "createDate": created,
        "lastOpDate": created + timedelta(seconds=int(r() * 7200)),
    }
    if r() < 0.85:
        entry["metadata"] = {
            "platform": platform,
            "guestOsType": guest_os,
            "architecture": architecture,
            "virtio": platform not in ("Windows", "Other"),
            "clusterUuid": pools.clusters[int(r() * len(pools.clusters))],
            "vmInstanceUuid": vm_uuid,
            "vmSystemTags": list(_VM_SYSTEM_TAGS[: int(r() * 4)]),
        }
    first = int(r() * len(storages))
    on = [storages[first]]
    if len(storages) > 1 and r() < 0.3:
        on.append(storages[(first + 1 + int(r() * (len(storages) - 1))) % len(storages)])
    install_path = f"zstore://volume-backups/{_hex(rng)}"
    entry["backupStorageRefs"] = [
        {"backupStorageUuid": bs, "installPath": install_path, "status": status} for bs in on
    ]
    return entry


def _tag(seed: int, pools: _Pools, index: int, owners: list[str]) -> dict[str, Any]:
    rng = _rng(seed, "tag", index)
    r = rng.random
    name = f"{pools.words[int(r() * len(pools.words))]}-{index}"
    return {
        "uuid": _uuid(rng),
        "name": name,
        "value": name,
        "description": pools.sentences[int(r() * len(pools.sentences))],
        "color": pools.colors[int(r() * len(pools.colors))],
        "type": "simple",
        "owner": _owner(r, owners),
        "createDate": _date(rng),
    }


def _image(seed: int, pools: _Pools, index: int, owners: list[str], storages: list[str]) -> dict[str, Any]:
    rng = _rng(seed, "image", index)
    r = rng.random
    uuid = _uuid(rng)
    media_type = _MEDIA_TYPES[int(r() * len(_MEDIA_TYPES))]
    platform, guest_os = _OPERATING_SYSTEMS[int(r() * len(_OPERATING_SYSTEMS))]
    architecture = _ARCHITECTURES[int(r() * len(_ARCHITECTURES))] if platform == "Linux" else "x86_64"
    status = _IMAGE_STATUSES[int(r() * len(_IMAGE_STATUSES))]
    created = _date(rng)
    slug = guest_os.lower().replace(" ", "-")
    if media_type == "ISO":
        size = actual_size = (1 + int(r() * 10)) * _GIB - int(r() * (_GIB // 2))
        name, image_format = f"{slug}-{_ARCH_SHORT.get(architecture, architecture)}-dvd-{index}", "iso"
    else:
        size = (8 + int(r() * 193)) * _GIB
        actual_size = size // 40 + int(r() * (size - size // 40))
        word = pools.words[int(r() * len(pools.words))]
        name = f"{slug}-{word}-{'template' if media_type == 'RootVolumeTemplate' else 'data'}-{index}"
        image_format = "qcow2"
    return {
        "uuid": uuid,
        "name": name,
        "description": pools.sentences[int(r() * len(pools.sentences))],
        "state": "Enabled" if r() < 0.95 else "Disabled",
        "status": status,
        "size": size,
        "actualSize": actual_size,
        "md5Sum": _hex(rng),
        "url": f"http://mirror.{pools.hosts[int(r() * len(pools.hosts))]}.example.com/images/{name}.{image_format}",
        "mediaType": media_type,
        "guestOsType": guest_os,
        "type": "zstack",
        "platform": platform,
        "architecture": architecture,
        "format": image_format,
        "system": r() < 0.02,
        "virtio": platform not in ("Windows", "Other"),
        "owner": _owner(r, owners),
        "createDate": created,
        "lastOpDate": created + timedelta(seconds=int(r() * 86400)),
        "backupStorageRefs": [
            {"backupStorageUuid": storages[int(r() * len(storages))], "installPath": f"zstore://{uuid}/{_hex(rng)}",
             "status": status}
        ],
    }


def generate_records(spec: GenerateSpec) -> list[Record]:
    """Generate ``spec``'s inventory and validate it through ``fixture_records``; returns the records.

    Large inventories use both cores: a second process generates and validates the images while
    this one does the rest. Each half goes through ``fixture_records`` with the accounts and
    storages it refers to, and the image UUIDs are then checked against the other half's, so the
    result is what validating the whole document at once would give.
    """
    spec.check()
    source = f"generated (seed {spec.seed})"
    if not _parallel(spec):
        return fixture_records(generate_document(spec), source=source)
    with _second_process() as pool:
        images = pool.submit(_image_rows, spec, source)
        rest = fixture_records(generate_document(replace(spec, images=0)), source=source)
        image_rows, ref_rows = images.result()
    seen = {uuid for record in rest if (uuid := getattr(record, "uuid", None)) is not None}
    image_records: list[Record] = []
    for row in image_rows:
        values = dict(zip(_IMAGE_FIELDS, row, strict=True))
        if values["uuid"] in seen:
            raise FixtureError(f"{source}: images: uuid {values['uuid']} is already used by another resource")
        image_records.append(Image(**values))
    image_records += [ImageBackupStorageRef(**dict(zip(_REF_FIELDS, row, strict=True))) for row in ref_rows]
    return rest + image_records


_Rows = list[tuple[Any, ...]]
_IMAGE_FIELDS = tuple(f.name for f in fields(Image))
_REF_FIELDS = tuple(f.name for f in fields(ImageBackupStorageRef))


def _image_rows(spec: GenerateSpec, source: str) -> tuple[_Rows, _Rows]:
    """The images half, as plain tuples of the fields in record order: pickling them costs a fifth of
    pickling the dataclasses."""
    records = fixture_records(generate_document(replace(spec, backups=0, tags=0)), source=source)
    image_fields = attrgetter(*_IMAGE_FIELDS)
    ref_fields = attrgetter(*_REF_FIELDS)
    images = [image_fields(r) for r in records if isinstance(r, Image)]
    refs = [ref_fields(r) for r in records if isinstance(r, ImageBackupStorageRef)]
    return images, refs


def _parallel(spec: GenerateSpec) -> bool:
    return spec.images >= _PARALLEL_FROM and "fork" in multiprocessing.get_all_start_methods()


def _second_process() -> ProcessPoolExecutor:
    # fork: the child starts with the modules already imported, in a few milliseconds.
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))


class _Dumper(_BaseDumper):
    """libyaml's safe dumper that never writes anchors (a generated document shares no objects)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _yaml(data: Any) -> str:
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    return text


def write_document(document: Document, path: Path) -> None:
    """Write a fixtures file: JSON for a ``.json`` path, YAML otherwise."""
    if path.suffix == ".json":
        path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    else:
        path.write_text(_yaml(document), encoding="utf-8")


def write_generated(
    spec: GenerateSpec, path: Path, on_stage: Callable[[str], None] = lambda stage: None
) -> dict[str, int]:
    """Generate ``spec``'s inventory into a fixtures file; returns the number of entries per section.
    ``on_stage`` hears ``"generating"`` once the file is open, then ``"writing"``.

    The same bytes as ``write_document(generate_document(spec), path)``. The file is opened first,
    so an unwritable path fails at once. A large YAML file is written by two processes: YAML
    emitting is the slow part, and a section's text is the concatenation of its halves' texts.
    """
    spec.check()
    with path.open("wb") as stream:
        on_stage("generating")
        if path.suffix == ".json" or not _parallel(spec):
            document = generate_document(spec)
            on_stage("writing")
            stream.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) if path.suffix == ".json"
                         else _yaml(document).encode())
            return {section: len(entries) for section, entries in document.items()}
        with _second_process() as pool:
            images = pool.submit(_images_yaml, spec)
            document = generate_document(replace(spec, images=0))
            del document["images"]
            on_stage("writing")
            stream.write(_yaml(document).encode())
            stream.write(b"images:\n")
            stream.write(images.result())
    return {**{section: len(entries) for section, entries in document.items()}, "images": spec.images}


def _images_yaml(spec: GenerateSpec) -> bytes:
    """The entries of the ``images`` section as YAML, as they appear under its key."""
    return _yaml(generate_document(replace(spec, backups=0, tags=0))["images"]).encode()
