"""An in-process world for the sign-in flows: the server, the simulator behind it (through an
in-process transport), spaces 10001 (V2) and 10002 (V1) for the simulator's demo corp with its
first members, and a small browser that keeps cookies and posts forms or JSON.

Import the fixtures into a test module: ``from tests.signin.signin_world import world``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Mapping, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi import FastAPI

from dingbridge.app import create_app
from dingbridge.dingtalk import ASGITransport
from dingbridge.settings import Settings
from dingbridge.signin.sms.console import ConsoleSender
from dingbridge.sim import SimState
from dingbridge.sim import create_app as create_sim
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP
from dingbridge.spaces.dingtalk_settings import DingTalkInput, save_dingtalk
from dingbridge.spaces.members import MemberInput, add_member
from dingbridge.spaces.store import create_space

SIM = "http://sim.test"
SERVER = "http://127.0.0.1:8000"  # the external URL: redirect URLs the demo apps accept
TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')
MEMBERS = [
    ("张伟", "13800000001"),
    ("王秀英", "13800000002"),
    ("李娜", "13800000003"),
    ("刘洋", "13800000004"),
]


@dataclass
class Page:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    url: str = ""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)

    def all_headers(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)

    def token(self) -> str:
        match = TOKEN_RE.search(self.text)
        assert match, "no form token on the page"
        return match.group(1)


@dataclass
class Browser:
    app: FastAPI
    client_ip: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)
    set_cookies: list[str] = field(default_factory=list)

    async def get(self, url: str, *, follow: bool = False) -> Page:
        return await self.request("GET", url, follow=follow)

    async def post(
        self,
        url: str,
        form: Mapping[str, str] | None = None,
        *,
        json_body: Any = None,
        follow: bool = False,
    ) -> Page:
        return await self.request("POST", url, form=form, json_body=json_body, follow=follow)

    async def request(
        self,
        method: str,
        url: str,
        *,
        form: Mapping[str, str] | None = None,
        json_body: Any = None,
        follow: bool = False,
    ) -> Page:
        for _ in range(10):
            page = await self._once(method, url, form, json_body)
            location = page.header("location")
            if not follow or page.status not in (301, 302, 303, 307, 308) or not location:
                return page
            if location.startswith(SIM):
                return page  # DingTalk's page: the test plays it
            method, url, form, json_body = "GET", location, None, None
        raise AssertionError("too many redirects")

    async def _once(
        self, method: str, url: str, form: Mapping[str, str] | None, json_body: Any
    ) -> Page:
        parts = urlsplit(url)
        body = b""
        headers: list[tuple[bytes, bytes]] = [(b"host", b"testserver")]
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.append((b"content-type", b"application/json"))
        elif form is not None:
            body = urlencode(form).encode()
            headers.append((b"content-type", b"application/x-www-form-urlencoded"))
        if body:
            headers.append((b"content-length", str(len(body)).encode()))
        if self.cookies:
            cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            headers.append((b"cookie", cookie.encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": parts.path,
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "headers": headers,
            "client": (self.client_ip, 50000),
            "server": ("testserver", 80),
            "root_path": "",
        }
        sent = False
        messages: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            messages.append(dict(message))

        await self.app(scope, receive, send)
        start = next(m for m in messages if m["type"] == "http.response.start")
        out = [(k.decode().lower(), v.decode()) for k, v in start["headers"]]
        bodies = [m for m in messages if m["type"] == "http.response.body"]
        payload = b"".join(m.get("body", b"") for m in bodies)
        for key, value in out:
            if key == "set-cookie":
                self.set_cookies.append(value)
                jar: SimpleCookie = SimpleCookie()
                jar.load(value)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0" or morsel.value in ("", '""'):
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
        return Page(start["status"], out, payload, url)


@dataclass
class World:
    app: FastAPI
    sim: SimState
    settings: Settings
    browser: Browser

    @property
    def context(self) -> Any:
        return self.app.state.context

    @property
    def outbox(self) -> ConsoleSender:
        outbox = self.context.signin.outbox
        assert isinstance(outbox, ConsoleSender)
        return outbox

    def new_browser(self, client_ip: str = "127.0.0.1") -> Browser:
        return Browser(self.app, client_ip)

    def dingtalk_calls(self) -> list[str]:
        return [e.path for e in self.sim.request_log]

    async def in_client(self, browser: Browser, userid: str, space_id: int = 10001) -> Page:
        """What the entry page's script does inside DingTalk, then the navigation it makes."""
        code = self.sim.issue_authcode(DEMO_CORP_ID, userid)
        return await self.post_code(browser, code, space_id)

    async def post_code(self, browser: Browser, code: str, space_id: int = 10001) -> Page:
        answer = await browser.post(
            f"/{space_id}/signin/code", json_body={"code": code, "next": f"/{space_id}/"}
        )
        if answer.status != 200:
            return answer
        return await browser.get(answer.json()["next"], follow=True)

    async def bind(self, browser: Browser, mobile: str, space_id: int = 10001) -> Page:
        """On the bind page: ask for a code, read it from the outbox, enter it."""
        page = await browser.get(f"/{space_id}/bind")
        sent = await browser.post(
            f"/{space_id}/bind/send", {"token": page.token(), "mobile": mobile}
        )
        assert sent.status == 200, sent.text
        code = self.outbox.last_code_for(mobile)
        assert code is not None
        return await browser.post(
            f"/{space_id}/bind/verify", {"token": sent.token(), "code": code}, follow=True
        )

    async def browser_signin(self, browser: Browser, userid: str, space_id: int = 10001) -> Page:
        """PC browser: "使用钉钉登录" → the simulator's OAuth page picks ``userid`` → back."""
        to_dingtalk = await browser.get(f"/{space_id}/signin/dingtalk")
        assert to_dingtalk.status == 303
        oauth_url = to_dingtalk.header("location") or ""
        back = await sim_get(self.sim_app, oauth_url + f"&userid={userid}")
        location = back.header("location") or ""
        assert location.startswith(SERVER + "/"), (back.status, back.text[:300])
        return await browser.get(location.removeprefix(SERVER), follow=True)

    sim_app: Any = None


