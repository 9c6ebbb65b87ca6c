"""The faults stage's 100 rules: what a test suite might leave installed, none of which matches the load;
varied kinds, effects and modifiers, shuffled with a fixed seed (the same list every run)."""

from __future__ import annotations

import hashlib
import random
from typing import Any

from serving import BACKUP, STORAGE

RULES = 100


def fault_rules() -> list[dict[str, Any]]:
    """100 rules as a test suite might leave installed, none of which matches the load's create (POST on the
    create path for backup b67eee0a... on storage 4ed18086..., admin's session, Content-Type and
    Authorization headers only, sync). Most are on the create operation and fail on a later condition
    (another backup or storage, a header, another account: the caller's account is looked up from the
    session), so matching really walks them; the rest name other operations, methods or path globs."""
    admin_backup, storage = BACKUP, STORAGE
    other_backups = [
        "0e6c5f0aa6b547c1ae83dd0cbb3a6a5a", "f10898262650401ea3dcbc64d4fc1966",
        "0cf5a36042dd4fbbba65ca71ba86097e", "16515e7c1f4d4fb28299b4e1259ed3aa",
    ]
    other_storages = ["7806dfb8224f4ae0a16f27db56255dd3", "05b9749991f34b4a9d0d61a2fddaaf18"]
    accounts = ["alice", "bob", "a2536f110d5343a6b12eff3d815c695f", "d18225383b0d4f1d861f9aa60e081b9d"]
    create = "CreateRootVolumeTemplateFromVolumeBackup"
    effects: list[dict[str, Any]] = [
        {"error": {"code": "SYS.1002", "details": "Failed to download image[name:{name}] on all backup storage",
                   "cause": {"code": "SYS.1006", "details": "backup storage is Disconnected"}}},
        {"error": {"code": "SYS.1000"}},
        {"error": {"code": "ID.1003", "details": "quota exceeded"}},
        {"http": {"status": 502, "body": "<h1>502 Bad Gateway</h1>", "contentType": "text/html"}},
        {"wire": "reset"},
        {"wire": {"kind": "truncate"}},
        {"latency": {"lognormal": {"median": 0.3, "sigma": 0.6}}},
        {"latency": 0.5, "error": {"code": "SYS.1001"}},
    ]
    modifiers: list[dict[str, Any]] = [{}, {"probability": 0.3}, {"times": 2}, {"after": 3}, {"ttl": 3600}]

    def synthetic(n: int) -> str:
        return hashlib.md5(f"bench-fault-{n}".encode()).hexdigest()  # 32 hex digits, like a ZStack UUID

    matches: list[dict[str, Any]] = []
    # 24: creates from another backup (the fixtures' other four, and twenty that do not exist)
    matches += [{"operation": create, "backupUuid": b} for b in other_backups]
    matches += [{"operation": create, "backupUuid": synthetic(n)} for n in range(20)]
    # 12: creates on another backup storage
    matches += [{"operation": create, "backupStorageUuid": s} for s in other_storages]
    matches += [{"operation": create, "backupStorageUuid": synthetic(100 + n)} for n in range(10)]
    # 10: this backup, but another storage (fails on the last uuid condition)
    matches += [
        {"operation": create, "method": "POST", "backupUuid": admin_backup, "backupStorageUuid": s}
        for s in [*other_storages, *(synthetic(200 + n) for n in range(8))]
    ]
    # 10: another backup on this storage; a client header the load does not send
    matches += [{"operation": create, "backupUuid": synthetic(400 + n), "backupStorageUuid": storage} for n in range(5)]
    matches += [{"operation": create, "headers": {"X-Client": f"ci-runner-{n}"}} for n in range(5)]
    # 10: this backup and storage, but a header condition the load does not meet
    matches += [
        {"operation": create, "backupUuid": admin_backup, "headers": {"X-Test-Case": f"case-{n}"}} for n in range(5)
    ]
    matches += [
        {"operation": create, "backupUuid": admin_backup, "backupStorageUuid": storage, "headers": h}
        for h in (
            {"X-Chaos": True}, {"Authorization": False}, {"Prefer": "respond-async"},
            {"Content-Type": "text/plain"}, {"X-Job-UUID": True},
        )
    ]
    # 8: this backup and storage, another caller (admin's session is looked up each request)
    matches += [
        {"operation": create, "backupUuid": admin_backup, "backupStorageUuid": storage, "account": a}
        for a in accounts
    ]
    matches += [{"operation": create, "account": a} for a in accounts]
    # 6: job faults, which a synchronous create does not start
    jobs = [
        {"match": {"operation": create}, "job": {"hold": True}},
        {"match": {"operation": create, "backupUuid": admin_backup}, "job": {"hold": True}},
        {"match": {"operation": create, "backupUuid": admin_backup},
         "job": {"error": {"code": "SYS.1002"}, "afterSeconds": 0.2}},
        {"match": {"operation": create, "backupStorageUuid": storage}, "job": {"error": {"code": "SYS.1001"}}},
        {"match": {"operation": create, "account": "admin"}, "job": {"hold": True}, "times": 5},
        {"match": {"path": "/zstack/v1/images/**"}, "job": {"error": {"code": "SYS.1000"}}, "probability": 0.5},
    ]
    # 10: other operations
    matches += [
        {"operation": "QueryImage"},
        {"operation": "QueryImage", "headers": {"X-Test-Case": "list-images"}},
        {"operation": "QueryImage", "account": "alice"},
        {"operation": "LogInByAccount", "account": "alice"},
        {"operation": "LogInByAccount", "account": "bob"},
        {"operation": "LogInByAccount", "account": "mallory"},
        {"operation": ["LogOut", "ValidateSession"]},
        {"operation": "QueryVolumeBackup", "method": "GET"},
        {"operation": ["QueryBackupStorage", "QueryImageStoreBackupStorage"]},
        {"operation": "QueryApiJob"},
    ]
    # 10: method and path globs
    matches += [
        {"method": "GET", "path": "/zstack/v1/images/**"},
        {"method": "GET", "path": "/zstack/v1/volume-backups/*"},
        {"path": "/zstack/api"},
        {"path": "/zstack/api/result/*"},
        {"path": "/zstack/v1/accounts/**"},
        {"method": "DELETE", "path": "/zstack/v1/**"},
        {"method": "PUT", "path": "/zstack/v1/images/root-volume-templates/**"},
        {"path": f"/zstack/v1/images/root-volume-templates/from/volume-template/{other_backups[0]}"},
        {"path": "/zstack/v1/images/root-volume-templates/from/volume-template/*", "backupStorageUuid": synthetic(300)},
        {"operation": create, "path": "/zstack/api"},  # the same API on the RPC surface only
    ]
    rules = [
        {"name": f"bench rule {n}", "match": match, **effects[n % len(effects)], **modifiers[n % len(modifiers)]}
        for n, match in enumerate(matches)
    ]
    rules += [{"name": f"bench job rule {n}", **rule} for n, rule in enumerate(jobs)]
    assert len(rules) == RULES, len(rules)
    random.Random(5).shuffle(rules)  # kinds interleaved, not grouped; the same order every run
    return rules
