"""A member disabled or deleted by the CLI loses every session on the running server at once
(the command ends them through the servers' KV), and a CSV import that disables a member does
the same; the KV URL's ``prefix`` keeps deployments sharing one Redis apart."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from typer.testing import CliRunner

from dingbridge.cli import app as cli_app
from dingbridge.kv import create_kv
from dingbridge.kv.redis import RedisKV
from dingbridge.spaces.csv_import import import_members
from tests.signin.signin_world import Browser, World, open_world, world_settings


@pytest.fixture
async def redis_world(tmp_path: Path, redis_url: str) -> AsyncIterator[tuple[World, str]]:
    """A server on a Redis KV under a fresh prefix; the KV URL a command must be given."""
    prefix = f"dingbridge-test:{uuid.uuid4().hex}:"
    kv_url = f"{redis_url}?prefix={prefix}"
    try:
        async with open_world(world_settings(tmp_path / "data", kv_url=kv_url)) as world:
            yield world, kv_url
    finally:
        client = aioredis.Redis.from_url(redis_url)
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def signed_in(world: World, userid: str, mobile: str) -> Browser:
    browser = world.new_browser()
    page = await world.in_client(browser, userid)
    if page.url.endswith("/bind"):
        page = await world.bind(browser, mobile)
    assert 'id="space-home"' in page.text
    return browser


async def live_sessions(world: World, member_id: int) -> int:
    return len(await world.context.member_sessions.list_subject("member", f"10001:{member_id}"))


async def run_cli(world: World, kv_url: str, *args: str) -> str:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("DINGBRIDGE_") or name.startswith("DINGBRIDGE_TEST_")
    }
    env["DINGBRIDGE_KV_URL"] = kv_url
    env["DINGBRIDGE_DATA_DIR"] = str(world.settings.data_dir)

    def invoke() -> tuple[int, str]:
        result = CliRunner().invoke(cli_app, list(args), env=env, catch_exceptions=False)
        return result.exit_code, result.output

    code, output = await asyncio.to_thread(invoke)
    assert code == 0, output
    return output


@pytest.mark.parametrize("command", ["disable", "delete"])
async def test_the_cli_ends_the_sessions_on_the_running_server_at_once(
    redis_world: tuple[World, str], command: str
) -> None:
    world, kv_url = redis_world
    zhang = await signed_in(world, "user001", "13800000001")
    wang = await signed_in(world, "user002", "13800000002")
    member_id = await bound_member(world, "user001")
    assert await live_sessions(world, member_id) == 1
    output = await run_cli(world, kv_url, "member", command, "10001", str(member_id))
    assert f"member {member_id} of space 10001" in output
    # ended in the server's KV by the command: no request of the member's came in between
    assert await live_sessions(world, member_id) == 0
    assert 'id="space-home"' not in (await zhang.get("/10001/", follow=True)).text
    assert 'id="space-home"' in (await wang.get("/10001/", follow=True)).text


async def test_a_csv_import_that_disables_a_member_ends_their_sessions(
    redis_world: tuple[World, str],
) -> None:
    world, _kv_url = redis_world
    zhang = await signed_in(world, "user001", "13800000001")
    member_id = await bound_member(world, "user001")
    rows = "姓名,手机号,状态\n张伟,13800000001,停用\n".encode()
    async with world.context.db.transaction() as session:
        await import_members(session, 10001, rows, actor="admin:root")
    assert await live_sessions(world, member_id) == 0
    assert 'id="space-home"' not in (await zhang.get("/10001/", follow=True)).text


async def test_the_kv_url_prefix_keeps_deployments_apart(redis_url: str) -> None:
    prefix = f"dingbridge-test:{uuid.uuid4().hex}:"
    kv = create_kv(f"{redis_url}?prefix={prefix}")
    other = create_kv(f"{redis_url}?prefix={prefix}other:")
    try:
        assert isinstance(kv, RedisKV) and kv.prefix == prefix
        await kv.set("k", b"1", 30)
        assert await kv.get("k") == b"1" and await other.get("k") is None
    finally:
        await kv.delete("k")
        await kv.close()
        await other.close()


async def bound_member(world: World, userid: str) -> int:
    from sqlalchemy import select

    from dingbridge.storage.models import Binding

    async with world.context.db.session() as session:
        found = await session.scalar(
            select(Binding.member_id).where(Binding.space_id == 10001, Binding.userid == userid)
        )
    assert found is not None
    return int(found)
