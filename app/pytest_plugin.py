"""The pytest plugin (entry point ``pytest11``: ``zstack_mock``): a zstack-mock server for a test suite.

Fixtures ``zstack_mock`` (the server, reset to its fixtures before every test that uses it), ``zstack_control``,
``zstack_session`` and ``zstack_url``; markers ``zstack_fault``, ``zstack_fixtures`` and ``zstack_settings``;
``--zstack-mock-url`` (or ``ZSTACK_MOCK_URL``) to use a server that runs elsewhere. A failing test that used
the server gets the journal of its requests in its report. See docs/testing.md.

Loading the plugin imports nothing but pytest: the server is built when a fixture first asks for it.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .control_client import Control
    from .embedded import MockServer

URL_ENV = "ZSTACK_MOCK_URL"
TOKEN_ENV = "ZSTACK_MOCK_ADMIN_TOKEN"
REPORT_SECTION = "zstack-mock requests"
#: Journal entries a failure report shows at most (the last ones).
REPORT_LIMIT = 200

MARKERS = (
    "zstack_fault(rule=None, **fields): a zstack-mock fault rule for this test only (the arguments of "
    "Control.fault, e.g. operation='LogInByAccount', error='SYS.1006')",
    "zstack_fixtures(path): this test's zstack-mock server loads this fixtures file (relative to the test file)",
    "zstack_settings(**settings): this test's zstack-mock server runs with these settings (api_mode='async', ...); "
    "one server per distinct settings",
)

_CONTROL = pytest.StashKey["Control"]()


@dataclass(frozen=True)
class RemoteServer:
    """A server that runs elsewhere (``--zstack-mock-url``): its ``url`` and a ``control`` bound to it."""

    url: str
    control: Control
    app: None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zstack-mock")
    group.addoption(
        "--zstack-mock-url", default=None, metavar="URL",
        help=f"Use the zstack-mock server at URL instead of starting one in the test process (env: {URL_ENV}).",
    )
    group.addoption(
        "--zstack-mock-token", default=None, metavar="TOKEN",
        help=f"The admin token of the server at --zstack-mock-url (env: {TOKEN_ENV}).",
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)


class Servers:
    """The servers of one test session (one pytest-xdist worker): embedded ones, one per distinct
    settings, started when first asked for; or the remote one."""

    def __init__(self, url: str | None, token: str | None) -> None:
        self.url, self.token = url, token
        self.embedded: dict[tuple[tuple[str, str], ...], MockServer] = {}
        self.remote: RemoteServer | None = None

    def get(self, settings: dict[str, Any]) -> MockServer | RemoteServer:
        if self.url is not None:
            if settings:
                pytest.fail(f"zstack_settings and zstack_fixtures need a server started here, but the tests use the "
                            f"one at {self.url} (--zstack-mock-url, {URL_ENV}); asked for {settings}", pytrace=False)
            if self.remote is None:
                from .control_client import Control

                self.remote = RemoteServer(self.url, Control(self.url, token=self.token))
            return self.remote
        key = tuple(sorted((name, repr(value)) for name, value in settings.items()))
        server = self.embedded.get(key)
        if server is None:
            from .embedded import MockServer

            server = self.embedded[key] = MockServer(**settings).start()
        return server

    def close(self) -> None:
        for server in self.embedded.values():
            server.stop()
        if self.remote is not None:
            self.remote.control.close()


@pytest.fixture(scope="session")
def zstack_mock_servers(pytestconfig: pytest.Config) -> Iterator[Servers]:
    """Every server the session's tests asked for; stopped at the end of the session."""
    url = pytestconfig.getoption("zstack_mock_url") or os.environ.get(URL_ENV) or None
    token = pytestconfig.getoption("zstack_mock_token") or os.environ.get(TOKEN_ENV) or None
    servers = Servers(url, token)
    yield servers
    servers.close()


@pytest.fixture
def zstack_mock(request: pytest.FixtureRequest, zstack_mock_servers: Servers) -> Iterator[MockServer | RemoteServer]:
    """The zstack-mock server of this test, reset to its fixtures, with the test's fault markers installed."""
    server = zstack_mock_servers.get(_settings_of(request))
    control = server.control
    control.reset()
    request.node.stash[_CONTROL] = control
    rules = [control.fault(*mark.args, **mark.kwargs) for mark in request.node.iter_markers("zstack_fault")]
    yield server
    for rule in rules:
        rule.remove()


@pytest.fixture
def zstack_control(zstack_mock: MockServer | RemoteServer) -> Control:
    return zstack_mock.control


@pytest.fixture
def zstack_url(zstack_mock: MockServer | RemoteServer) -> str:
    return zstack_mock.url


@pytest.fixture
def zstack_session(zstack_control: Control) -> str:
    """A live session of the admin account (minted: no login appears in the journal)."""
    return zstack_control.login()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    control = item.stash.get(_CONTROL, None)
    if control is not None and report.failed and report.when == "call":
        report.sections.append((REPORT_SECTION, _journal_text(control)))
    return report


def _settings_of(request: pytest.FixtureRequest) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    # Closest last, so that a test's marker wins over its class's and module's.
    for mark in reversed(list(request.node.iter_markers("zstack_settings"))):
        settings.update(mark.kwargs)
    fixtures = request.node.get_closest_marker("zstack_fixtures")
    if fixtures is not None:
        if len(fixtures.args) != 1:
            pytest.fail("zstack_fixtures takes one argument: the fixtures file's path", pytrace=False)
        settings["fixtures"] = (Path(request.path).parent / fixtures.args[0]).resolve()
    return settings


def _journal_text(control: Control) -> str:
    try:
        entries = control.requests(limit=REPORT_LIMIT)
    except Exception as error:  # the report must not hide the test's own failure
        return f"(the journal could not be read: {error})"
    if not entries:
        return "(no requests reached the server during this test)"
    return "\n".join(entry.line() for entry in entries)
