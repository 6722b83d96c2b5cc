"""Two server instances sharing PostgreSQL-or-SQLite and Redis act as one console."""

from __future__ import annotations

import secrets
from pathlib import Path

import redis.asyncio as aioredis

from dingbridge.accounts.admins import create_admin
from dingbridge.app import create_app
from dingbridge.kv.redis import RedisKV
from dingbridge.settings import Settings
from tests.web.conftest import ADMIN_PASSWORD, AsgiClient, csrf_of, login


async def test_session_throttle_and_setup_link_shared_through_redis(
    tmp_path: Path, redis_url: str
) -> None:
    prefix = f"dbtest-{secrets.token_hex(4)}:"
    settings = Settings(data_dir=tmp_path / "shared", secret_key="s" * 40)
    announced: list[str] = []
    kv_a = RedisKV(aioredis.Redis.from_url(redis_url), prefix=prefix)
    kv_b = RedisKV(aioredis.Redis.from_url(redis_url), prefix=prefix)
    app_a = create_app(settings, kv=kv_a, announce=announced.append)
    app_b = create_app(settings, kv=kv_b, announce=announced.append)
    try:
        async with app_a.router.lifespan_context(app_a), app_b.router.lifespan_context(app_b):
            # A setup link printed by one instance works on the other.
            token = announced[0].split("token=", 1)[1].split()[0]
            browser = AsgiClient(app_b)
            page = await browser.get(f"/admin/setup?token={token}")
            assert page.status == 200
            async with app_a.state.context.db.transaction() as session:
                await create_admin(session, "admin", ADMIN_PASSWORD, actor="t")
            # Signed in on A, the same cookie works on B.
            on_a = AsgiClient(app_a)
            assert (await login(on_a)).status == 303
            on_b = AsgiClient(app_b, cookies=dict(on_a.cookies))
            token_b = await csrf_of(on_b)
            created = await on_b.post("/admin/spaces", form={"csrf_token": token_b, "name": "共享"})
            assert created.status == 303
            assert "共享" in (await on_a.get("/admin/spaces")).text
            # Failed logins count across instances.
            for app in (app_a, app_b, app_a, app_b, app_a):
                bad = await login(AsgiClient(app, client_ip="10.1.1.1"), password="wrong-password")
                assert bad.status == 401
            blocked = await login(AsgiClient(app_b, client_ip="10.1.1.2"))
            assert blocked.status == 429
    finally:
        cleanup = aioredis.Redis.from_url(redis_url)
        keys = [k async for k in cleanup.scan_iter(f"{prefix}*")]
        if keys:
            await cleanup.delete(*keys)
        await cleanup.aclose()
