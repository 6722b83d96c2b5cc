"""Two instances sharing Redis: test results, the directory import's progress and its lock, and
API tokens are seen by both."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from dingbridge.accounts.admins import create_admin
from dingbridge.app import create_app
from dingbridge.dingtalk import ASGITransport
from dingbridge.kv.redis import RedisKV
from dingbridge.settings import Settings
from dingbridge.sim.defaults import FULL_APP, WHITELIST_APP
from dingbridge.sim.faults import parse_fault
from dingbridge.spaces.dingtalk_settings import DingTalkInput, save_dingtalk
from dingbridge.spaces.store import create_space
from tests.web.conftest import ADMIN_PASSWORD, AsgiClient, csrf_of, login
from tests.web.test_api_auth import bearer, new_token


async def _space(app: Any, name: str, demo: Any) -> int:
    context = app.state.context
    async with context.db.transaction() as session:
        space = await create_space(session, name, actor="t")
        data = DingTalkInput(
            enabled=True,
            corp_name="",
            corp_id=demo.corp_id,
            agent_id=str(demo.agent_id),
            app_key=demo.app_key,
            app_secret=demo.app_secret,
        )
        await save_dingtalk(session, context.secret_box, space.id, data, actor="t")
    return space.id


async def test_dingtalk_features_shared_through_redis(
    tmp_path: Path, redis_url: str, sim_state: Any, sim_app: Any
) -> None:
    prefix = f"dbtest-{secrets.token_hex(4)}:"
    settings = Settings(data_dir=tmp_path / "shared", secret_key="s" * 40)
    apps = [
        create_app(
            settings,
            kv=RedisKV(aioredis.Redis.from_url(redis_url), prefix=prefix),
            announce=lambda _m: None,
        )
        for _ in range(2)
    ]
    app_a, app_b = apps
    try:
        async with app_a.router.lifespan_context(app_a), app_b.router.lifespan_context(app_b):
            for app in apps:
                app.state.context.signin.clients.use_transport(ASGITransport(sim_app))
            async with app_a.state.context.db.transaction() as session:
                await create_admin(session, "admin", ADMIN_PASSWORD, actor="t")
            on_a = AsgiClient(app_a)
            assert (await login(on_a)).status == 303
            on_b = AsgiClient(app_b, cookies=dict(on_a.cookies))
            whitelist = await _space(app_a, "销售部", WHITELIST_APP)
            full = await _space(app_a, "财务部", FULL_APP)
            # Test connection on A; B's page shows the results and the IP.
            page = f"/admin/spaces/{whitelist}/dingtalk"
            await on_a.post(f"{page}/test", form={"csrf_token": await csrf_of(on_a, page)})
            shown = (await on_b.get(page)).text
            assert 'data-check="ip_whitelist" data-status="fail"' in shown
            assert '<code id="v-egress_ip">127.0.0.1</code>' in shown
            # A directory import started on A: B sees its progress and cannot start another.
            # The simulator holds the first department read for a second, so the import is
            # certainly still running when B looks (not a race with a fast import).
            sim_state.faults.add(
                parse_fault(
                    {
                        "path": "/topapi/v2/department/listsub",
                        "kind": "latency",
                        "seconds": 1.0,
                        "count": 1,
                    }
                )
            )
            members = f"/admin/spaces/{full}/members"
            started = await on_a.post(
                f"/admin/spaces/{full}/directory-import",
                form={"csrf_token": await csrf_of(on_a, members)},
            )
            assert started.status == 303
            progress = f"/admin/spaces/{full}/directory-import.json"
            state = (await on_b.get(progress)).json()
            assert state["status"] == "running"
            again = await on_b.post(
                f"/admin/spaces/{full}/directory-import",
                form={"csrf_token": await csrf_of(on_b, members)},
            )
            assert "import_error=running" in (again.header("location") or "")
            for _ in range(400):
                state = (await on_b.get(progress)).json()
                if state["status"] != "running":
                    break
                await asyncio.sleep(0.02)
            assert state["status"] == "done" and state["progress"]["created"] >= 20
            # A token made on A works on B.
            token = await new_token(on_a)
            listed = await AsgiClient(app_b).get("/api/v1/spaces", headers=bearer(token))
            assert {s["id"] for s in listed.json()} == {whitelist, full}
    finally:
        cleanup = aioredis.Redis.from_url(redis_url)
        keys = [k async for k in cleanup.scan_iter(f"{prefix}*")]
        if keys:
            await cleanup.delete(*keys)
        await cleanup.aclose()
