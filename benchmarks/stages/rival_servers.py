"""The rivals of the ``rivals`` stage: WireMock and Prism, installed from npm at pinned versions into
benchmarks/.tools/ (git-ignored) when missing, Java from Debian; and the commands that serve them.

WireMock runs as ``java -jar`` on the standalone jar its npm package bundles (not through the package's
node wrapper, which would leave the JVM behind when stopped by its pid); Prism as ``node`` on its CLI's
entry point. Both on a free 127.0.0.1 port, as ``serving.Server``s: started, waited for and stopped by pid.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness import apt_install
from serving import BENCH_DIR, CREATE, HOST, ROOT, BenchError, Server, free_port

WIREMOCK_VERSION = "3.13.2"  # the npm package of the same version bundles this standalone jar
PRISM_VERSION = "5.14.2"
JAVA_PACKAGE = "openjdk-17-jre-headless"  # Debian 12's
TOOLS_DIR = BENCH_DIR / ".tools"
MODULES = TOOLS_DIR / "node_modules"
WIREMOCK_JAR = MODULES / "wiremock" / "build" / f"wiremock-standalone-{WIREMOCK_VERSION}.jar"
PRISM_PACKAGE = MODULES / "@stoplight" / "prism-cli"
OPENAPI = ROOT / "openapi" / "openapi.json"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"  # what zstack-mock's create answers with


@dataclass(frozen=True)
class Tools:
    java: str
    node: str
    wiremock_jar: Path
    prism_cli: Path  # the CLI's entry point, run with node


def ensure_tools() -> Tools:
    """Java, node, the WireMock jar and the Prism CLI at their pinned versions, installing what is missing."""
    java = _ensure_java()
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise BenchError(
            "the rivals stage needs node (>= 18.20) and npm to install WireMock and Prism: install them "
            "(e.g. 'apt-get install -y nodejs npm' or from nodejs.org), or leave the stage out with BENCH_STAGES"
        )
    if not (WIREMOCK_JAR.is_file() and _prism_version() == PRISM_VERSION):
        packages = [f"wiremock@{WIREMOCK_VERSION}", f"@stoplight/prism-cli@{PRISM_VERSION}"]
        print(f"  installing {' and '.join(packages)} from npm into {TOOLS_DIR.relative_to(ROOT)}/", flush=True)
        TOOLS_DIR.mkdir(parents=True, exist_ok=True)
        argv = [npm, "install", "--prefix", str(TOOLS_DIR), "--no-audit", "--no-fund", "--save-exact", *packages]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{' '.join(argv)} took more than 15 minutes") from None
        if done.returncode != 0:
            raise BenchError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    if not WIREMOCK_JAR.is_file():
        raise BenchError(f"npm installed wiremock@{WIREMOCK_VERSION} but {WIREMOCK_JAR} is not there")
    if _prism_version() != PRISM_VERSION:
        raise BenchError(f"npm installed @stoplight/prism-cli but its version is {_prism_version()}, not {PRISM_VERSION}")
    return Tools(java, node, WIREMOCK_JAR, PRISM_PACKAGE / "dist" / "index.js")


def _ensure_java() -> str:
    java = shutil.which("java")
    if java:
        return java
    if os.geteuid() != 0:
        raise BenchError(f"WireMock needs java: install it as root with 'apt-get install -y {JAVA_PACKAGE}'")
    print(f"  java not found: installing it with apt-get (Debian package {JAVA_PACKAGE})", flush=True)
    apt_install(JAVA_PACKAGE)
    java = shutil.which("java")
    if not java:
        raise BenchError(f"java is still missing after apt-get install {JAVA_PACKAGE}")
    return java


def _prism_version() -> str | None:
    try:
        return str(json.loads((PRISM_PACKAGE / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def wiremock_server(tools: Tools, root: Path, reply: bytes, log_path: Path, *, journal: bool) -> Server:
    """WireMock on a free port with one static stub: ``POST`` on the create path answers ``reply`` (any
    body, any header), from a mapping file under ``root``; not started."""
    mappings = root / "mappings"
    mappings.mkdir(parents=True, exist_ok=True)
    stub = {
        "request": {"method": "POST", "urlPath": CREATE},
        "response": {"status": 200, "headers": {"Content-Type": JSON_CONTENT_TYPE}, "body": reply.decode()},
    }
    (mappings / "create.json").write_text(json.dumps(stub), encoding="utf-8")
    argv = [tools.java, "-jar", str(tools.wiremock_jar), "--port", str(free_port()), "--bind-address", HOST,
            "--root-dir", str(root), "--disable-banner"]
    if not journal:
        argv.append("--no-request-journal")
    name = f"WireMock {WIREMOCK_VERSION}" + ("" if journal else " --no-request-journal")
    return Server(name, argv, os.environ, log_path)


def prism_proxy(tools: Tools, upstream: Server, log_path: Path) -> Server:
    """Prism in proxy mode on a free port: validates each request and answer against zstack-mock's OpenAPI
    document and forwards to ``upstream``; ``--errors`` turns a violation into an error answer. Not started."""
    argv = [tools.node, str(tools.prism_cli), "proxy", str(OPENAPI), upstream.url, "--errors",
            "--host", HOST, "--port", str(free_port())]
    return Server(f"Prism {PRISM_VERSION} proxy", argv, os.environ, log_path)
