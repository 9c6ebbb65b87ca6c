"""Two replicas over one PostgreSQL database while clients create through both: replica A dies by
``kill -9``; every create that was answered 200 stays, B goes on serving, and A, started again over the
same database, serves the same cloud."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from tests.helpers import auth, create, login
from tests.workers.support import Workers

THREADS = 4
#: Creates answered 200 before A is killed, and by B after it.
BEFORE_KILL = 20
AFTER_KILL = 20
#: Bounds on the whole load, so that a broken replica fails the test instead of hanging it.
MAX_CREATES_PER_THREAD = 200
LOAD_TIMEOUT = 120.0


def images_named(client: httpx.Client, session: str, condition: str) -> list[str]:
    """The names of the images a query with ``condition`` (``name=x``, ``name~=x%``) answers, sorted."""
    answer = client.get("/zstack/v1/images", params={"q": condition, "limit": 1000}, headers=auth(session))
    assert answer.status_code == 200, answer.text
    return sorted(image["name"] for image in answer.json()["inventories"])


@dataclass
class Load:
    """Threads creating images named ``load-<thread>-<n>``, each sending its creates to A and B in turn."""

    replicas: list[Workers]
    session: str
    #: (replica index, name) of every create answered 200, in the order the answers came.
    acknowledged: list[tuple[int, str]] = field(default_factory=list)
    attempted: set[str] = field(default_factory=set)
    #: Answers other than 200 and failures other than a refused connection: none expected.
    unexpected: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    #: Set just before A is sent SIGKILL: from then on, A may fail to answer.
    killing: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, thread: int) -> None:
        clients = [replica.client() for replica in self.replicas]
        try:
            for n in range(MAX_CREATES_PER_THREAD):
                if self.stop.is_set():
                    return
                index = (thread + n) % 2
                name = f"load-{thread}-{n}"
                with self.lock:
                    self.attempted.add(name)
                try:
                    answer = create(clients[index], self.session, name=name)
                except httpx.TransportError as error:
                    # A's process is gone: refused, or cut off in the middle of a request. Neither was
                    # acknowledged, and the create may or may not have been committed.
                    if index != 0 or not self.killing.is_set():
                        self.unexpected.append(f"replica {index}: {error!r}")
                    continue
                with self.lock:
                    if answer.status_code == 200:
                        self.acknowledged.append((index, name))
                    else:
                        self.unexpected.append(f"replica {index}: {answer.status_code} {answer.text}")
        finally:
            for client in clients:
                client.close()

    def acknowledged_count(self, replica: int | None = None) -> int:
        with self.lock:
            return sum(1 for index, _ in self.acknowledged if replica is None or index == replica)


def wait_for(check: object, what: str) -> None:
    deadline = time.monotonic() + LOAD_TIMEOUT
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def two_replicas(postgres_url: str) -> Iterator[list[Workers]]:
    """Replicas A and B (one process each) over one new database; a replica started in the test joins the list."""
    replicas = [Workers(postgres_url, workers="1"), Workers(postgres_url, workers="1")]
    try:
        yield replicas
    finally:
        for replica in replicas:
            _, _, stderr = replica.stop()
            assert "Traceback" not in stderr


def test_kill_9_of_a_replica_under_load_loses_no_acknowledged_create_and_it_rejoins(
    two_replicas: list[Workers], postgres_url: str
) -> None:
    a, b = two_replicas
    with b.client() as client_b:
        session = login(client_b)
        load = Load([a, b], session)
        threads = [threading.Thread(target=load.run, args=(t,)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        try:
            wait_for(lambda: load.acknowledged_count(0) >= BEFORE_KILL // 2
                     and load.acknowledged_count() >= BEFORE_KILL, "creates through both replicas")
            load.killing.set()
            a.process.send_signal(signal.SIGKILL)
            assert a.process.wait(timeout=30) == -signal.SIGKILL
            served_by_b = load.acknowledged_count(1)
            wait_for(lambda: load.acknowledged_count(1) >= served_by_b + AFTER_KILL, "B to go on serving")
        finally:
            load.stop.set()
            for thread in threads:
                thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        assert load.unexpected == []

        found = images_named(client_b, session, "name~=load-%")
        assert len(found) == len(set(found))  # no create was committed twice
        assert {name for _, name in load.acknowledged} <= set(found)
        assert set(found) <= load.attempted

        restarted = Workers(postgres_url, workers="1")
        two_replicas.append(restarted)
        with restarted.client() as client_a:
            assert images_named(client_a, session, "name~=load-%") == found  # the session, and every create
            assert create(client_a, session, name="after-restart").status_code == 200
            assert images_named(client_b, session, "name=after-restart") == ["after-restart"]
            assert create(client_b, session, name="seen-by-a").status_code == 200
            assert images_named(client_a, session, "name=seen-by-a") == ["seen-by-a"]
        assert Counter(index for index, _ in load.acknowledged)[0] >= BEFORE_KILL // 2
