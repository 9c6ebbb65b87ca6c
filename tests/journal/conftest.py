"""Journal tests wire the fault layer's stand-in into the app."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.journal.support import with_fault_marker


@pytest.fixture
def client(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    with TestClient(with_fault_marker(make_app()), raise_server_exceptions=False) as test_client:
        yield test_client
