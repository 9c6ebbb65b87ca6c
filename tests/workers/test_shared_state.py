"""Two workers behind one port share everything that matters: every request here is on a new
connection, so the kernel gives them to both workers, and each behaviour must hold for all of them."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from app.clock import ServerClock
from app.store.sqlite import SqliteStore
from tests.helpers import BACKUP_WITH_METADATA, BS_READY, CREATE_PATH, auth, create, login
from tests.jobs.support import WebhookReceiver
from tests.workers.support import Workers, at_once

SEED = 7
ROUNDS = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    database = tmp_path_factory.mktemp("workers") / "shared.db"
    workers = Workers(database, "--seed", str(SEED), "--job-duration", "0.05-0.2", "--webhook-interval", "0.1")
    try:
        yield workers
    finally:
        code, stdout, stderr = workers.stop()
        assert code == 0, stderr
        assert "zstack-mock: serving on" not in stdout  # the ready line was printed once, and read
        assert "Traceback" not in stderr


@pytest.fixture
def client(server: Workers) -> Iterator[httpx.Client]:
    with server.client() as client:
        assert client.post("/_mock/reset").status_code == 200  # rules, clock, job settings, journal: as at start
        yield client


def test_each_worker_draws_its_own_seeded_uuid_stream_and_both_serve(client: httpx.Client) -> None:
    session = login(client)
    # The UUIDs of stream s are the seed's hash of (s, n): which stream made an image tells which worker did.
    streams = {}
    for stream in range(4):
        clock = ServerClock(SqliteStore(":memory:"), seed=SEED, stream=stream)
        streams.update({clock.new_uuid(): stream for _ in range(200)})
    made: set[int] = set()
    for _ in range(10):
        created = [create(client, session, name="streams").json()["inventory"]["uuid"] for _ in range(10)]
        made |= {streams[uuid] for uuid in created}
        if len(made) == 2:
            break
    assert len(made) == 2, f"only stream(s) {made} created images: one worker served every request"
    assert 0 not in made  # the parent's start-up claimed stream 0 and made nothing with it


def test_a_session_made_through_one_worker_works_on_all(client: httpx.Client) -> None:
    session = login(client)
    statuses = {client.get("/zstack/v1/images", headers=auth(session)).status_code for _ in range(ROUNDS)}
    assert statuses == {200}
    client.delete(f"/zstack/v1/accounts/sessions/{session}")
    assert {client.get("/zstack/v1/images", headers=auth(session)).status_code for _ in range(ROUNDS)} == {503}


def test_a_rule_with_times_3_fires_exactly_three_times_under_concurrent_load(client: httpx.Client) -> None:
    session = login(client)
    added = client.post("/_mock/faults", json={
        "match": {"operation": "QueryImage"}, "times": 3, "error": {"code": "SYS.1012", "details": "node down"},
    })
    assert added.status_code == 201, added.text
    with httpx.Client(base_url=str(client.base_url), timeout=30,
                      limits=httpx.Limits(max_keepalive_connections=0), headers=auth(session)) as authed:
        answers = at_once(authed, [("GET", "/zstack/v1/images")] * 40)
    assert Counter(answer.status_code for answer in answers) == {503: 3, 200: 37}
    rule = client.get(f"/_mock/faults/{added.json()['id']}").json()
    assert (rule["matched"], rule["fired"], rule["spent"]) == (3, 3, True)


def test_the_clock_and_the_job_settings_set_through_one_request_apply_to_every_later_one(
    client: httpx.Client,
) -> None:
    assert client.put("/_mock/clock", json={"now": "2031-05-06T07:08:09Z", "frozen": True}).status_code == 200
    assert client.put("/_mock/jobs/settings", json={"holdNewJobs": True, "duration": "3"}).status_code == 200
    for _ in range(ROUNDS):
        assert client.get("/_mock/clock").json()["now"].startswith("2031-05-06T07:08:09")
        assert client.get("/_mock/jobs/settings").json() == {"holdNewJobs": True, "duration": "3"}
    session = login(client)
    dates = {create(client, session, name="dated").json()["inventory"]["createDate"] for _ in range(ROUNDS)}
    assert len(dates) == 1 and "2031" in dates.pop()


def test_a_snapshot_taken_and_restored_is_what_every_worker_serves(client: httpx.Client) -> None:
    session = login(client)
    create(client, session, name="kept").raise_for_status()
    assert client.post("/_mock/snapshots", json={"name": "before"}).status_code in (200, 201)
    for _ in range(3):
        create(client, session, name="dropped").raise_for_status()
    assert client.post("/_mock/snapshots/before/restore").status_code == 200
    session = login(client)  # a restore ends the sessions
    for _ in range(ROUNDS):
        names = [i["name"] for i in client.get("/zstack/v1/images", headers=auth(session)).json()["inventories"]]
        assert "kept" in names and "dropped" not in names


def test_a_job_accepted_by_any_worker_finishes_once_sends_one_webhook_and_is_pollable_on_all(
    client: httpx.Client,
) -> None:
    receiver = WebhookReceiver()
    try:
        session = login(client)
        jobs = []
        for index in range(ROUNDS):
            accepted = client.post(CREATE_PATH.format(BACKUP_WITH_METADATA),
                                   json={"params": {"backupStorageUuid": BS_READY, "name": f"job-{index}"}},
                                   headers={**auth(session), "X-Web-Hook": receiver.url})
            assert accepted.status_code == 202, accepted.text
            jobs.append(accepted.json()["location"].rsplit("/", 1)[1])
        receiver.wait_for(ROUNDS, timeout=30)
        assert Counter(d.headers["x-job-uuid"] for d in receiver.deliveries) == Counter(jobs)
        for job in jobs:
            polled = [client.get(f"/zstack/v1/api-jobs/{job}") for _ in range(3)]
            assert {p.status_code for p in polled} == {200}
            assert len({p.text for p in polled}) == 1
        names = [i["name"] for i in client.get("/zstack/v1/images", headers=auth(session)).json()["inventories"]]
        assert sorted(n for n in names if n.startswith("job-")) == sorted(f"job-{i}" for i in range(ROUNDS))
        assert len(receiver.deliveries) == ROUNDS  # none sent twice meanwhile
    finally:
        receiver.close()


def test_the_journal_holds_every_request_once_in_the_order_they_were_answered(client: httpx.Client) -> None:
    session = login(client)
    sent = [f"/zstack/v1/images?marker={index}" for index in range(40)]
    for path in sent:
        client.get(path, headers=auth(session))
    # At once: the read waits for what the other worker holds of the requests answered before it.
    entries = client.get("/_mock/requests", params={"operation": "QueryImage", "limit": 1000}).json()["requests"]
    assert [f"{e['path']}?{e['query']}" for e in reversed(entries)] == sent
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids, reverse=True)


def test_metrics_count_the_requests_of_every_worker(client: httpx.Client) -> None:
    def answered() -> int:
        text = client.get("/metrics").text
        return sum(int(float(count)) for count in re.findall(
            r'^zstack_mock_requests_total\{[^}]*operation="/_mock/health"[^}]*\} (\S+)$', text, re.MULTILINE))

    before = answered()
    for _ in range(ROUNDS):
        client.get("/_mock/health")
    assert answered() == before + ROUNDS
