"""Two real ``dingbridge serve`` processes on PostgreSQL and Redis, the simulator as DingTalk.

The server processes are started as a deployment runs them (their own sockets, their own
event loops, the official ``dingtalk-stream`` SDK inside); this test process only prepares the
space (the directory imported, members linked to their DingTalk userids), signs members in
(their sessions are in the shared Redis, as after a real sign-in) and looks at pages through
each server's port. It checks, in one run:

- a leave sent by the simulator over Stream ends the member's sessions on both servers (the
  next page view on either is the signed-out entry page) and disables the member;
- ``kill -9`` of the process holding the stream: the other takes the lock after its expiry and
  receives the next leave;
- an event DingTalk delivers again (same eventId) is not applied twice: an admin re-enabled the
  member in between, and they stay enabled.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select

from dingbridge.app import create_app
from dingbridge.context import AppContext
from dingbridge.events.stream import lock_key
from dingbridge.settings import Settings
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP
from dingbridge.spaces.members import set_member_status
from dingbridge.storage.models import AuditEntry
from tests.conftest import SimServer
from tests.events.conftest import SPACE, EventsWorld, setup_space, until
from tests.storage.conftest import pg_schema_url

__all__ = ["pg_schema_url"]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")

# The stream lock's expiry in the server is 15 s; a standby looks every 5 s.
FAILOVER_SECONDS = 45.0
STARTUP_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class Deployment:
    sim: SimServer
    world: EventsWorld  # this test process's view of the shared database and Redis
    servers: list[Server]

    @property
    def context(self) -> AppContext:
        return self.world.context

    async def page(self, server: Server, session_id: str) -> str:
        """What a browser carrying this session sees at the space's address on ``server``."""
        async with httpx.AsyncClient(base_url=server.url) as client:
            answer = await client.get(
                f"/{SPACE}/", headers={"cookie": f"dingbridge_session={session_id}"}, timeout=10
            )
        assert answer.status_code == 200, answer.text
        return answer.text

    async def signed_in_everywhere(self, session_id: str) -> bool:
        pages = [await self.page(s, session_id) for s in self.servers if s.alive()]
        return all('id="space-home"' in page for page in pages)

    async def signed_out_everywhere(self, session_id: str) -> bool:
        pages = [await self.page(s, session_id) for s in self.servers if s.alive()]
        return all('id="space-home"' not in page and 'id="signin"' in page for page in pages)

    async def holder_pid(self) -> int | None:
        value = await self.context.kv.get(lock_key(FULL_APP.app_key))
        return int(value.decode().split(":")[1]) if value else None

    async def sim_post(self, path: str) -> dict[str, object]:
        async with httpx.AsyncClient(base_url=self.sim.url) as client:
            answer = await client.post(path, json={})
        assert answer.status_code == 200, answer.text
        body: dict[str, object] = answer.json()
        return body

    async def deliveries(self, event_id: str) -> list[str]:
        async with httpx.AsyncClient(base_url=self.sim.url) as client:
            answer = (await client.get("/_sim/events")).json()
        return [d["outcome"] for d in answer["deliveries"] if d["event_id"] == event_id]

    def stream_connections(self) -> int:
        return len(self.sim.state.events.connections.get(FULL_APP.app_key, []))

    async def audit_count(self, action: str) -> int:
        async with self.context.db.session() as session:
            count = await session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
            )
        return int(count or 0)


def start_server(name: str, tmp_path: Path, settings: Settings, sim_url: str) -> Server:
    port = free_port()
    log = tmp_path / f"{name}.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DINGBRIDGE_") or key.startswith("DINGBRIDGE_TEST_")
    }
    env |= {
        "DINGBRIDGE_SECRET_KEY": str(settings.secret_key),
        "DINGBRIDGE_DIRECTORY_SYNC_HOUR": "-1",
        "DINGBRIDGE_LOG_LEVEL": "INFO",
    }
    command = [
        sys.executable,
        "-m",
        "dingbridge",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / name),
        "--database-url",
        str(settings.database_url),
        "--kv-url",
        str(settings.kv_url),
        "--dingtalk-api",
        sim_url,
        "--dingtalk-oapi",
        sim_url,
        "--development",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    return Server(name, port, process, log)


async def wait_ready(server: Server) -> None:
    async def ready() -> bool:
        assert server.alive(), server.log.read_text()
        try:
            async with httpx.AsyncClient(base_url=server.url) as client:
                return (await client.get("/readyz", timeout=2)).status_code == 200
        except httpx.TransportError:
            return False

    await until(ready, seconds=STARTUP_SECONDS)


