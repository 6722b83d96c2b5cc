"""Two server instances sharing PostgreSQL-or-SQLite and Redis: a member signed in on one is
signed in on the other, and the other reuses the app token (one DingTalk call per sign-in)."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from pathlib import Path

import redis.asyncio as aioredis

from dingbridge.app import create_app
from dingbridge.dingtalk import ASGITransport
from dingbridge.kv.redis import RedisKV
from dingbridge.settings import Settings
from dingbridge.sim import SimState
from dingbridge.sim import create_app as create_sim
from dingbridge.sim.defaults import DEMO_CORP_ID
from tests.signin.signin_world import SERVER, SIM, Browser, setup_spaces


async def test_two_instances_share_sessions_and_tokens(tmp_path: Path, redis_url: str) -> None:
    prefix = f"dingbridge-test:{uuid.uuid4().hex}:"
    settings = Settings(
        data_dir=tmp_path / "data",
        development=True,
        external_url=SERVER,
        dingtalk_api=SIM,
        dingtalk_oapi=SIM,
        dingtalk_login=SIM,
    )
    sim = SimState.default()
    sim_app = create_sim(sim)
    client = aioredis.Redis.from_url(redis_url)
    try:
        async with AsyncExitStack() as stack:
            apps = []
            for _ in range(2):
                app = create_app(
                    settings,
                    kv=RedisKV(aioredis.Redis.from_url(redis_url), prefix=prefix),
                    announce=lambda _m: None,
                )
                await stack.enter_async_context(app.router.lifespan_context(app))
                app.state.context.signin.clients.use_transport(ASGITransport(sim_app))  # type: ignore[arg-type]
                apps.append(app)
            first, second = apps
            await setup_spaces(first)

            on_first = Browser(first)
            answer = await on_first.post(
                "/10001/signin/code",
                json_body={"code": sim.issue_authcode(DEMO_CORP_ID, "user001"), "next": "/10001/"},
            )
            bind_page = await on_first.get(answer.json()["next"], follow=True)
            sent = await on_first.post(
                "/10001/bind/send", {"token": bind_page.token(), "mobile": "13800000001"}
            )
            code = first.state.context.signin.outbox.last_code_for("13800000001")
            home = await on_first.post(
                "/10001/bind/verify", {"token": sent.token(), "code": code}, follow=True
            )
            assert 'id="space-home"' in home.text

            # the same cookie on the other instance
            on_second = Browser(second, cookies=dict(on_first.cookies))
            assert 'id="space-home"' in (await on_second.get("/10001/")).text

            # a returning sign-in on the other instance: the app token comes from Redis
            sim.request_log.clear()
            phone = Browser(second)
            answer = await phone.post(
                "/10001/signin/code",
                json_body={"code": sim.issue_authcode(DEMO_CORP_ID, "user001"), "next": "/10001/"},
            )
            landed = await phone.get(answer.json()["next"], follow=True)
            assert 'id="space-home"' in landed.text
            assert [e.path for e in sim.request_log] == ["/topapi/v2/user/getuserinfo"]
    finally:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
