"""Stored XSS, in a real browser (Chromium through Playwright's async API) with the server's
Content-Security-Policy on: markup in member names (console form and CSV cells), the space
name, an app's name, and the DingTalk profile (the simulator's user named with markup) is shown
as text on every page that shows it (console, binding page, space home), no dialog opens and
no injected element appears. The browser renders what the in-process server answers (its
requests are routed to the app in the test's event loop; the in-process client keeps the
cookies). A last case proves the policy itself: an inline script under it does not run.

Other XSS guards: ``tests/web/test_form_fields.py`` (attributes escaped once);
``tests/security/test_csp.py`` (no inline script, style or handler in any template)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from dingbridge.sim.defaults import DEMO_CORP_ID
from dingbridge.spaces.app_input import AppInput
from dingbridge.spaces.apps import create_space_app
from dingbridge.spaces.members import MemberInput, add_member
from dingbridge.spaces.store import rename_space
from dingbridge.web.security_headers import content_security_policy
from tests.asgi_client import AsgiClient, exchange
from tests.signin.signin_world import SERVER, SIM, World, admin_browser

pytestmark = pytest.mark.browser

SCRIPT = '<script>alert("xss-script")</script>'
IMG = '"><img src=x onerror=alert("xss-img")>'
SVG = "<svg onload=alert('xss-svg')>"
INJECTED = "script:not([src]), img[src='x'], svg[onload], [onerror], [onload]"


async def _route_to(world: World, client: AsgiClient, route: Any) -> None:
    """Answer the browser's request from the in-process server (or simulator)."""
    request = route.request
    url = urlsplit(request.url)
    path = url.path + (f"?{url.query}" if url.query else "")
    if request.url.startswith(SIM):
        answer = await exchange(world.sim_app, "GET", path, host="sim.test")
    else:
        headers = {"content-type": request.headers.get("content-type", "")}
        body = request.post_data_buffer
        answer = await client.request(request.method, path, body=body, headers=headers)
        assert answer.header("content-security-policy"), path
    headers = {k: v for k, v in answer.headers if k != "set-cookie"}
    await route.fulfill(status=answer.status, headers=headers, body=answer.body)


async def _look(browser: Any, world: World, client: AsgiClient, path: str) -> tuple[str, int]:
    """The page's visible text and how many injected elements or dialogs it had."""
    context = await browser.new_context(locale="zh-CN")
    dialogs: list[str] = []
    page = await context.new_page()
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))

    async def handler(route: Any) -> None:
        await _route_to(world, client, route)

    await page.route("**/*", handler)
    await page.goto(SERVER + path)
    await page.wait_for_load_state("load")
    text = await page.inner_text("body")
    injected = await page.locator(INJECTED).count()
    await context.close()
    return text, injected + len(dialogs)


async def _plant(world: World) -> tuple[AsgiClient, list[tuple[str, list[str]]]]:
    """Markup everywhere a name is shown; the admin's client and what each page shows."""
    context = world.context
    async with context.db.transaction() as session:
        await rename_space(session, 10001, IMG, actor="test")
        member = await add_member(session, 10001, MemberInput(SCRIPT, "13800000011"), actor="t")
        app = await create_space_app(
            session, 10001, AppInput(name=SVG + IMG, url="/10001/"), actor="test"
        )
    await context.signin.spaces.settle()
    admin = await admin_browser(world)
    page = await admin.get("/admin/spaces/10001/import")
    csv = f"姓名,手机号\n{SVG},13800000012\n{IMG},13800000013\n".encode()
    imported = await admin.post(
        "/admin/spaces/10001/import",
        {"csrf_token": page.csrf()},
        files={"file": ("members.csv", csv, "text/csv")},
    )
    assert imported.status in (200, 303), imported.text[:300]
    user = world.sim.user(DEMO_CORP_ID, "user001")
    assert user is not None
    user.name = IMG + SCRIPT
    pages = [
        ("/admin/spaces", [IMG]),
        ("/admin/spaces/10001", [IMG]),
        ("/admin/spaces/10001/members", [SCRIPT, SVG, IMG]),
        (f"/admin/spaces/10001/members/{member.id}", [SCRIPT]),
        ("/admin/spaces/10001/apps", [SVG + IMG]),
        (f"/admin/spaces/10001/apps/{app.detail.app.id}", [SVG + IMG]),
        ("/admin/audit", [SCRIPT]),  # in the entry's sentence
    ]
    return admin, pages


async def test_markup_in_names_is_shown_as_text_everywhere(world: World, browser: Any) -> None:
    admin, pages = await _plant(world)
    member = world.new_browser()
    binding = await world.in_client(member, "user001")
    assert 'id="bind"' in binding.text
    checked = 0
    text, bad = await _look(browser, world, member, "/10001/bind")
    assert bad == 0 and IMG + SCRIPT in text, text
    await world.bind(member, "13800000011")
    for path, shown in [("/10001/", [SCRIPT, SVG + IMG, IMG]), *pages]:
        client = member if path.startswith("/10001") else admin
        text, bad = await _look(browser, world, client, path)
        assert bad == 0, f"{path}: {bad} injected elements or dialogs"
        for value in shown:
            assert value in text, f"{path} does not show {value!r} as text"
            checked += 1
    signin_page = await admin.get("/admin/spaces/10001/signin")
    assert IMG + SCRIPT not in signin_page.text  # the DingTalk name is not raw anywhere
    assert checked == 12


async def test_the_policy_stops_an_inline_script_and_a_handler(browser: Any) -> None:
    """If markup ever got through, the CSP would still keep it from running."""
    context = await browser.new_context()
    page = await context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    policy = content_security_policy("/10001/", "http://sim.test")
    html = f"<!doctype html><title>t</title>{SCRIPT}{IMG}<p id=done>done</p>"

    async def handler(route: Any) -> None:
        headers = {"content-type": "text/html", "content-security-policy": policy}
        await route.fulfill(status=200, headers=headers, body=html)

    await page.route("**/*", handler)
    await page.goto(SERVER + "/10001/")
    await page.wait_for_selector("#done")
    await page.wait_for_timeout(200)  # an img error event would fire by now
    assert dialogs == []
    await context.close()
