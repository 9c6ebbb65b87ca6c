"""The console page in a real browser: log in, send, scenarios, async polling, sandbox visitors, access."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from tests.browser.console_page import ConsolePage, console
from tests.conftest import LiveServer
from tests.helpers import BACKUP_OF_ALICE, BACKUP_WITH_METADATA, BS_READY, CREATE_PATH, auth, login, sha512

#: Where ``make screenshot`` asks the screenshot test to save the picture for the README.
SCREENSHOT_ENV = "ZSTACK_MOCK_SCREENSHOT"


def test_the_default_request_after_a_login_creates_an_image(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    server = live_server()
    page = console(new_page, server)

    session = page.log_in()
    page.send()

    assert page.wait_for_result().startswith("200 OK: ImageInventory ")
    expect(page.response_status).to_have_text("200 OK")
    image = page.response_body()["inventory"]
    assert image["mediaType"] == "RootVolumeTemplate"
    assert image["name"] == "My Volume Template"
    assert image["backupStorageRefs"][0]["backupStorageUuid"] == BS_READY
    found = httpx.get(f"{server.url}/zstack/v1/images/{image['uuid']}", headers=auth(session)).json()
    assert found["inventories"][0]["status"] == "Ready"


def test_the_defaults_are_the_examples_and_the_query_apis_choices(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    server = live_server()
    page = console(new_page, server)
    assert page.field("backupUuid").input_value() == ""  # nothing to offer before a session

    page.log_in()

    assert page.field("backupUuid").input_value() == BACKUP_WITH_METADATA  # the first Ready one on the storage
    assert page.field("params.backupStorageUuid").input_value() == BS_READY  # the documented example's
    assert page.field("params.name").input_value() == "My Volume Template"
    assert page.field("params.platform").input_value() == "Linux"
    assert page.field("params.system").input_value() == "false"
    assert page.field("params.guestOsType").input_value() == ""
    expect(page.page.locator("#path-backupUuid-match")).to_contain_text("web-01-root-backup")
    offered = page.page.locator("#backups-choices option")
    expect(offered).to_have_count(5)
    expect(page.session_status).to_contain_text("5 volume backups and 3 backup storages")


def test_every_field_carries_its_description_from_the_openapi_document(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    server = live_server()
    document = httpx.get(f"{server.url}/openapi.json").json()
    schemas = document["components"]["schemas"]
    page = console(new_page, server)

    expected = {"backupUuid": "The UUID of the volume backup."}
    for prefix, schema in (("", "CreateRootVolumeTemplateFromVolumeBackupRequest"),
                           ("params.", "CreateRootVolumeTemplateFromVolumeBackupParams")):
        for name, field in schemas[schema]["properties"].items():
            if name != "params":
                expected[prefix + name] = field["description"]
    assert len(expected) >= 15  # the path parameter, 3 top-level fields, 11 in params (today)
    for name, description in expected.items():
        control = page.field(name)
        expect(control).to_have_accessible_description(re.compile(re.escape(description)))


def test_a_scenario_answers_its_error_code(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    server = live_server()
    page = console(new_page, server)
    page.log_in()

    page.page.get_by_label("Scenario").select_option("backup-storage-disconnected")
    expect(page.page.locator("#scenario-description")).to_contain_text("Disconnected")
    page.send()

    verdict = page.wait_for_result("error")
    assert verdict.startswith("503 Service Unavailable: ErrorCode SYS.1002 (cause SYS.1006)"), verdict
    error = page.response_body()["error"]
    assert error["code"] == "SYS.1002"
    assert error["cause"]["code"] == "SYS.1006"
    expect(page.page.locator("#sent-request")).to_contain_text("X-Mock-Scenario: backup-storage-disconnected")


def test_a_wire_fault_shows_that_no_answer_came(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    page = console(new_page, live_server())
    page.log_in()

    page.page.get_by_label("Scenario").select_option("connection-reset")
    page.send()

    verdict = page.wait_for_result("error")
    assert verdict.startswith("No HTTP answer"), verdict
    assert "connection-reset" in verdict
    expect(page.response_status).to_have_text("No answer")


def test_an_async_call_shows_each_poll_until_the_result(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    server = live_server()
    httpx.put(f"{server.url}/_mock/jobs/settings", json={"holdNewJobs": True}).raise_for_status()
    page = console(new_page, server)
    page.log_in()

    page.page.get_by_label("Asynchronous").check()
    page.send()

    expect(page.response_status).to_have_text("202 Accepted")
    steps = page.page.locator("#poll-steps > li")
    expect(steps.first).to_have_attribute("data-status", "202")
    expect(steps.first).to_contain_text("the job is still running")
    httpx.post(f"{server.url}/_mock/jobs/release").raise_for_status()
    assert page.wait_for_result().startswith("Job finished after ")
    expect(steps.last).to_have_attribute("data-status", "200")
    expect(steps.last).to_contain_text('"status": "Ready"')
    expect(page.page.locator("#sent-request")).to_contain_text("Prefer: respond-async")
    assert "/zstack/v1/api-jobs/" in steps.first.inner_text()


def test_the_curl_command_is_the_request_that_was_sent(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    server = live_server()
    page = console(new_page, server)
    page.log_in()
    page.field("params.name").fill("copied by curl")
    page.send()
    page.wait_for_result()

    words = shlex.split(page.page.locator("#sent-curl").inner_text().replace("\\\n", " "))
    assert words[:4] == ["curl", "-i", "-X", "POST"]
    headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
    body = words[words.index("-d") + 1]
    replayed = httpx.post(words[4], headers=headers, content=body)

    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["inventory"]["name"] == "copied by curl"
    sent = page.page.locator("#sent-request").inner_text()
    assert sent.startswith(f"POST {CREATE_PATH.format(BACKUP_WITH_METADATA)} HTTP/1.1")
    assert sent.endswith(body)


def test_a_pasted_session_is_the_auth_context(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    server = live_server()
    with httpx.Client(base_url=server.url) as client:
        alice = login(client, "alice")
    page = console(new_page, server)

    page.use_session("0" * 32)
    expect(page.session_status).to_have_attribute("data-tone", "error")
    expect(page.session_status).to_contain_text("ID.1001")
    page.use_session(alice)
    expect(page.session_status).to_have_attribute("data-tone", "ok")

    assert page.field("backupUuid").input_value() == BACKUP_OF_ALICE  # the only backup alice sees
    page.send()
    assert "ErrorCode ID.1002" in page.wait_for_result("error")  # the example's tag is admin's
    page.field("params.tagUuids").fill("")
    page.send()
    assert page.wait_for_result().startswith("200 OK: ImageInventory")
    expect(page.page.locator("#sent-request")).to_contain_text(f"Authorization: OAuth {alice}")


def test_a_wrong_password_shows_zstacks_error(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    page = console(new_page, live_server())

    page.page.get_by_label("password", exact=True).fill("not-the-password")
    page.page.get_by_role("button", name="Log in").click()

    expect(page.session_status).to_have_attribute("data-tone", "error")
    expect(page.session_status).to_contain_text("Login failed: ID.")


def test_the_session_outlives_a_reload_and_logging_out_ends_it(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    server = live_server()
    page = console(new_page, server)
    session = page.log_in()

    page.open()
    expect(page.session_status).to_have_attribute("data-tone", "ok")
    assert page.session() == session
    page.page.get_by_role("button", name="Log out").click()

    expect(page.session_status).to_contain_text("Logged out")
    valid = httpx.get(f"{server.url}/zstack/v1/accounts/sessions/{session}/valid").json()
    assert valid == {"valid": False}


def test_two_visitors_in_sandbox_mode_never_see_each_others_images(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    server = live_server(sandbox=True)
    visitors = [console(new_page, server), console(new_page, server)]  # two browser contexts
    expect(visitors[0].page.locator("#server-info")).to_contain_text("sandbox mode")

    images = []
    for number, visitor in enumerate(visitors):
        visitor.log_in()
        visitor.field("params.name").fill(f"visitor-{number}")
        visitor.send()
        visitor.wait_for_result()
        images.append(visitor.response_body()["inventory"]["uuid"])

    assert visitors[0].session() != visitors[1].session()
    for number, visitor in enumerate(visitors):
        seen = visitor.page.evaluate(
            """async (session) => {
                const reply = await fetch("/zstack/v1/images?fields=uuid", {headers: {Authorization: `OAuth ${session}`}});
                return (await reply.json()).inventories.map((image) => image.uuid);
            }""",
            visitor.session(),
        )
        assert images[number] in seen
        assert images[1 - number] not in seen


def test_the_page_loads_and_calls_nothing_but_its_own_server(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    server = live_server()
    browser_page = new_page()
    requested: list[str] = []
    browser_page.on("request", lambda request: requested.append(request.url))
    page = ConsolePage(browser_page, server.url).open()
    page.log_in()
    page.page.get_by_label("Asynchronous").check()
    page.send()
    page.wait_for_result()
    expect(page.result_status).to_contain_text("Job finished")

    assert any(url.endswith(".js") for url in requested) and any(url.endswith(".css") for url in requested)
    assert any("/openapi.json" in url for url in requested)
    assert any("/_mock/scenarios" in url for url in requested)
    assert [url for url in requested if not url.startswith(server.url + "/")] == []


class PathPrefixProxy:
    """What a reverse proxy serving the app under ``/prefix`` does: strips the prefix, 404s the rest."""

    def __init__(self, app: FastAPI, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if not scope["path"].startswith(self.prefix + "/"):
                await PlainTextResponse("not behind the prefix", status_code=404)(scope, receive, send)
                return
            path = scope["path"][len(self.prefix):]
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)


def test_the_page_works_behind_a_proxy_that_adds_a_path_prefix(
    make_app: Callable[..., FastAPI], new_page: Callable[..., Page]
) -> None:
    server = LiveServer(PathPrefixProxy(make_app(), "/zstack-mock")).start()  # type: ignore[arg-type]
    try:
        page = ConsolePage(new_page(), f"{server.url}/zstack-mock").open()
        page.log_in()
        page.send()

        assert page.wait_for_result().startswith("200 OK: ImageInventory")
        expect(page.page.locator("#sent-request")).to_contain_text("POST /zstack-mock/zstack/v1/images/")
    finally:
        server.stop()


def test_the_page_fits_a_narrow_screen(live_server: Callable[..., LiveServer], new_page: Callable[..., Page]) -> None:
    server = live_server()
    page = console(new_page, server, width=360, height=740)
    page.log_in()
    page.page.get_by_label("Asynchronous").check()
    page.send()
    expect(page.result_status).to_contain_text("Job finished")

    widths = page.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1] == 360, widths
    overflowing = page.page.evaluate(
        """() => Array.from(document.querySelectorAll("body *"))
            .filter((node) => node.getClientRects().length && node.getBoundingClientRect().right > 360.5)
            .map((node) => node.id || node.tagName)"""
    )
    assert overflowing == []


def test_every_control_has_a_label_and_is_reached_by_tab(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    server = live_server()
    page = console(new_page, server)
    page.log_in()
    page.send()
    page.wait_for_result()

    unlabelled = page.page.evaluate(
        """() => Array.from(document.querySelectorAll("input, select, textarea"))
            .filter((control) => !control.labels.length && !control.getAttribute("aria-label"))
            .map((control) => control.id || control.name)"""
    )
    assert unlabelled == []
    expect(page.result_status).to_have_attribute("aria-live", "polite")
    focusable = set(page.page.evaluate(
        """() => Array.from(document.querySelectorAll("a[href], button, input, select, summary, [tabindex='0']"))
            .filter((node) => node.getClientRects().length && !node.disabled)
            .filter((node) => !(node.type === "radio" && !node.checked))
            .map((node) => node.id || node.name || node.textContent.trim())"""
    ))
    reached: set[str] = set()
    outlines: set[str] = set()
    for _ in range(2 * len(focusable) + 5):  # from wherever the focus is, round the page at least once
        page.page.keyboard.press("Tab")
        name, outline = page.page.evaluate("""() => {
            const node = document.activeElement;
            if (node === document.body) return [null, null];  // past the last control
            return [node.id || node.name || node.textContent.trim(), getComputedStyle(node).outlineStyle];
        }""")
        if name is not None:
            reached.add(name)
            outlines.add(outline)
    assert focusable <= reached, focusable - reached
    assert outlines == {"solid"}  # every focused control shows where the focus is


def test_a_keyboard_alone_logs_in_and_sends(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    page = console(new_page, live_server())

    page.page.get_by_label("password", exact=True).focus()
    page.page.keyboard.press("Enter")  # submits the login form
    expect(page.session_status).to_have_attribute("data-tone", "ok")
    page.field("params.name").focus()
    page.page.keyboard.press("Enter")  # submits the request form
    assert page.wait_for_result().startswith("200 OK: ImageInventory")


def test_the_sha512_fallback_matches_webcrypto(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    page = console(new_page, live_server())

    for text in ("", "password", "é" * 70, "x" * 111, "x" * 112, "x" * 300):
        digest = page.page.evaluate(
            "(text) => zstackMockConsole.sha512HexFallback(new TextEncoder().encode(text))", text
        )
        assert digest == sha512(text), text
    assert page.page.evaluate("zstackMockConsole.sha512Hex('password')") == sha512("password")


def test_a_screenshot_of_a_successful_call(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page], tmp_path: Path
) -> None:
    """Saves ``docs/console.png`` for the README under ``make screenshot``; elsewhere a throwaway copy."""
    server = live_server(seed=1)
    httpx.put(f"{server.url}/_mock/clock", json={"now": "2026-03-02T09:30:00Z", "frozen": True}).raise_for_status()
    page = console(new_page, server, width=1280, height=1400)
    page.log_in()
    page.send()
    page.wait_for_result()
    page.page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")

    target = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "console.png")
    page.page.screenshot(path=str(target))

    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
