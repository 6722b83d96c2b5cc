"""Real sockets for the gate's end-to-end tests and its benchmark: a header-echo app (the
app behind the gate), dingbridge served by uvicorn in the caller's event loop, and nginx run
with the configuration ``dingbridge app nginx-conf`` prints."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

NGINX = "/usr/sbin/nginx"


@dataclass
class Seen:
    path: str
    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass
class EchoApp:
    """Answers every request with JSON of its path and headers, and keeps what it saw."""

    url: str
    seen: list[Seen] = field(default_factory=list)


@contextmanager
def echo_app() -> Iterator[EchoApp]:
    holder: list[EchoApp] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen = Seen(self.path, list(self.headers.items()))
            holder[0].seen.append(seen)
            body = json.dumps({"path": seen.path, "headers": seen.headers}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(EchoApp(f"http://127.0.0.1:{server.server_address[1]}"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """``app`` (its lifespan included) on a free loopback port, in this event loop."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            raise RuntimeError("dingbridge did not start")
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def nginx_conf_from_cli(
    data_dir: Path, app_id: int, listen: str, upstream: str, dingbridge: str
) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dingbridge",
            "app",
            "nginx-conf",
            str(app_id),
            "--listen",
            listen,
            "--upstream",
            upstream,
            "--dingbridge",
            dingbridge,
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def nginx(prefix: Path, conf: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """nginx run as ``nginx -p PREFIX -c FILE`` (in the foreground), once it listens."""
    prefix.mkdir(parents=True, exist_ok=True)
    conf_file = prefix / "nginx.conf"
    conf_file.write_text(conf, encoding="utf-8")
    process = subprocess.Popen(
        [NGINX, "-p", str(prefix), "-c", str(conf_file), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"nginx exited: {stderr}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not listen")
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr:
            process.stderr.close()
