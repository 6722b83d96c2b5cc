"""Stream mode: one outbound connection per DingTalk app, held by one instance at a time.

Every server process runs a :class:`StreamRunner`. It looks every ``poll`` seconds for the
spaces whose events come by Stream and keeps one task per AppKey (spaces sharing an app share
its stream). A task holds the app's connection only while it holds the app's lock in the
shared KV (``stream-lock:{AppKey}``, value = this instance as ``host:pid:random``, expiry
``lock_ttl``, renewed every third of that): with several instances exactly one connects and
the others stand by; when the holder dies its lock expires and a standby takes over within
``lock_ttl + poll``.

The gateway call (endpoint + ticket) goes through the DingTalk client
(:meth:`~dingbridge.dingtalk.DingTalkClient.open_event_stream`); the socket speaks the
protocol through the official ``dingtalk-stream`` SDK (frame parsing, acks, ping answers,
``disconnect``). A lost connection is opened again after a backoff (1 s doubling to 60 s,
with jitter). An event is acked 200 once applied (or found already applied); a failure acks
500 so DingTalk delivers it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import dingtalk_stream
import websockets

from dingbridge.dingtalk import DingTalkError
from dingbridge.events.apply import handle_event
from dingbridge.events.payload import BadEvent, from_stream
from dingbridge.i18n import Message
from dingbridge.signin.work_notices import space_name, tell_admins
from dingbridge.spaces.dingtalk_clients import DingTalkNotConfigured
from dingbridge.spaces.dingtalk_settings import DingTalkConfig, load_dingtalk
from dingbridge.spaces.event_settings import spaces_listening

if TYPE_CHECKING:
    from dingbridge.context import AppContext

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0
ALERT_AFTER = 5
"""Failed attempts in a row (about 30 s with the backoff) before the space's admins are told
(once, until the stream connects again)."""


def lock_key(app_key: str) -> str:
    return f"stream-lock:{app_key}"


def instance_name() -> str:
    """This process as the lock's value: ``host:pid:random`` (an operator sees who holds it)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class _Events(dingtalk_stream.EventHandler):
    """The SDK's event handler: apply the event to every space of the app."""

    def __init__(self, runner: StreamRunner, app_key: str) -> None:
        super().__init__()
        self.runner = runner
        self.app_key = app_key

    async def process(self, message: Any) -> tuple[int, str]:
        headers = {
            "eventId": message.headers.event_id,
            "eventType": message.headers.event_type,
            "eventCorpId": message.headers.event_corp_id,
            "eventBornTime": message.headers.event_born_time,
        }
        try:
            event = from_stream(headers, message.data if isinstance(message.data, dict) else {})
        except BadEvent as exc:
            log.warning("stream %s: unreadable event ignored (%s)", self.app_key, exc)
            return dingtalk_stream.AckMessage.STATUS_OK, "OK"
        try:
            for space_id in self.runner.spaces_of(self.app_key):
                await handle_event(self.runner.context, space_id, event)
        except Exception:
            log.exception("stream %s: event %s failed", self.app_key, event.event_type)
            return dingtalk_stream.AckMessage.STATUS_SYSTEM_EXCEPTION, "retry"
        self.runner.applied(event.event_id)
        return dingtalk_stream.AckMessage.STATUS_OK, "OK"


