from __future__ import annotations

from fastapi.testclient import TestClient

from app import __version__


def test_health_reports_version_and_a_readable_database(client: TestClient) -> None:
    response = client.get("/_mock/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__, "accounts": 3, "sandbox": False}
