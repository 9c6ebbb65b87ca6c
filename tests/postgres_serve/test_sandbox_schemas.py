"""The sandbox over PostgreSQL keeps one schema per tenant and no more: a failed login, an eviction and
``--reset`` leave none behind."""

from __future__ import annotations

import psycopg
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.helpers import LOGIN_PATH, login


def tenant_schemas(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT COUNT(*) FROM pg_namespace WHERE starts_with(nspname, 'sandbox_t_')").fetchone()
    assert row is not None
    return int(row[0])


def sandbox(url: str, *, reset: bool = False) -> TestClient:
    settings = Settings(database_url=url, sandbox=True, public_profile=False, reset=reset)
    return TestClient(create_app(settings), raise_server_exceptions=False)


def test_only_live_tenants_have_schemas(postgres_url: str) -> None:
    with sandbox(postgres_url) as client:
        wrong = client.put(LOGIN_PATH, json={"logInByAccount": {"accountName": "admin", "password": "0" * 128}})
        assert wrong.status_code == 503, wrong.text
        assert tenant_schemas(postgres_url) == 0  # the tenant the failed login made is gone, schema and all
        login(client), login(client)
        assert tenant_schemas(postgres_url) == 2
        assert client.delete("/_mock/sandbox").json() == {"evicted": 2}
        assert tenant_schemas(postgres_url) == 0
        login(client)
    with sandbox(postgres_url, reset=True) as wiped:
        assert wiped.get("/_mock/sandbox").json()["tenants"] == 0
        assert tenant_schemas(postgres_url) == 0
