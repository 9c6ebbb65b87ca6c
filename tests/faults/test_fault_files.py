"""--faults FILE: rules from YAML or JSON installed at start-up, and files that stop start-up."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.faults.files import FaultFileError
from tests.faults.support import add_rule, list_rules
from tests.helpers import auth, login, served_url

RULES_YAML = """\
# two rules, as a list
- name: images down
  match: {operation: QueryImage}
  times: 1
  error: {code: SYS.1012, details: node down}
- name: slow logins
  match: {operation: LogInByAccount}
  latency: {uniform: [0, 0.01]}
"""

RULES_JSON = {"rules": [{"name": "backups down", "match": {"operation": "QueryVolumeBackup"},
                         "http": {"status": 502, "body": "bad gateway"}}]}


def test_a_yaml_file_replaces_the_stored_rules_at_start_up(make_app: Callable[..., FastAPI], tmp_path: Path) -> None:
    with TestClient(make_app()) as before:
        add_rule(before, {"name": "stored", "http": {"status": 503}})
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES_YAML, encoding="utf-8")

    with TestClient(make_app(faults=rules)) as client:
        listed = list_rules(client)
        session = login(client)
        first = client.get("/zstack/v1/images", headers=auth(session))
        second = client.get("/zstack/v1/images", headers=auth(session))

    assert [r["name"] for r in listed] == ["images down", "slow logins"]
    assert listed[0]["rule"] == {"name": "images down", "times": 1, "error": {"code": "SYS.1012", "details": "node down"},
                                 "match": {"operation": "QueryImage"}}
    assert (first.status_code, first.json()["error"]["code"]) == (503, "SYS.1012")
    assert second.status_code == 200


def test_a_json_file_with_a_rules_key(make_app: Callable[..., FastAPI], tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(RULES_JSON), encoding="utf-8")

    with TestClient(make_app(faults=rules)) as client:
        session = login(client)
        response = client.get("/zstack/v1/volume-backups", headers=auth(session))
        assert [r["name"] for r in list_rules(client)] == ["backups down"]

    assert (response.status_code, response.text) == (502, "bad gateway")


def test_a_restart_with_the_same_file_starts_the_counters_again(make_app: Callable[..., FastAPI], tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES_YAML, encoding="utf-8")
    for _ in range(2):
        with TestClient(make_app(faults=rules)) as client:
            session = login(client)
            assert client.get("/zstack/v1/images", headers=auth(session)).status_code == 503


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("bad.yaml", "- match: {operation: [QueryImage\n", "not valid YAML"),
        ("bad.json", '[{"http": {"status": 502}', "not valid JSON"),
        ("bad.yaml", "match: {operation: QueryImage}\nhttp: {status: 502}\n", "a rules file holds a list of rules"),
        ("bad.yaml", "- http: {status: 502}\n  error: {code: SYS.1000}\n",
         "invalid rule: 0: Value error, an effect takes at most one of error, http, wire, job; got error, http"),
        ("bad.yaml", "- http: {status: 502}\n- wire: explode\n", "invalid rule: 1.wire.kind"),
        ("bad.json", '{"rules": [{"http": {"status": 502}, "tries": 1}]}', "invalid rule: 0.tries"),
        ("bad.yaml", "- http: {status: 502}\n  ttl: .inf\n", "invalid rule: 0.ttl"),
        ("bad.yaml", "- latency: {lognormal: {median: .inf, sigma: 1}}\n",
         "invalid rule: 0.latency.lognormal.median: Input should be a finite number"),
        ("bad.yaml", "- http: {status: 502}\n  probability: .nan\n", "invalid rule: 0.probability"),
    ],
    ids=["yaml-syntax", "json-syntax", "not-a-list", "two-effects", "second-rule-bad", "unknown-field", "ttl-infinite",
         "latency-infinite", "probability-nan"],
)
def test_a_bad_rules_file_stops_start_up_naming_the_file_and_the_problem(
    make_app: Callable[..., FastAPI], tmp_path: Path, name: str, content: str, fragment: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    with pytest.raises(FaultFileError) as failure:
        make_app(faults=path)

    assert str(failure.value).startswith(f"{path}: ")
    assert fragment in str(failure.value)


def test_a_bad_rules_file_leaves_the_stored_rules_alone(make_app: Callable[..., FastAPI], tmp_path: Path) -> None:
    with TestClient(make_app()) as before:
        add_rule(before, {"name": "stored", "http": {"status": 503}})
    path = tmp_path / "bad.yaml"
    path.write_text("- name: half\n  http: {status: 502}\n- wire: explode\n", encoding="utf-8")

    with pytest.raises(FaultFileError):
        make_app(faults=path)

    with TestClient(make_app()) as after:
        assert [r["name"] for r in list_rules(after)] == ["stored"]


def test_a_missing_rules_file_is_named(make_app: Callable[..., FastAPI], tmp_path: Path) -> None:
    with pytest.raises(FaultFileError, match=re.escape(f"cannot read {tmp_path / 'nope.yaml'}: No such file")):
        make_app(faults=tmp_path / "nope.yaml")


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "app", "serve", *args], stderr=subprocess.PIPE, text=True)


def test_serve_with_a_bad_rules_file_exits_with_cannot_start(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("- http: {status: 502}\n  error: {code: SYS.1000}\n", encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", "0", "--database-url", database_url, "--faults", str(path)],
        capture_output=True, text=True, timeout=60,
    )

    assert result.returncode != 0
    assert f"zstack-mock: cannot start: {path}: invalid rule: 0: Value error, an effect takes at most one" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_installs_the_rules_file(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES_YAML, encoding="utf-8")
    process = _serve("--port", "0", "--database-url", database_url, "--faults", str(path))
    try:
        url = served_url(process)
        with httpx.Client(base_url=url) as client:
            assert [r["name"] for r in list_rules(client)] == ["images down", "slow logins"]
            session = login(client)
            assert client.get("/zstack/v1/images", headers=auth(session)).status_code == 503
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
