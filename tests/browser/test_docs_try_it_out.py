"""/docs' Try It Out, as a reader of the API documentation uses it: Authorize with a session, run the create."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.helpers import auth, login

CREATE = "/zstack/v1/images/root-volume-templates/from/volume-template/{backupUuid}"


def test_authorize_with_a_session_then_try_the_create(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    server = live_server()
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
    page = new_page()
    page.goto(f"{server.url}/docs")
    page.get_by_role("button", name="Authorize").first.click()
    form = page.locator(".dialog-ux .auth-container", has_text="ZStackSession")
    form.get_by_label("Value:").fill(f"OAuth {session}")
    form.get_by_role("button", name="Apply credentials").click()
    form.get_by_role("button", name="Close").click()

    operation = page.locator("#operations-Backup_Service_Operations-CreateRootVolumeTemplateFromVolumeBackup")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator("tr[data-param-name='backupUuid'] input").fill("b67eee0a52b04816906cdf207adb00c0")
    examples = operation.locator(".opblock-section-request-body select", has=page.locator("option[value='documentation']"))
    examples.select_option(value="default-fixtures")
    operation.get_by_role("button", name="Execute").click()

    status = operation.locator(".live-responses-table .response .response-col_status").first
    expect(status).to_have_text("200")
    body = operation.locator(".live-responses-table .response-col_description pre").first.inner_text()
    assert '"name": "My Volume Template"' in body
    with httpx.Client(base_url=server.url) as client:
        names = [i["name"] for i in client.get("/zstack/v1/images", headers=auth(session)).json()["inventories"]]
    assert "My Volume Template" in names


def test_redoc_asks_no_other_host_for_anything(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    server = live_server()
    page = new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server.url}/redoc")
    expect(page.locator("h1").first).to_contain_text("zstack-mock")
    page.wait_for_load_state("networkidle")
    own = urlsplit(server.url).netloc
    elsewhere = [url for url in requested if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != own]
    assert elsewhere == []
