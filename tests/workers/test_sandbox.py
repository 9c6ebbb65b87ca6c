"""A sandbox visitor keeps its fake cloud whichever worker answers."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import auth, create, login
from tests.workers.support import Workers


def test_a_visitors_tenant_is_found_by_every_worker(tmp_path: Path) -> None:
    server = Workers(tmp_path / "shared.db", "--sandbox", "--no-public-profile", "--sandbox-rate-limit", "0")
    try:
        with server.client() as client:
            visitor, other = login(client), login(client)
            create(client, visitor, name="mine").raise_for_status()
            for _ in range(20):
                mine = client.get("/zstack/v1/images", headers=auth(visitor)).json()["inventories"]
                theirs = client.get("/zstack/v1/images", headers=auth(other)).json()["inventories"]
                assert "mine" in [i["name"] for i in mine]
                assert "mine" not in [i["name"] for i in theirs]
    finally:
        code, _, stderr = server.stop()
    assert code == 0, stderr
