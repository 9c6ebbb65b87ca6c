"""The console's lifecycle panel in a real browser: what each button sends, and the image as the page and the API show it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.browser.console_page import ConsolePage, console
from tests.conftest import LiveServer
from tests.helpers import EXISTING_IMAGE
from tests.lifecycle.support import queried

OK = "200 OK"


def on_server(client: httpx.Client, session: str, image: str) -> dict[str, Any]:
    """The image as the API's query shows it, which must find it."""
    found = queried(client, session, image)
    assert found is not None
    return found


def sent(page: ConsolePage) -> tuple[str, str]:
    """The request line and the body of the last call, as the Result panel shows them."""
    head, _, body = page.page.locator("#sent-request").inner_text().partition("\n\n")
    return head.splitlines()[0], body


def test_a_created_image_goes_through_its_whole_lifecycle_click_by_click(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    server = live_server()
    page = console(new_page, server)
    expect(page.page.get_by_role("button", name="Delete (DeleteImage)")).to_be_disabled()  # no image yet
    session = page.log_in()
    page.send()

    page.expect_image(f"CreateRootVolumeTemplateFromVolumeBackup ({OK})",
                      name="My Volume Template", status="Ready", state="Enabled")
    image = page.response_body()["inventory"]["uuid"]
    expect(page.image_uuid).to_have_value(image)
    actions = f"PUT /zstack/v1/images/{image}/actions HTTP/1.1"

    with httpx.Client(base_url=server.url) as client:
        page.page.get_by_label("New name").fill("renamed by a click")
        page.click("Rename")
        page.expect_image(f"UpdateImage ({OK})", name="renamed by a click", status="Ready", state="Enabled")
        assert sent(page) == (actions, json.dumps({"updateImage": {"name": "renamed by a click"}}, indent=2))
        assert page.result_status.inner_text().startswith(f"UpdateImage: {OK}: ImageInventory {image} (renamed by a click")
        assert on_server(client, session, image)["name"] == "renamed by a click"

        page.click("Recover (RecoverImage)")  # a Ready image: ZStack's error, and nothing changes
        page.expect_image("RecoverImage (503 Service Unavailable, SYS.1006)", status="Ready")
        error = page.response_body()["error"]
        assert error["code"] == "SYS.1006"
        assert error["details"].endswith("is not deleted on any backup storage")
        expect(page.result_status).to_have_attribute("data-tone", "error")
        expect(page.result_status).to_contain_text("RecoverImage: 503 Service Unavailable: ErrorCode SYS.1006")

        page.click("Disable (ChangeImageState)")
        page.expect_image(f"ChangeImageState ({OK})", status="Ready", state="Disabled")
        assert sent(page)[1] == json.dumps({"changeImageState": {"stateEvent": "disable"}}, indent=2)
        assert on_server(client, session, image)["state"] == "Disabled"

        page.click("Delete (DeleteImage)")
        page.expect_image(f"DeleteImage ({OK})", name="renamed by a click", status="Deleted", state="Disabled")
        assert sent(page) == (f"DELETE /zstack/v1/images/{image} HTTP/1.1", "")
        assert page.response_body() == {}
        expect(page.result_status).to_have_text(f"DeleteImage: {OK}: {{}}")
        assert on_server(client, session, image)["status"] == "Deleted"

        page.click("Recover (RecoverImage)")
        page.expect_image(f"RecoverImage ({OK})", status="Ready", state="Disabled")
        assert sent(page)[1] == json.dumps({"recoverImage": {}}, indent=2)
        assert on_server(client, session, image)["status"] == "Ready"

        page.click("Delete (DeleteImage)")
        page.expect_image(f"DeleteImage ({OK})", status="Deleted")
        assert on_server(client, session, image)["status"] == "Deleted"

        page.click("Expunge (ExpungeImage)")
        expect(page.page.locator("#image-caption")).to_have_text(
            f"After ExpungeImage ({OK}), GET /zstack/v1/images/{image} finds no image: it was expunged, or never made."
        )
        expect(page.page.locator("#image-facts")).to_be_hidden()
        expect(page.result_status).to_be_in_viewport()  # two columns: the result stays beside the buttons
        assert sent(page) == (actions, json.dumps({"expungeImage": {}}, indent=2))
        assert queried(client, session, image) is None


def test_the_buttons_follow_the_async_choice_and_the_scenario_and_work_from_the_keyboard(
    live_server: Callable[..., LiveServer], new_page: Callable[..., Page]
) -> None:
    server = live_server()
    page = console(new_page, server)
    session = page.log_in()
    page.image_uuid.fill(EXISTING_IMAGE)  # an image of the fixtures, pasted
    page.image_uuid.press("Enter")
    page.expect_image(None, status="Ready", state="Enabled")

    httpx.put(f"{server.url}/_mock/jobs/settings", json={"holdNewJobs": True}).raise_for_status()
    page.page.get_by_label("Asynchronous").check()
    page.click("Disable (ChangeImageState)")
    expect(page.response_status).to_have_text("202 Accepted")
    steps = page.page.locator("#poll-steps > li")
    expect(steps.first).to_contain_text("the job is still running")
    httpx.post(f"{server.url}/_mock/jobs/release").raise_for_status()
    page.expect_image(f"ChangeImageState ({OK})", state="Disabled")
    expect(steps.last).to_have_attribute("data-status", "200")
    expect(page.result_status).to_contain_text("ChangeImageState: Job finished after ")
    expect(page.page.locator("#sent-request")).to_contain_text("Prefer: respond-async")

    httpx.put(f"{server.url}/_mock/jobs/settings", json={"holdNewJobs": False}).raise_for_status()
    page.page.get_by_label("Synchronous: the answer").check()
    page.page.get_by_label("Scenario").select_option("internal-error")
    page.click("Delete (DeleteImage)")
    page.expect_image("DeleteImage (503 Service Unavailable, SYS.1000)", status="Ready")
    expect(page.page.locator("#sent-request")).to_contain_text("X-Mock-Scenario: internal-error")
    with httpx.Client(base_url=server.url) as client:
        assert on_server(client, session, EXISTING_IMAGE)["status"] == "Ready"

    page.page.get_by_label("Scenario").select_option("")
    page.page.get_by_label("New name").fill("renamed from the keyboard")
    page.page.get_by_label("New name").press("Enter")  # submits the rename
    page.expect_image(f"UpdateImage ({OK})", name="renamed from the keyboard")
    page.image_uuid.fill("")
    expect(page.page.get_by_role("button", name="Expunge (ExpungeImage)")).to_be_disabled()
