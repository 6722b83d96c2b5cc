"""`dingbridge forward` as a user runs it: banner, serving, worker processes, clean stop."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys

import pytest

from tests.forwarder.conftest import raw_request
from tests.forwarder.fake_upstream import FakeUpstream, unused_port


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
async def test_forward_command_serves_and_stops(workers: int) -> None:
    if workers > 1 and not hasattr(socket, "SO_REUSEPORT"):
        pytest.skip("worker processes need SO_REUSEPORT")
    upstream = await FakeUpstream().start()
    port = unused_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dingbridge", "forward",
        "--listen", f"127.0.0.1:{port}", "--oapi", upstream.url(), "--api", upstream.url(),
        "--workers", str(workers), "--token", "cli-secret-9", "--access-log", "off",
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        reply = None
        for _ in range(200):
            try:
                reply = await raw_request(
                    port,
                    b"GET /oapi-dingtalk-com/gettoken HTTP/1.1\r\nHost: f\r\n"
                    b"X-Dingbridge-Token: cli-secret-9\r\n\r\n",
                )
                break
            except OSError:
                await asyncio.sleep(0.05)
        assert reply is not None and reply.status == 200
        assert upstream.requests[0].target == "/gettoken"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 20)
        await upstream.close()
    text = output.decode()
    assert f"listening on 127.0.0.1:{port}" in text
    assert "/api-dingtalk-com/*" in text and f"workers: {workers}" in text
    assert "cli-secret-9" not in text
    assert process.returncode in (0, -signal.SIGTERM)
