"""Serve an ASGI app with uvicorn in a background thread (tests, demos, benchmarks)."""

from __future__ import annotations

import socket
import sys
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn


class BackgroundServer:
    """``with BackgroundServer(app) as server: server.url`` → ``http://127.0.0.1:PORT``.

    Binds ``host`` on a free port (0) before uvicorn starts, so the port is known at once.
    Clients may connect from another loopback source address (e.g. bound to 127.0.0.2): the
    app then sees that address as the peer."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if sys.platform != "win32":  # on Windows SO_REUSEADDR would let others share the port
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.host, self.port = self.sock.getsockname()[:2]
        if self.host == "0.0.0.0":
            self.host = "127.0.0.1"
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
            server_header=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="sim-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        self.server.run(sockets=[self.sock])

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the background server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> BackgroundServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
