"""Forwarder test fixtures: a TLS test CA, fake upstreams, a running forwarder, a raw client."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httptools
import pytest

from dingbridge.forwarder.server import Forwarder
from dingbridge.forwarder.settings import ForwarderSettings
from tests.forwarder.fake_upstream import (
    FakeUpstream,
    Handler,
    LocalCA,
    echo_handler,
    make_local_ca,
)


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCA:
    return make_local_ca(tmp_path_factory.mktemp("ca"))


@dataclass
class HttpReply:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    keep_alive: bool

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def json(self) -> Any:
        import json

        return json.loads(self.body)


class _ReplyCollector:
    def __init__(self) -> None:
        self.reason = b""
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.done = False

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.done = True


class RawClient:
    """One client connection that writes raw bytes and reads parsed responses."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._leftover = b""

    @classmethod
    async def connect(
        cls, port: int, host: str = "127.0.0.1", source: str | None = None
    ) -> RawClient:
        local_addr = (source, 0) if source else None
        reader, writer = await asyncio.open_connection(host, port, local_addr=local_addr)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_reply(self, head_request: bool = False, wait: float = 10) -> HttpReply:
        collector = _ReplyCollector()
        parser = httptools.HttpResponseParser(collector)
        async with asyncio.timeout(wait):
            while not collector.done:
                data = await self.reader.read(65536)
                if not data:
                    break
                if head_request:
                    collector.done = b"\r\n\r\n" in data
                    if collector.done:
                        parser.feed_data(data)
                        break
                parser.feed_data(data)
        return HttpReply(
            status=parser.get_status_code(),
            reason=collector.reason.decode("latin-1"),
            headers=collector.headers,
            body=b"".join(collector.body),
            keep_alive=parser.should_keep_alive(),
        )

    async def request(self, data: bytes, head_request: bool = False) -> HttpReply:
        await self.send(data)
        return await self.read_reply(head_request=head_request)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def raw_request(
    port: int, data: bytes, host: str = "127.0.0.1", source: str | None = None
) -> HttpReply:
    client = await RawClient.connect(port, host, source)
    try:
        return await client.request(data)
    finally:
        await client.close()


@dataclass
class Running:
    forwarder: Forwarder
    oapi: FakeUpstream
    api: FakeUpstream

    @property
    def port(self) -> int:
        return self.forwarder.port

    async def get(
        self, target: str, headers: str = "", host: str = "127.0.0.1", source: str | None = None
    ) -> HttpReply:
        host_line = "" if "host:" in headers.lower() else "Host: fwd.test\r\n"
        data = f"GET {target} HTTP/1.1\r\n{host_line}{headers}\r\n".encode()
        return await raw_request(self.port, data, host, source)


StartForwarder = Callable[..., Awaitable[Running]]


@pytest.fixture
async def start_forwarder(test_ca: LocalCA) -> AsyncIterator[StartForwarder]:
    """Start fake HTTPS oapi/api upstreams and a forwarder in front; returns a starter."""
    started: list[Running] = []
    upstreams: list[FakeUpstream] = []

    async def start(
        oapi_handler: Handler = echo_handler,
        api_handler: Handler = echo_handler,
        tls: bool = True,
        upstream_host: str = "localhost",
        **overrides: Any,
    ) -> Running:
        context = test_ca.server_context if tls else None
        oapi = await FakeUpstream(oapi_handler, context).start()
        api = await FakeUpstream(api_handler, context).start()
        upstreams.extend([oapi, api])
        values: dict[str, Any] = {
            "listen": "127.0.0.1:0",
            "oapi": oapi.url(upstream_host),
            "api": api.url(upstream_host),
            "ca_file": str(test_ca.ca_file),
        }
        values.update(overrides)
        settings = dataclasses.replace(ForwarderSettings(), **values)
        forwarder = Forwarder(settings)
        await forwarder.start()
        running = Running(forwarder, oapi, api)
        started.append(running)
        return running

    yield start
    for running in started:
        await running.forwarder.close()
    for upstream in upstreams:
        await upstream.close()
    await asyncio.sleep(0)
    gc.collect()  # report leaked transports in the test that leaked them


@pytest.fixture
def local_ca_file(test_ca: LocalCA) -> Path:
    return test_ca.ca_file


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    """Every forwarder test runs on asyncio's loop and on uvloop (what `forward` uses)."""
    factories: dict[str, Any] = {"asyncio": asyncio.new_event_loop}
    try:
        import uvloop
    except ImportError:  # Windows: uvloop is not installed there
        return factories
    factories["uvloop"] = uvloop.new_event_loop
    return factories
