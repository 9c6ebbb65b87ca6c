"""deploy/docker-compose.yml and deploy/haproxy.cfg (docs/scale-out.md): PostgreSQL 15, two replicas built
from the project's Dockerfile and wired to that database, and HAProxy in front of both, checking each on
/_mock/health. No container runs here (see docs/ci.md): the files are read as Compose and HAProxy read
them, and held to the image and to each other."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
REPLICAS = ("replica-a", "replica-b")


def _image_port() -> int:
    """The port the image's server listens on."""
    match = re.search(r"ZSTACK_MOCK_PORT=(\d+)", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    assert match, "the Dockerfile no longer sets ZSTACK_MOCK_PORT"
    return int(match[1])


IMAGE_PORT = _image_port()


def _interpolated(text: str) -> str:
    """Compose's ``${NAME:-default}`` with nothing set: the default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text)


def compose() -> dict[str, Any]:
    text = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(_interpolated(text))
    return document


def haproxy() -> list[list[str]]:
    """The configuration's lines, split into words, comments and blank lines left out."""
    text = (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8")
    lines = (line.split("#", 1)[0].split() for line in text.splitlines())
    return [words for words in lines if words]


def test_postgresql_15_and_two_replicas_built_from_the_dockerfile_over_its_database() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", *REPLICAS, "proxy"}
    database = services["postgres"]
    assert database["image"] == "postgres:15"
    assert database["healthcheck"]["test"][0] == "CMD-SHELL" and "pg_isready" in database["healthcheck"]["test"][1]
    settings = database["environment"]
    for name in REPLICAS:
        replica = services[name]
        assert (DEPLOY / replica["build"]["context"]).resolve() == ROOT and (ROOT / "Dockerfile").exists()
        url = urlsplit(replica["environment"]["ZSTACK_MOCK_DATABASE_URL"])
        assert (url.scheme, url.hostname, url.port) == ("postgresql", "postgres", 5432)
        assert (url.username, url.password, url.path) == (
            settings["POSTGRES_USER"], settings["POSTGRES_PASSWORD"], f"/{settings['POSTGRES_DB']}")
        assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
        probe = " ".join(replica["healthcheck"]["test"])
        assert f"http://127.0.0.1:{IMAGE_PORT}/_mock/health" in probe
        assert "ports" not in replica  # reached through the proxy only


def test_the_proxy_is_the_one_published_port_and_balances_over_both_replicas_checked_on_health() -> None:
    proxy = compose()["services"]["proxy"]
    assert proxy["image"].startswith("haproxy:")
    mounted = {volume.split(":")[1]: DEPLOY / volume.split(":")[0] for volume in proxy["volumes"]}
    assert mounted["/usr/local/etc/haproxy/haproxy.cfg"] == DEPLOY / "haproxy.cfg"
    assert {name: spec["condition"] for name, spec in proxy["depends_on"].items()} == dict.fromkeys(
        REPLICAS, "service_healthy")
    published = [int(port.split(":")[1]) for port in proxy["ports"]]

    config = haproxy()
    binds = [int(words[1].rsplit(":", 1)[1]) for words in config if words[0] == "bind"]
    assert binds == published
    assert ["option", "httpchk", "GET", "/_mock/health"] in config
    assert ["http-check", "expect", "status", "200"] in config
    servers = {words[1]: words[2] for words in config if words[0] == "server"}
    assert servers == {name: f"{name}:{IMAGE_PORT}" for name in REPLICAS}
    defaults = next(words for words in config if words[0] == "default-server")
    assert "check" in defaults