def stop(servers: list[Server]) -> Iterator[str]:
    for server in servers:
        if server.alive():
            server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
        yield server.log.read_text(errors="replace")


@pytest.fixture
async def deployment(
    tmp_path: Path, sim_server: SimServer, pg_schema_url: str, redis_url: str
) -> AsyncIterator[Deployment]:
    prefix = f"dingbridge-test:{secrets.token_hex(6)}:"
    settings = Settings(
        data_dir=tmp_path / "setup",
        database_url=pg_schema_url,
        kv_url=f"{redis_url}?prefix={prefix}",
        secret_key=secrets.token_urlsafe(32),
        development=True,
        dingtalk_api=sim_server.url,
        dingtalk_oapi=sim_server.url,
        event_streams=False,  # this process only prepares and looks
        directory_sync_hour=-1,
    )
    servers: list[Server] = []
    try:
        async with AsyncExitStack() as stack:
            app = create_app(settings, announce=lambda _m: None)
            await stack.enter_async_context(app.router.lifespan_context(app))
            world = EventsWorld(sim_server, settings, app.state.context.kv, apps=[app])
            await setup_space(world.context)  # the space in Stream mode, the directory imported
            servers += [start_server(n, tmp_path, settings, sim_server.url) for n in "ab"]
            await asyncio.gather(*(wait_ready(s) for s in servers))
            yield Deployment(sim_server, world, servers)
    finally:
        logs = list(stop(servers))
        client = aioredis.Redis.from_url(redis_url)
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
        for server, text in zip(servers, logs, strict=True):
            print(f"--- {server.name} ---\n{text[-4000:]}")


async def test_leave_ends_sessions_on_both_servers_fails_over_and_applies_once(
    deployment: Deployment,
) -> None:
    d = deployment
    await until(lambda: d.stream_connections() == 1, seconds=STARTUP_SECONDS)
    first_holder = await d.holder_pid()
    assert first_holder in {s.process.pid for s in d.servers}
    await asyncio.sleep(1.0)  # the standby has looked at the lock and stays away
    assert d.stream_connections() == 1

    # A leave over Stream: the next page view on either server is the signed-out page.
    sessions = await d.world.sign_in("user004", times=2)
    bystander = (await d.world.sign_in("user003", times=1))[0]
    for session_id in sessions:
        assert await d.signed_in_everywhere(session_id)
    left = await d.sim_post(f"/_sim/corps/{DEMO_CORP_ID}/users/user004/leave")
    await until(lambda: _all_signed_out(d, sessions), seconds=20)
    assert await d.signed_in_everywhere(bystander)
    member = await d.world.member("user004")
    assert member.status == "disabled" and member.disabled_reason
    assert await d.world.live_sessions("user004") == 0
    assert await d.audit_count("member.left_dingtalk") == 1

    # kill -9 the holder: its lock is never released; the other server takes it after expiry.
    holder = next(s for s in d.servers if s.process.pid == first_holder)
    survivor = next(s for s in d.servers if s is not holder)
    os.kill(holder.process.pid, signal.SIGKILL)
    holder.process.wait(timeout=10)
    await until(lambda: _holds_stream(d, survivor), seconds=FAILOVER_SECONDS)
    later = await d.world.sign_in("user007", times=1)
    assert await d.signed_in_everywhere(later[0])
    await d.sim_post(f"/_sim/corps/{DEMO_CORP_ID}/users/user007/leave")
    await until(lambda: d.signed_out_everywhere(later[0]), seconds=20)
    assert await d.audit_count("member.left_dingtalk") == 2

    # An admin re-enables user004; DingTalk delivers the old leave again (same eventId) to the
    # new holder, which never saw it: it is acked, not applied a second time.
    async with d.context.db.transaction() as session:
        await set_member_status(session, SPACE, member.id, "active", actor="admin")
    event = left["event"]
    assert isinstance(event, dict)
    event_id = str(event["event_id"])
    before = (await d.deliveries(event_id)).count("acked")
    await d.sim_post(f"/_sim/events/{event_id}/redeliver")
    await until(lambda: _acked_more(d, event_id, before), seconds=20)
    assert (await d.world.member("user004")).status == "active"
    assert await d.audit_count("member.left_dingtalk") == 2


async def _all_signed_out(d: Deployment, sessions: list[str]) -> bool:
    return all([await d.signed_out_everywhere(session_id) for session_id in sessions])


async def _holds_stream(d: Deployment, server: Server) -> bool:
    return await d.holder_pid() == server.process.pid and d.stream_connections() == 1


async def _acked_more(d: Deployment, event_id: str, before: int) -> bool:
    return (await d.deliveries(event_id)).count("acked") > before
