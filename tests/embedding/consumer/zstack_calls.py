"""What the consumer's code under test would do: call ZStack's REST API."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx

READY_STORAGE = "4ed18086e5593b86932436d02f575213"
BACKUP = "b67eee0a52b04816906cdf207adb00c0"


def log_in(url: str, account: str = "admin", password: str = "password") -> httpx.Response:
    body = {"logInByAccount": {"accountName": account, "password": hashlib.sha512(password.encode()).hexdigest()}}
    return httpx.put(f"{url}/zstack/v1/accounts/login", json=body)


def create_template(url: str, session: str, name: str = "template") -> httpx.Response:
    return httpx.post(
        f"{url}/zstack/v1/images/root-volume-templates/from/volume-template/{BACKUP}",
        json={"params": {"backupStorageUuid": READY_STORAGE, "name": name}},
        headers={"Authorization": f"OAuth {session}"},
    )


def record_url(url: str) -> None:
    """Where the driving test asks for it (CONSUMER_RECORD), note the server this worker used."""
    if record := os.environ.get("CONSUMER_RECORD"):
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with Path(record).open("a") as out:
            out.write(f"{worker} {url}\n")
