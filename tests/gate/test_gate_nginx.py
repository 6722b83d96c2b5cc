"""Real nginx, with the configuration `dingbridge app nginx-conf` prints, protects a
header-echo app: a visitor opening the app inside (simulated) DingTalk signs in with no page
and comes back to the same URL with the identity headers; headers forged by the client and
dingbridge's cookies never reach the app."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.async_api import Browser

from dingbridge.app import create_app
from dingbridge.gate.identity_headers import decoded
from dingbridge.settings import Settings
from dingbridge.sim.defaults import DEMO_CORP_ID
from dingbridge.storage.models import Binding, SpaceApp
from tests.conftest import SimServer
from tests.gate.live_gate import (
    NGINX,
    EchoApp,
    echo_app,
    free_port,
    nginx,
    nginx_conf_from_cli,
    serve,
)
from tests.signin.signin_world import setup_spaces

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(NGINX).exists(), reason="no nginx"),
]

DINGTALK_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 AliApp(DingTalk/7.6.0) com.laiwang.DingTalk/31234567 "
    "Channel/201200 language/zh-Hans-CN UT4Aplus/0.0.6 WK"
)
TIMEOUT = 15_000
FORGED = {
    "X-Auth-Request-User": "admin",
    "X-Auth-Request-Email": "boss@evil.test",
    "X-Auth-Request-Groups": "admins",
    "X-Dingbridge-Member": "1",
    "X-Dingbridge-Userid": "manager001",
    "X-Dingbridge-Cookie": "dingbridge_session=forged",
}


@dataclass
class Live:
    app_url: str  # the protected app, through nginx
    dingbridge: str
    echo: EchoApp
    sim: SimServer


@pytest.fixture
async def live(tmp_path: Path, sim_server: SimServer) -> AsyncIterator[Live]:
    settings = Settings(
        data_dir=tmp_path / "data",
        development=True,
        dingtalk_api=sim_server.url,
        dingtalk_oapi=sim_server.url,
        dingtalk_login=sim_server.url,
        jsapi_url=f"{sim_server.url}/_sim/jsapi/dingtalk.open.js",
    )
    app = create_app(settings, announce=lambda _message: None)
    nginx_port = free_port()
    app_url = f"http://127.0.0.1:{nginx_port}/wiki/"
    with echo_app() as echo:
        async with serve(app) as dingbridge:
            await setup_spaces(app)
            context = app.state.context
            async with context.db.transaction() as session:
                wiki = SpaceApp(space_id=10001, title="内部维基", url=app_url, kind="forward_auth")
                session.add(wiki)
                # 张伟 (user001) bound before: in DingTalk, signing in needs no page at all
                session.add(
                    Binding(space_id=10001, corp_id=DEMO_CORP_ID, userid="user001", member_id=1)
                )
                await session.flush()
                app_id = wiki.id
            conf = await asyncio.to_thread(
                nginx_conf_from_cli,
                settings.data_dir,
                app_id,
                f"127.0.0.1:{nginx_port}",
                echo.url,
                dingbridge,
            )
            with nginx(tmp_path / "nginx", conf, nginx_port):
                yield Live(app_url, dingbridge, echo, sim_server)


def _get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as answer:
            return answer.status, dict(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


async def test_in_dingtalk_the_app_opens_signed_in_with_the_headers(
    live: Live, browser: Browser
) -> None:
    context = await browser.new_context(user_agent=DINGTALK_UA, is_mobile=True, locale="zh-CN")
    page = await context.new_page()
    target = live.app_url + "page?x=1&名=值"
    open_url = f"{live.sim.url}/_sim/open?userid=user001&url={quote(target, safe='')}"
    await page.goto(open_url)
    await page.wait_for_url(f"{live.app_url}page?*", timeout=TIMEOUT)
    echoed = json.loads(await page.inner_text("body"))
    # back at the very URL asked for, and the app was told who it is
    assert urlsplit(page.url).path + "?" + urlsplit(page.url).query == echoed["path"]
    assert parse_qs(urlsplit(page.url).query) == {"x": ["1"], "名": ["值"]}
    identity = decoded(dict(echoed["headers"]))
    assert identity["X-Auth-Request-Preferred-Username"] == "张伟"
    assert identity["X-Dingbridge-Userid"] == "user001"
    assert identity["X-Dingbridge-Corp-Id"] == DEMO_CORP_ID
    assert identity["X-Dingbridge-Member"] == "1"
    # nothing reached the app before the sign-in: every request it saw was signed in
    assert live.echo.seen and all(s.header("X-Dingbridge-Member") == "1" for s in live.echo.seen)

    # forged identity headers from the browser never reach the app
    await context.set_extra_http_headers(FORGED)
    await page.goto(live.app_url + "again")
    echoed = json.loads(await page.inner_text("body"))
    identity = decoded(dict(echoed["headers"]))
    assert identity["X-Auth-Request-User"] not in ("admin", "")
    assert identity["X-Auth-Request-Email"] == ""  # 张伟 has none: no header at all
    assert "x-auth-request-email" not in {k.lower() for k, _ in echoed["headers"]}
    assert identity["X-Auth-Request-Groups"] == []
    assert identity["X-Dingbridge-Member"] == "1" and identity["X-Dingbridge-Userid"] == "user001"
    assert "x-dingbridge-cookie" not in {k.lower() for k, _ in echoed["headers"]}

    # dingbridge's cookies never reach the app: the gate's own, and the member session's
    # even when the browser sends it there (same host: cookies ignore ports)
    cookies = {c["name"]: c["value"] for c in await context.cookies()}
    assert "dingbridge_session" in cookies
    await context.add_cookies(
        [
            {
                "name": "dingbridge_session",
                "value": cookies["dingbridge_session"],
                "domain": "127.0.0.1",
                "path": "/wiki/",
            },
            {"name": "theme", "value": "dark", "domain": "127.0.0.1", "path": "/"},
        ]
    )
    await page.goto(live.app_url + "with-cookies")
    echoed = json.loads(await page.inner_text("body"))
    assert dict(echoed["headers"]).get("Cookie") == "theme=dark"
    secrets = [v for name, v in cookies.items() if name.startswith(("dingbridge", "_dingbridge"))]
    assert secrets
    for seen in live.echo.seen:
        assert not any(secret in value for secret in secrets for _, value in seen.headers)
    await context.close()


async def test_without_a_session_forged_headers_get_the_sign_in_not_the_app(live: Live) -> None:
    status, headers, _ = await asyncio.to_thread(_get, live.app_url + "secret", FORGED)
    assert status == 302
    location = headers["Location"]
    assert location.startswith(f"{live.dingbridge}/10001/gate/")
    assert "_dingbridge_gate_state_" in headers.get("Set-Cookie", "")
    assert live.echo.seen == []
    # outside the app's path: nothing
    status, _, _ = await asyncio.to_thread(_get, live.app_url.replace("/wiki/", "/other"), {})
    assert status == 404 and live.echo.seen == []
