"""A real Chromium against the simulator: the OAuth pick-user page, and a page "inside DingTalk"
(opened through /_sim/open) whose JSAPI calls the simulator answers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from html import escape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.async_api import Browser
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from dingbridge.sim.background import BackgroundServer
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP, OTHER_CORP_ID
from tests.sim.conftest import app_token, topapi, user_token, users_me

pytestmark = pytest.mark.browser

PAGE = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<script src="{sim}/_sim/jsapi/dingtalk.open.js"></script></head>
<body><p id="platform"></p><p id="code"></p><p id="error"></p>
<script>
const params = new URLSearchParams(location.search);
const show = (id, text) => {{ document.getElementById(id).textContent = text; }};
show("platform", dd.env.platform);
const config = {config};
if (config) {{ dd.config(config); }}
dd.error(e => show("error", "config:" + e.errorCode));
dd.ready(() => {{
  const options = {{corpId: params.get("corpId"), clientId: "{client_id}",
    onSuccess: r => show("code", r.code), onFail: e => show("error", "fail:" + e.errorCode)}};
  if (params.get("api") === "runtime") {{ dd.runtime.permission.requestAuthCode(options); }}
  else {{ dd.requestAuthCode(options); }}
}});
</script></body></html>"""


@pytest.fixture
def page_server(sim_server: Any) -> Iterator[str]:
    """A throwaway app on another port: /app/ loads the simulator's JSAPI script, /callback
    shows what the OAuth redirect brought."""

    async def app_page(request: Request) -> HTMLResponse:
        config: dict[str, Any] | None = None
        mode = request.query_params.get("config")
        if mode:
            ticket = sim_server.state.credentials.jsapi_ticket(FULL_APP.app_key, DEMO_CORP_ID).value
            nonce, timestamp = "nonce-1", "1700000000"
            plain = (
                f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={request.url}"
            )
            digest = hashlib.sha256 if mode == "sha256" else hashlib.sha1
            signature = digest(plain.encode()).hexdigest() if mode != "bad" else "0" * 40
            config = {
                "agentId": str(FULL_APP.agent_id),
                "corpId": DEMO_CORP_ID,
                "timeStamp": timestamp,
                "nonceStr": nonce,
                "signature": signature,
                "jsApiList": ["runtime.info"],
            }
        html = PAGE.format(
            sim=sim_server.url, config=json.dumps(config), client_id=FULL_APP.app_key
        )
        return HTMLResponse(html)

    async def callback(request: Request) -> HTMLResponse:
        items = "".join(
            f'<li id="{escape(k)}">{escape(v)}</li>' for k, v in request.query_params.items()
        )
        return HTMLResponse(f"<ul>{items}</ul>")

    app = Starlette(routes=[Route("/app/", app_page), Route("/callback", callback)])
    with BackgroundServer(app) as server:
        yield server.url


async def test_oauth_page_pick_and_refuse(
    browser: Browser, sim_server: Any, page_server: str
) -> None:
    query = urlencode(
        {
            "client_id": FULL_APP.app_key,
            "redirect_uri": f"{page_server}/callback",
            "response_type": "code",
            "scope": "openid",
            "prompt": "consent",
            "state": "xyz",
        }
    )
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{sim_server.url}/oauth2/auth?{query}")
    assert "钉钉登录授权" in await page.title()
    await page.get_by_role("button", name="李娜", exact=True).click()
    await page.wait_for_url(f"{page_server}/callback?*")
    code = await page.text_content("#code")
    assert code and code == await page.text_content("#authCode")
    assert await page.text_content("#state") == "xyz"
    body = (await user_token(sim_server.app, code)).json()
    me = await users_me(sim_server.app, body["accessToken"])
    assert me.json()["nick"] == "李娜"

    await page.goto(f"{sim_server.url}/oauth2/auth?{query}")
    await page.get_by_role("button", name="拒绝").click()
    await page.wait_for_url(f"{page_server}/callback?*")
    assert parse_qs(urlsplit(page.url).query) == {"error": ["access_denied"], "state": ["xyz"]}

    await page.goto(f"{sim_server.url}/oauth2/auth?{query}")
    await page.get_by_role("button", name="王芳（另一家贸易公司）").click()
    assert "不支持跨企业登录" in (await page.text_content("main") or "")
    await context.close()


async def open_in_dingtalk(
    browser: Browser, sim: str, userid: str, target: str, **extra: str
) -> Any:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{sim}/_sim/open?" + urlencode({"userid": userid, "url": target, **extra}))
    return context, page


async def test_jsapi_inside_and_outside_dingtalk(
    browser: Browser, sim_server: Any, page_server: str
) -> None:
    target = f"{page_server}/app/?corpId={DEMO_CORP_ID}"
    context, page = await open_in_dingtalk(browser, sim_server.url, "user003", target)
    await page.wait_for_selector("#code:not(:empty)")
    assert await page.text_content("#platform") == "android"
    code = await page.text_content("#code")
    token = await app_token(sim_server.app, FULL_APP)
    body = await topapi(sim_server.app, "/topapi/v2/user/getuserinfo", token, {"code": code})
    assert body["result"]["userid"] == "user003"
    # The legacy API works too, and each call gives a fresh code.
    await page.goto(target + "&api=runtime")
    await page.wait_for_selector("#code:not(:empty)")
    assert await page.text_content("#code") != code
    # A corp the user does not belong to: errorCode 3.
    await page.goto(f"{page_server}/app/?corpId={OTHER_CORP_ID}")
    await page.wait_for_selector("#error:not(:empty)")
    assert await page.text_content("#error") == "fail:3"
    await context.close()

    pc_context, pc_page = await open_in_dingtalk(
        browser, sim_server.url, "user001", target, platform="pc"
    )
    await pc_page.wait_for_selector("#code:not(:empty)")
    assert await pc_page.text_content("#platform") == "pc"
    await pc_context.close()

    outside = await browser.new_context()
    page = await outside.new_page()
    await page.goto(target)
    await page.wait_for_selector("#error:not(:empty)")
    assert await page.text_content("#platform") == "notInDingTalk"
    assert await page.text_content("#error") == "fail:-1"
    await outside.close()


async def test_dd_config_signature_is_checked(
    browser: Browser, sim_server: Any, page_server: str
) -> None:
    context, page = await open_in_dingtalk(
        browser, sim_server.url, "user002", f"{page_server}/app/?corpId={DEMO_CORP_ID}&config=sha1"
    )
    await page.wait_for_selector("#code:not(:empty)")
    for mode in ("sha256", "bad"):
        await page.goto(f"{page_server}/app/?corpId={DEMO_CORP_ID}&config={mode}")
        if mode == "bad":
            await page.wait_for_selector("#error:not(:empty)")
            assert await page.text_content("#error") == "config:52013"
            assert await page.text_content("#code") == ""
        else:
            await page.wait_for_selector("#code:not(:empty)")
    await context.close()
