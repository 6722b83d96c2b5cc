"""``serve --kv-url`` with Redis down at start: the server starts, /readyz names Redis, pages
that need it say so, and all comes back by itself when Redis answers.

Redis is reached through a TCP proxy this test controls (closed first, then forwarding to the
test Redis), so the machine's Redis is never stopped."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dingbridge.accounts import setup_link
from dingbridge.app import create_app
from dingbridge.kv.redis import RedisKV
from dingbridge.settings import Settings
from tests.conftest import env_url
from tests.web.conftest import AsgiClient

pytestmark = pytest.mark.redis


class Proxy:
    """Refuses connections until :meth:`open`, then forwards each to ``target``."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.server: asyncio.Server | None = None

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await self.server.wait_closed()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    parts = urlsplit(env_url("DINGBRIDGE_TEST_REDIS_URL"))
    proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 6379))
    yield proxy
    await proxy.close()


async def _until(condition_met: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll an async predicate for up to 20 s (no timing is asserted, only the outcome)."""
    for _ in range(400):
        if await condition_met():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_redis_down_at_start_then_back(
    proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(setup_link, "KV_RETRY_SECONDS", 0.05)
    db_index = urlsplit(env_url("DINGBRIDGE_TEST_REDIS_URL")).path or "/15"
    url = f"redis://127.0.0.1:{proxy.port}{db_index}"
    kv = RedisKV.from_url(url, prefix=f"dingbridge-test:{secrets.token_hex(6)}:")
    announced: list[str] = []
    settings = Settings(data_dir=tmp_path / "data", kv_url=url)
    app = create_app(settings, kv=kv, announce=announced.append)
    client = AsgiClient(app)
    async with app.router.lifespan_context(app):  # starts although Redis is down
        assert any("Redis" in line and "--kv-url" in line for line in announced)
        assert not any("/admin/setup?token=" in line for line in announced)

        ready = await client.get("/readyz")
        assert ready.status == 503
        assert ready.json()["redis"] == "unreachable" and ready.json()["database"] == "ok"
        assert any("Redis" in problem for problem in ready.json()["problems"])
        assert (await client.get("/healthz")).status == 200
        login_page = await client.get("/admin/login")  # the page itself works
        assert login_page.status == 200
        signing_in = await client.post(
            "/admin/login",
            form={"csrf_token": login_page.csrf(), "username": "a", "password": "b", "next": ""},
        )
        assert signing_in.status == 503 and "Redis" in signing_in.text

        setup = await client.get("/admin/setup?token=whatever")
        assert setup.status == 503 and "Redis" in setup.text and "Traceback" not in setup.text

        await proxy.open()  # Redis is back: nothing is restarted

        async def ready_again() -> bool:
            return (await client.get("/readyz")).status == 200

        async def link_printed() -> bool:
            return any("/admin/setup?token=" in line for line in announced)

        await _until(ready_again, "/readyz ready once Redis answers")
        assert (await client.get("/readyz")).json()["redis"] == "ok"
        await _until(link_printed, "the setup link printed once Redis answers")
        link = next(line for line in announced if "/admin/setup?token=" in line)
        token = link.split("token=")[1].split()[0]
        page = await client.get(f"/admin/setup?token={token}")
        assert page.status == 200, page.text
    await kv.close()