@dataclass
class StreamRunner:
    context: AppContext
    lock_ttl: float = 15.0
    poll: float = 5.0
    instance: str = field(default_factory=lambda: instance_name())
    on_applied: Callable[[str], None] | None = None
    _apps: dict[str, list[DingTalkConfig]] = field(default_factory=dict)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _failures: dict[str, int] = field(default_factory=dict)
    connected: set[str] = field(default_factory=set)
    """AppKeys whose stream this instance holds and has open now."""

    def spaces_of(self, app_key: str) -> list[int]:
        return [c.space_id for c in self._apps.get(app_key, [])]

    def applied(self, event_id: str) -> None:
        if self.on_applied is not None:
            self.on_applied(event_id)

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self.reconcile()
                except Exception:
                    log.exception("stream runner: could not read the spaces")
                await asyncio.sleep(self.poll)
        finally:
            await self.stop()

    async def reconcile(self) -> None:
        apps: dict[str, list[DingTalkConfig]] = {}
        async with self.context.db.session() as session:
            for space_id in await spaces_listening(session, "stream"):
                config = await load_dingtalk(session, space_id)
                if config.enabled and config.app_key and config.has_app_secret:
                    apps.setdefault(config.app_key, []).append(config)
        self._apps = apps
        for app_key in set(self._tasks) - set(apps):
            self._tasks.pop(app_key).cancel()
        for app_key in set(apps) - set(self._tasks):
            self._tasks[app_key] = asyncio.create_task(self._hold(app_key))

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- the lock ---

    async def _take_lock(self, app_key: str) -> bool:
        kv, me = self.context.kv, self.instance.encode()
        if await kv.set_if_absent(lock_key(app_key), me, self.lock_ttl):
            log.info("stream %s: this instance (%s) holds the stream", app_key, self.instance)
            return True
        if await kv.get(lock_key(app_key)) == me:
            await kv.set(lock_key(app_key), me, self.lock_ttl)
            return True
        return False

    async def _release_lock(self, app_key: str) -> None:
        if await self.context.kv.get(lock_key(app_key)) == self.instance.encode():
            await self.context.kv.delete(lock_key(app_key))

    # --- one app ---

    async def _hold(self, app_key: str) -> None:
        backoff = 1.0
        try:
            while True:
                if not await self._take_lock(app_key):
                    await asyncio.sleep(min(self.poll, self.lock_ttl / 3))
                    continue
                try:
                    await self._serve(app_key)
                    backoff = 1.0
                except (DingTalkError, DingTalkNotConfigured, OSError) as exc:
                    log.warning("stream %s: cannot connect (%s)", app_key, exc)
                    await self._failed(app_key)
                except websockets.exceptions.WebSocketException as exc:
                    log.warning("stream %s: connection lost (%s)", app_key, exc)
                    await self._failed(app_key)
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, MAX_BACKOFF)
        finally:
            self.connected.discard(app_key)
            with contextlib.suppress(Exception):
                await self._release_lock(app_key)

    async def _serve(self, app_key: str) -> None:
        configs = self._apps.get(app_key) or []
        if not configs:
            return
        client = self.context.signin.clients.for_space(configs[0])
        ticket = await client.open_event_stream()
        sdk = dingtalk_stream.DingTalkStreamClient(
            dingtalk_stream.Credential(app_key, ""), logger=logging.getLogger("dingtalk_stream")
        )
        sdk.register_all_event_handler(_Events(self, app_key))
        sdk.pre_start()
        async with websockets.connect(ticket.url) as websocket:
            sdk.websocket = websocket
            self.connected.add(app_key)
            self._failures[app_key] = 0
            keeper = asyncio.create_task(self._keep_lock(app_key, websocket))
            pending: set[asyncio.Task[Any]] = set()
            try:
                async for raw in websocket:
                    task = asyncio.create_task(self._route(sdk, raw))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
            finally:
                self.connected.discard(app_key)
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
        log.info("stream %s: connection closed, reconnecting", app_key)

    async def _failed(self, app_key: str) -> None:
        """One more failed attempt; the ``ALERT_AFTER``-th in a row tells the admins."""
        failures = self._failures.get(app_key, 0) + 1
        self._failures[app_key] = failures
        if failures != ALERT_AFTER:
            return
        for space_id in self.spaces_of(app_key):
            try:
                notice = Message(
                    "dingbridge cannot connect to DingTalk's Stream gateway for %(space)s "
                    "(%(attempts)s attempts in a row). People who leave DingTalk keep their "
                    "access until it connects. Check 事件订阅 (Stream mode) of the app in the "
                    "DingTalk developer console, and the server's log.",
                    space=await space_name(self.context, space_id),
                    attempts=failures,
                )
                await tell_admins(self.context, space_id, notice, kind="stream_down")
            except Exception:
                log.exception("stream %s: could not tell the admins of space %d", app_key, space_id)

    async def _route(self, sdk: Any, raw: str | bytes) -> None:
        try:
            result = await sdk.route_message(json.loads(raw))
        except (ValueError, websockets.exceptions.WebSocketException) as exc:
            log.warning("stream: frame not handled (%s)", exc)
            return
        if result == dingtalk_stream.DingTalkStreamClient.TAG_DISCONNECT:
            await sdk.websocket.close()

    async def _keep_lock(self, app_key: str, websocket: Any) -> None:
        """Renew the lock; if another instance has it now, close this connection."""
        while True:
            await asyncio.sleep(self.lock_ttl / 3)
            if not await self._take_lock(app_key):
                log.warning("stream %s: lock lost to another instance, closing", app_key)
                await websocket.close()
                return
