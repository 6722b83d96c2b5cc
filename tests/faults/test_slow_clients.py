"""Oversize request heads and bodies, and slow clients (slowloris), against ``dingbridge
serve`` and ``dingbridge forward`` — real processes on real sockets.

Bounded: 200 slow connections per server, each sending one header line a second, for the
head deadline (10 s) and a little more. While they hang on, an ordinary request every half
second must be answered (their success is asserted, not their speed); then every slow
connection has had its 408. Oversize: a 100 KiB header and 2 000 headers → 431, a declared
100 MB body → 413 before any of it is sent, a chunked body past the limit → 413.
Limits: ``dingbridge/http_guard.py`` (serve), ``dingbridge/forwarder/client_connection.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from dingbridge.sim import SimState
from dingbridge.sim import create_app as create_sim
from dingbridge.sim.background import BackgroundServer
from dingbridge.sim.defaults import FULL_APP
from tests.faults.crash_world import Server
from tests.faults.private_services import free_port

pytestmark = pytest.mark.slow
SLOW_CONNECTIONS = 200
HEAD_TIMEOUT = 10.0  # both servers' deadline for a request head


@dataclass
class Target:
    name: str
    port: int
    normal_path: str  # a GET an ordinary user makes, answered 200
    body_path: str  # a POST whose handler reads the body


@contextlib.contextmanager
def forwarder(sim_url: str, log: Path) -> Iterator[int]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dingbridge",
                "forward",
                "--listen",
                f"127.0.0.1:{port}",
                "--oapi",
                sim_url,
                "--api",
                sim_url,
                "--access-log",
                "off",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-2000:]
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Target]]:
    folder = tmp_path_factory.mktemp("slow")
    token = f"appkey={FULL_APP.app_key}&appsecret={FULL_APP.app_secret}"
    with BackgroundServer(create_sim(SimState.default())) as sim:
        serve = Server(
            {"DINGBRIDGE_DATA_DIR": str(folder / "data"), "DINGBRIDGE_LOG_LEVEL": "ERROR"},
            folder / "serve.log",
        )
        serve.start()
        try:
            with forwarder(sim.url, folder / "forward.log") as forward_port:
                yield [
                    Target("serve", serve.port, "/admin/login", "/10001/signin/code"),
                    Target(
                        "forward",
                        forward_port,
                        f"/oapi-dingtalk-com/gettoken?{token}",
                        "/api-dingtalk-com/v1.0/oauth2/accessToken",
                    ),
                ]
        finally:
            serve.stop()


async def exchange(port: int, data: bytes, *, wait: float = 20) -> tuple[int, bytes]:
    """Send ``data`` on a new connection; (status, whole answer) once the server closes or
    has answered (0 when it closed without an answer)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        answer = await asyncio.wait_for(reader.read(65536), wait)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    return status_of(answer), answer


def status_of(answer: bytes) -> int:
    parts = answer.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def head(target: Target, method: str, path: str, extra: bytes = b"") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{target.port}\r\n".encode() + extra


@pytest.mark.parametrize("which", ["serve", "forward"])
async def test_oversize_heads_and_bodies_are_refused(targets: list[Target], which: str) -> None:
    target = next(t for t in targets if t.name == which)
    big_header = b"X-Big: " + b"a" * 100 * 1024 + b"\r\n\r\n"
    status, _ = await exchange(target.port, head(target, "GET", target.normal_path, big_header))
    assert status == 431
    many = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 40) for i in range(2000)) + b"\r\n"
    status, _ = await exchange(target.port, head(target, "GET", target.normal_path, many))
    assert status == 431
    declared = b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
    status, _ = await exchange(target.port, head(target, "POST", target.body_path, declared))
    assert status == 413  # answered before a byte of the body was sent
    assert (await normal_request(target)) == 200


async def test_a_chunked_body_past_the_limit_is_refused_by_serve(targets: list[Target]) -> None:
    target = targets[0]
    reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
    try:
        writer.write(
            head(target, "POST", target.body_path, b"Content-Type: application/json\r\n")
            + b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"%x\r\n%s\r\n" % (1024 * 1024, b" " * 1024 * 1024)
        with contextlib.suppress(ConnectionError):
            for _ in range(20):  # 20 MiB, the limit is 16
                writer.write(chunk)
                await writer.drain()
        answer = await asyncio.wait_for(reader.read(65536), 20)
    finally:
        # abort, not close: the server stopped reading, so unsent chunks would only fail to
        # flush later (a BrokenPipeError in the event loop, outside this test's reach)
        writer.transport.abort()
    assert status_of(answer) == 413


async def normal_request(target: Target) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(f"http://127.0.0.1:{target.port}{target.normal_path}")
        return answer.status_code


@contextlib.asynccontextmanager
async def slow_connections(target: Target, count: int) -> AsyncIterator[list[asyncio.Task[int]]]:
    """``count`` connections sending a request head one header line a second, never ending
    it; each task ends with the status the server finally answered (0: closed silently)."""

    async def dribble() -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
        try:
            writer.write(head(target, "GET", target.normal_path))
            reading = asyncio.create_task(reader.read(65536))
            for n in range(int(HEAD_TIMEOUT * 3)):
                done, _ = await asyncio.wait({reading}, timeout=1)
                if done:
                    return status_of(reading.result())
                with contextlib.suppress(ConnectionError):
                    writer.write(b"X-Slow-%d: 1\r\n" % n)
                    await writer.drain()
            reading.cancel()
            return -1  # still hanging on: the server never gave up
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    tasks = [asyncio.create_task(dribble()) for _ in range(count)]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_slow_clients_do_not_keep_others_out(targets: list[Target]) -> None:
    async with contextlib.AsyncExitStack() as stack:
        attacks = [
            await stack.enter_async_context(slow_connections(target, SLOW_CONNECTIONS))
            for target in targets
        ]
        await asyncio.sleep(1)  # every slow connection is open and dribbling
        served: dict[str, list[int]] = {t.name: [] for t in targets}
        for _ in range(int(HEAD_TIMEOUT * 2) - 4):  # while they hang on
            for target in targets:
                served[target.name].append(await normal_request(target))
            await asyncio.sleep(0.5)
        for target in targets:
            assert set(served[target.name]) == {200}, (target.name, served[target.name])
        for target, tasks in zip(targets, attacks, strict=True):
            endings = await asyncio.gather(*tasks)
            assert endings == [408] * SLOW_CONNECTIONS, (target.name, sorted(set(endings)))
