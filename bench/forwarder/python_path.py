"""The forwarder's own Python cost per request, without sockets, TLS or the kernel.

    .venv/bin/python bench/forwarder/python_path.py [N]

Feeds a request into a client connection and the upstream's answer into a pooled upstream
connection (both with do-nothing transports) N times on uvloop, with the access log off and to a
file, and prints µs per request: the part of `dingbridge forward`'s CPU per request that is
Python (httptools parsing, checks, routing, head building, pool, metrics, log line).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dingbridge.forwarder.server import Forwarder
from dingbridge.forwarder.settings import ForwarderSettings
from dingbridge.forwarder.upstream_pool import UpstreamConnection

REQUEST = (
    b"GET /oapi-dingtalk-com/gettoken?appkey=dingbench&appsecret=bench-secret HTTP/1.1\r\n"
    b"Host: forwarder.bench\r\n\r\n"
)
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 29 Nov 2026 00:00:00 GMT\r\n"
    b"Content-Type: application/json\r\nContent-Length: 100\r\nConnection: keep-alive\r\n\r\n"
    + b"x"
    * 100
)


class NullTransport:
    def write(self, data: bytes) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 50000) if name == "peername" else default

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


async def per_request_us(access_log: str, count: int) -> float:
    settings = dataclasses.replace(
        ForwarderSettings(),
        listen="127.0.0.1:0",
        oapi="https://localhost:1",
        api="https://localhost:1",
        access_log=access_log,
    )
    forwarder = Forwarder(settings)
    pool = forwarder.pools["oapi"]
    upstream = UpstreamConnection(pool)
    upstream.connection_made(NullTransport())  # type: ignore[arg-type]
    pool.idle.append(upstream)
    client = forwarder.protocol_factory()
    client.connection_made(NullTransport())  # type: ignore[arg-type]
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)  # as `dingbridge forward` runs
    started = time.perf_counter()
    for _ in range(count):
        client.data_received(REQUEST)
        upstream.buffer[: len(RESPONSE)] = RESPONSE
        upstream.buffer_updated(len(RESPONSE))
    elapsed = time.perf_counter() - started
    forwarder.access_log.close()
    return elapsed / count * 1e6


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    with tempfile.TemporaryDirectory() as folder:
        for label, mode in (("access log off", "off"), ("access log to a file", f"{folder}/a.log")):
            print(f"{label:22} {runner(per_request_us(mode, count)):6.1f} µs per request")


if __name__ == "__main__":
    main()
