"""The journal over a real socket: each answer is in the journal as soon as the client has it, and
the batch writes store entries without anyone reading them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from fastapi.testclient import TestClient

from app.store.records import JournalEntry
from tests.helpers import create, login
from tests.journal.support import count, entries


def test_every_answer_is_in_the_journal_when_the_client_has_it(live_server: Callable[..., Any]) -> None:
    server = live_server()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        session = login(http)
        for n in range(20):
            create(http, session, name=f"t{n}")
            assert entries(http, limit=1)[0]["body"].endswith(f'"name":"t{n}"}}}}')
        http.get("/zstack/v1/api-jobs/0123", headers={"Connection": "close"})

        latest = entries(http, limit=1)[0]
        assert (latest["status"], latest["operation"], latest["verdict"]) == (404, "QueryApiJob", "rejected")
        assert count(http, operation="CreateRootVolumeTemplateFromVolumeBackup", status=200) == 20


def test_batches_are_stored_without_a_read(live_server: Callable[..., Any]) -> None:
    server = live_server()
    store = server.server.config.app.state.server.store
    with httpx.Client(base_url=server.url, timeout=10) as http:
        login(http)
        login(http)

    deadline = time.monotonic() + 5
    while store.count(JournalEntry) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert store.count(JournalEntry) == 2


def test_an_app_used_without_its_lifespan_still_shows_every_request(make_app: Callable[..., Any]) -> None:
    client = TestClient(make_app())  # no `with`: each request runs on an event loop of its own, gone after
    for _ in range(3):
        login(client)

    assert [e["operation"] for e in entries(client)] == ["LogInByAccount"] * 3
