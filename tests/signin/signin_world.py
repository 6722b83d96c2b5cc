"""An in-process world for the sign-in flows: the server, the simulator behind it (through an
in-process transport), spaces 10001 (V2) and 10002 (V1) for the simulator's demo corp with its
first members, and a small browser that keeps cookies and posts forms or JSON.

Import the fixtures into a test module: ``from tests.signin.signin_world import world``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from dingbridge.accounts.admins import create_admin
from dingbridge.app import create_app
from dingbridge.dingtalk import ASGITransport
from dingbridge.kv.redis import RedisKV
from dingbridge.settings import Settings
from dingbridge.signin.sms.console import ConsoleSender
from dingbridge.sim import SimState
from dingbridge.sim import create_app as create_sim
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP
from dingbridge.spaces.dingtalk_settings import DingTalkInput, save_dingtalk
from dingbridge.spaces.members import MemberInput, add_member
from dingbridge.spaces.store import create_space
from tests.asgi_client import AsgiClient, Result, exchange

SIM = "http://sim.test"
SERVER = "http://127.0.0.1:8000"  # the external URL: redirect URLs the demo apps accept
MEMBERS = [
    ("张伟", "13800000001"),
    ("王秀英", "13800000002"),
    ("李娜", "13800000003"),
    ("刘洋", "13800000004"),
]


Page = Result  # the shared in-process client's answer, under this world's name


@dataclass
class Browser(AsgiClient):
    """The shared in-process client; it leaves DingTalk's pages (the simulator) to the test."""

    stop_at: tuple[str, ...] = (SIM,)


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
    return await exchange(app, "GET", url, client_port=50001, host="sim.test")


async def admin_browser(world: World) -> Browser:
    """A new browser signed in to the console as a freshly created admin."""
    async with world.context.db.transaction() as session:
        await create_admin(session, "admin", "correct horse battery", actor="test")
    browser = world.new_browser()
    page = await browser.get("/admin/login")
    done = await browser.post(
        "/admin/login",
        {"csrf_token": page.csrf(), "username": "admin", "password": "correct horse battery"},
    )
    assert done.status == 303, done.text
    return browser


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


@pytest.fixture
async def two_worlds(tmp_path: Path, redis_url: str) -> AsyncIterator[tuple[World, World]]:
    """Two server instances on one data dir and one Redis (under a fresh key prefix, removed
    afterwards), one simulator behind both; the spaces are set up once, through the first."""
    prefix = f"dingbridge-test:{uuid.uuid4().hex}:"
    settings = world_settings(tmp_path / "data")
    sim = SimState.default()
    sim_app = create_sim(sim)
    client = aioredis.Redis.from_url(redis_url)
    try:
        async with AsyncExitStack() as stack:
            worlds = []
            for _ in range(2):
                app = create_app(
                    settings,
                    kv=RedisKV(aioredis.Redis.from_url(redis_url), prefix=prefix),
                    announce=lambda _m: None,
                )
                await stack.enter_async_context(app.router.lifespan_context(app))
                app.state.context.signin.clients.use_transport(ASGITransport(sim_app))  # type: ignore[arg-type]
                world = World(app, sim, settings, Browser(app))
                world.sim_app = sim_app
                worlds.append(world)
            await setup_spaces(worlds[0].app)
            yield worlds[0], worlds[1]
    finally:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
