"""A server with the simulator behind it over real sockets (the Stream WebSocket needs one).

``events_world``: the simulator served on 127.0.0.1; a server (``create_app``, SQLite in a
temp dir, a memory KV that a second instance may share) whose space 10001 is the demo corp's
app, its members imported from the directory (so each is linked to its DingTalk userid).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from dingbridge.app import create_app
from dingbridge.context import AppContext
from dingbridge.events.stream import StreamRunner
from dingbridge.kv import KV
from dingbridge.kv.memory import MemoryKV
from dingbridge.settings import Settings
from dingbridge.signin.member_sessions import create_session
from dingbridge.signin.pending import DingTalkIdentity
from dingbridge.sim.background import BackgroundServer
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP
from dingbridge.spaces.dingtalk_settings import DingTalkInput, save_dingtalk
from dingbridge.spaces.directory_import import import_directory
from dingbridge.spaces.event_settings import save_event_settings
from dingbridge.spaces.store import create_space
from dingbridge.storage.models import Member
from tests.conftest import SimServer

SPACE = 10001


@dataclass
class EventsWorld:
    sim: SimServer
    settings: Settings
    kv: KV
    apps: list[FastAPI] = field(default_factory=list)
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    @property
    def context(self) -> AppContext:
        return self.context_of(0)

    def context_of(self, index: int) -> AppContext:
        context: AppContext = self.apps[index].state.context
        return context

    async def add_instance(self) -> AppContext:
        """Another server instance on the same database and KV."""
        app = create_app(self.settings, kv=self.kv, announce=lambda _m: None)
        await self.stack.enter_async_context(app.router.lifespan_context(app))
        self.apps.append(app)
        return self.context_of(len(self.apps) - 1)

    async def member(self, userid: str) -> Member:
        async with self.context.db.session() as session:
            from sqlalchemy import select

            found = await session.scalar(
                select(Member).where(Member.space_id == SPACE, Member.dingtalk_userid == userid)
            )
        assert found is not None, userid
        return found

    async def sign_in(self, userid: str, times: int = 2) -> list[str]:
        """``times`` sessions of ``userid``'s member (browsers signed in); their ids."""
        member = await self.member(userid)
        identity = DingTalkIdentity(corp_id=DEMO_CORP_ID, userid=userid)
        return [
            (await create_session(self.context, SPACE, member.id, identity)).id
            for _ in range(times)
        ]

    async def live_sessions(self, userid: str, context: AppContext | None = None) -> int:
        member = await self.member(userid)
        store = (context or self.context).member_sessions
        return len(await store.list_subject("member", f"{SPACE}:{member.id}"))

    def runner(self, context: AppContext, **options: Any) -> StreamRunner:
        return StreamRunner(context, lock_ttl=options.pop("lock_ttl", 1.5), poll=0.2, **options)


async def until(condition: Callable[[], Any], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


async def setup_space(context: AppContext, mode: str = "stream") -> None:
    async with context.db.transaction() as session:
        space = await create_space(session, "示例空间", actor="test")
        assert space.id == SPACE
        await save_dingtalk(
            session,
            context.secret_box,
            SPACE,
            DingTalkInput(
                enabled=True,
                corp_name="示例科技有限公司",
                corp_id=DEMO_CORP_ID,
                agent_id=str(FULL_APP.agent_id),
                app_key=FULL_APP.app_key,
                app_secret=FULL_APP.app_secret,
            ),
            actor="test",
        )
        await save_event_settings(session, context.secret_box, SPACE, mode=mode, actor="test")
    async with context.db.session() as session:
        from dingbridge.spaces.dingtalk_settings import load_dingtalk

        config = await load_dingtalk(session, SPACE)
    client = context.signin.clients.for_space(config)
    await import_directory(context.db, client, SPACE, actor="test")


@pytest.fixture
async def events_world(tmp_path: Path, sim_server: SimServer) -> AsyncIterator[EventsWorld]:
    settings = Settings(
        data_dir=tmp_path / "data",
        development=True,
        dingtalk_api=sim_server.url,
        dingtalk_oapi=sim_server.url,
        event_streams=False,  # the tests run their own runners
        directory_sync_hour=-1,
    )
    world = EventsWorld(sim_server, settings, MemoryKV())
    async with world.stack:
        await world.add_instance()
        await setup_space(world.context)
        yield world


__all__ = ["SPACE", "BackgroundServer", "EventsWorld", "events_world", "until"]
