"""The standalone forwarder: one :class:`Forwarder` per event loop (routes, caller policy,
upstream pools, metrics, access log, health) and :func:`run_forwarder`, which the
``dingbridge forward`` command calls (uvloop where importable, worker processes on Linux)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import multiprocessing
import signal
import socket
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from dingbridge.forwarder.access_log import AccessLog
from dingbridge.forwarder.client_connection import ClientConnection
from dingbridge.forwarder.exchange import Exchange
from dingbridge.forwarder.local_responses import http_response
from dingbridge.forwarder.metrics import ForwarderMetrics
from dingbridge.forwarder.policy import CallerPolicy
from dingbridge.forwarder.routing import RouteTable
from dingbridge.forwarder.settings import ForwarderSettings
from dingbridge.forwarder.upstream_pool import UpstreamError, UpstreamPool, make_ssl_context

logger = logging.getLogger(__name__)
T = TypeVar("T")
METRICS_TYPE = b"text/plain; version=0.0.4; charset=utf-8"


class Forwarder:
    """Everything one event loop needs to forward: build it inside a running loop."""

    def __init__(self, settings: ForwarderSettings) -> None:
        self.settings = settings
        self.loop = asyncio.get_running_loop()
        self.routes = RouteTable(settings)
        self.policy = CallerPolicy(settings)
        self.metrics = ForwarderMetrics()
        self.access_log = AccessLog(settings.access_log)
        upstreams = settings.upstreams()
        ssl_context = (
            make_ssl_context(settings.ca_file) if any(u.tls for u in upstreams.values()) else None
        )
        self.pools = {
            name: UpstreamPool(up, settings, ssl_context) for name, up in upstreams.items()
        }
        self.host_headers = {name: up.host_header.encode("idna") for name, up in upstreams.items()}
        for name, pool in self.pools.items():
            self.metrics.pool_gauges[name] = pool.gauge
        self.clients: set[ClientConnection] = set()
        # Exchanges bound to an upstream connection; a ticker checks their timeouts (cheaper
        # than a timer per request).
        self.watched: set[Exchange] = set()
        self.tasks: set[asyncio.Task[Any]] = set()
        self._tick = max(0.02, min(1.0, settings.read_timeout / 4, settings.write_timeout / 4))
        self._ticker: asyncio.TimerHandle | None = None
        self.server: asyncio.Server | None = None
        self._health: tuple[float, int, bytes] | None = None
        self._health_task: asyncio.Task[tuple[int, bytes]] | None = None

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run ``coro`` as a task that :meth:`close` cancels if it is still running."""
        task = self.loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def protocol_factory(self) -> ClientConnection:
        return ClientConnection(self)

    async def start(
        self, sock: socket.socket | None = None, reuse_port: bool = False
    ) -> asyncio.Server:
        """Start listening on ``settings.listen`` (or on an already bound ``sock``)."""
        self._ticker = self.loop.call_later(self._tick, self._check_timeouts)
        if sock is not None:
            self.server = await self.loop.create_server(self.protocol_factory, sock=sock)
        else:
            self.server = await self.loop.create_server(
                self.protocol_factory,
                self.settings.listen_host,
                self.settings.listen_port,
                reuse_port=reuse_port or None,
                backlog=1024,
            )
        return self.server

    def _check_timeouts(self) -> None:
        now = self.loop.time()
        for exchange in list(self.watched):
            exchange.check_timeouts(now)
        self._ticker = self.loop.call_later(self._tick, self._check_timeouts)

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        if self.server is not None:
            self.server.close()
        for client in list(self.clients):
            client.close_if_idle()
        if self.server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2.0)
        for client in list(self.clients):
            client.abort()
        for pool in self.pools.values():
            pool.close()
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        self.access_log.close()

    # -- reserved paths --------------------------------------------------------------------
    def answer_reserved(self, exchange: Exchange) -> None:
        head_only = exchange.method == b"HEAD"
        if exchange.reserved == "metrics":
            body = self.metrics.render()
            exchange.answer_local(
                http_response(200, body, content_type=METRICS_TYPE, head_only=head_only), 200
            )
            return

        async def answer_health() -> None:
            status, body = await self.check_health()
            exchange.answer_local(http_response(status, body, head_only=head_only), status)

        self.spawn(answer_health())

    async def check_health(self) -> tuple[int, bytes]:
        """Upstream reachability (a fresh TCP+TLS connect each), cached for a few seconds."""
        cached = self._health
        if cached is not None and self.loop.time() - cached[0] < self.settings.health_cache_seconds:
            return cached[1], cached[2]
        if self._health_task is None or self._health_task.done():
            self._health_task = self.spawn(self._probe_all())
        return await asyncio.shield(self._health_task)

    async def _probe_all(self) -> tuple[int, bytes]:
        names = list(self.pools)
        results = await asyncio.gather(*(self._probe(self.pools[n]) for n in names))
        upstreams = dict(zip(names, results, strict=True))
        healthy = all(r["reachable"] for r in upstreams.values())
        body = json.dumps(
            {"status": "ok" if healthy else "unreachable", "upstreams": upstreams},
            ensure_ascii=False,
        ).encode("utf-8")
        status = 200 if healthy else 503
        self._health = (self.loop.time(), status, body)
        return status, body

    async def _probe(self, pool: UpstreamPool) -> dict[str, Any]:
        started = time.perf_counter()
        result: dict[str, Any] = {"url": pool.upstream.url}
        try:
            await pool.probe()
        except UpstreamError as exc:
            result.update(reachable=False, error=exc.kind, detail=exc.detail)
        else:
            result.update(reachable=True)
        result["connect_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return result


# -- running it ------------------------------------------------------------------------------
def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    if sys.platform == "win32":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


async def serve(settings: ForwarderSettings, reuse_port: bool = False) -> None:
    """Serve until SIGINT/SIGTERM (or cancellation)."""
    forwarder = Forwarder(settings)
    await forwarder.start(reuse_port=reuse_port)
    # Start-up objects never die: keep them out of collections; the hot path allocates no
    # cycles, so collections can be rarer (measured: ~5% of CPU at default thresholds).
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
    stop = asyncio.Event()
    if sys.platform != "win32":
        for sig in (signal.SIGINT, signal.SIGTERM):
            forwarder.loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await forwarder.close()


def _worker_main(settings: ForwarderSettings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(serve(settings, reuse_port=True))


def run_forwarder(settings: ForwarderSettings, echo: Callable[[str], None] = print) -> None:
    """Run ``dingbridge forward`` in the foreground with ``settings.workers`` processes."""
    workers = settings.workers
    if workers > 1 and (sys.platform == "win32" or not hasattr(socket, "SO_REUSEPORT")):
        echo(f"warning: --workers {workers} needs SO_REUSEPORT (Linux); running 1 worker")
        workers = 1
    loop_name = "uvloop" if _loop_factory() is not None else "asyncio"
    echo(settings.describe())
    echo(f"  event loop: {loop_name}, workers: {workers}")
    if workers == 1:
        with (
            asyncio.Runner(loop_factory=_loop_factory()) as runner,
            contextlib.suppress(KeyboardInterrupt),
        ):
            runner.run(serve(settings))
        return
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker_main, args=(settings,), daemon=False) for _ in range(workers)
    ]
    for process in processes:
        process.start()

    def stop(_signum: int, _frame: object) -> None:
        for process in processes:
            if process.pid is not None and process.is_alive():
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.join()