async def sim_get(app: Any, url: str) -> Page:
    """GET on the simulator in-process (its browser pages)."""
    parts = urlsplit(url)
    messages: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "headers": [(b"host", b"sim.test")],
        "client": ("127.0.0.1", 50001),
        "server": ("sim.test", 80),
        "root_path": "",
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(scope, receive, send)
    start = next(m for m in messages if m["type"] == "http.response.start")
    out = [(k.decode().lower(), v.decode()) for k, v in start["headers"]]
    payload = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return Page(start["status"], out, payload, url)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def setup_spaces(app: FastAPI) -> None:
    context = app.state.context
    async with context.db.transaction() as session:
        for space_name, version in (("示例空间", "v2"), ("旧版空间", "v1")):
            space = await create_space(session, space_name, actor="test")
            await save_dingtalk(
                session,
                context.secret_box,
                space.id,
                DingTalkInput(
                    enabled=True,
                    corp_name="示例科技有限公司",
                    corp_id=DEMO_CORP_ID,
                    agent_id=str(FULL_APP.agent_id),
                    app_key=FULL_APP.app_key,
                    app_secret=FULL_APP.app_secret,
                    api_version=version,
                ),
                actor="test",
            )
            for name, mobile in MEMBERS:
                await add_member(session, space.id, MemberInput(name, mobile), actor="test")


def world_settings(data_dir: Path, **overrides: Any) -> Settings:
    """The world's server settings: development mode, the simulator's URLs."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "development": True,
        "external_url": SERVER,
        "dingtalk_api": SIM,
        "dingtalk_oapi": SIM,
        "dingtalk_login": SIM,
        "jsapi_url": f"{SIM}/_sim/jsapi/dingtalk.open.js",
    }
    return Settings(**{**values, **overrides})


@asynccontextmanager
async def open_world(settings: Settings) -> AsyncIterator[World]:
    """A running server for ``settings`` with the simulator behind it and the two spaces."""
    sim = SimState.default()
    sim_app = create_sim(sim)
    app = create_app(settings, announce=lambda _message: None)
    async with app.router.lifespan_context(app):
        app.state.context.signin.clients.use_transport(ASGITransport(sim_app))  # type: ignore[arg-type]
        await setup_spaces(app)
        world = World(app, sim, settings, Browser(app))
        world.sim_app = sim_app
        yield world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(world_settings(tmp_path / "data")) as opened:
        yield opened
