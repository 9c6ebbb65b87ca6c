"""The baseline of ``make bench``: bare FastAPI routes on zstack-mock's paths (the create, the login, a page
of 50 images), answering constant JSON.

No store, no validation, no authentication, no body parsing: what a request costs in FastAPI and
uvicorn alone. The routes are written the idiomatic way (``async def`` returning a dict, no response
model; the page of images is encoded once, see QUERY_REPLY), and the constant replies have the shape and
size of zstack-mock's real ones.

Served like ``zstack-mock serve`` serves the app (see app/cli.py): ``uvicorn.run`` with one worker,
the default loop and HTTP implementations, log level info and no access log.

    .venv/bin/python benchmarks/bare_app.py --port 8081
"""

from __future__ import annotations

import argparse
import json

import uvicorn
from fastapi import FastAPI, Response

CREATE_PATH = "/zstack/v1/images/root-volume-templates/from/volume-template/{backupUuid}"
LOGIN_PATH = "/zstack/v1/accounts/login"
QUERY_PATH = "/zstack/v1/images"
PAGE_SIZE = 50

_IMAGE = "f5261c0c7e6440a68320e9e4bf9ce782"
_DATE = "Nov 28, 2026 1:53:16 PM"

CREATE_REPLY = {
    "inventory": {
        "uuid": _IMAGE,
        "name": "bench",
        "state": "Enabled",
        "status": "Ready",
        "size": 21474836480,
        "actualSize": 21474836480,
        "md5Sum": "be04a02115b1d6a82ebcc8ca623fcaaf",
        "url": f"zstore://192.0.2.10/{_IMAGE}/4f1f0d8c1a2b4c3d9e8f7a6b5c4d3e2f",
        "mediaType": "RootVolumeTemplate",
        "guestOsType": "CentOS 7",
        "type": "zstack",
        "platform": "Linux",
        "architecture": "x86_64",
        "format": "qcow2",
        "system": False,
        "virtio": True,
        "createDate": _DATE,
        "lastOpDate": _DATE,
        "backupStorageRefs": [
            {
                "id": 4,
                "imageUuid": _IMAGE,
                "backupStorageUuid": "4ed18086e5593b86932436d02f575213",
                "installPath": f"zstore://{_IMAGE}/4f1f0d8c1a2b4c3d9e8f7a6b5c4d3e2f",
                "status": "Ready",
                "createDate": _DATE,
                "lastOpDate": _DATE,
            }
        ],
    }
}

LOGIN_REPLY = {
    "inventory": {
        "uuid": "b78821a2d97048e1823eb724bb2808b0",
        "accountUuid": "36c27e8ff05c4780bf6d2fa65700f22e",
        "userUuid": "36c27e8ff05c4780bf6d2fa65700f22e",
        "expiredDate": "Nov 28, 2026 3:53:16 PM",
        "createDate": _DATE,
    }
}


def _page() -> dict[str, object]:
    """A page of 50 images as zstack-mock answers ``GET /zstack/v1/images?limit=50`` after the mock stage's
    creates: each image shaped like the create's, and the schema map ZStack puts beside them."""
    inventory = CREATE_REPLY["inventory"]
    images = [{**inventory, "uuid": f"{n:032x}"} for n in range(PAGE_SIZE)]
    schema: dict[str, str] = {}
    for n in reversed(range(PAGE_SIZE)):
        schema[f"inventories[{n}]"] = "org.zstack.header.image.ImageInventory"
        schema[f"inventories[{n}].backupStorageRefs[0]"] = "org.zstack.header.image.ImageBackupStorageRefInventory"
    return {"schema": schema, "inventories": images}


# Encoded once: returned as a dict, FastAPI's encoder would walk the page's ~1,700 values on every request
# (milliseconds a page), which measures that encoder, not the stack; zstack-mock encodes its pages itself.
QUERY_REPLY = json.dumps(_page(), separators=(",", ":")).encode()

app = FastAPI(title="zstack-mock bench baseline")


# No return annotations on purpose: FastAPI would turn them into response models to validate against.


@app.post(CREATE_PATH)
async def create(backupUuid: str):
    return CREATE_REPLY


@app.put(LOGIN_PATH)
async def login():
    return LOGIN_REPLY


@app.get(QUERY_PATH)
async def query():
    return Response(QUERY_REPLY, media_type="application/json")


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the bare FastAPI baseline on 127.0.0.1.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="info", access_log=False)


if __name__ == "__main__":
    main()
