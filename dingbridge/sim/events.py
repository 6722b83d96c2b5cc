"""Event subscription as DingTalk delivers it: Stream mode and HTTP push.

A directory change made through the control API or the console (a user leaves, changes mobile,
moves department, joins) becomes one :class:`SimEvent`, delivered to every app of the corp
that listens:

- **Stream mode**: to one open connection of the app (round robin when it holds several), as an
  ``EVENT`` frame; the app must ack it with code 200. A non-200 ack, or a connection that
  closes before acking, puts the event back: it goes to the next connection of the app (now,
  or when one opens). An app with no open connection when the event happens does not get it
  (catching up is the directory sync's job, as with DingTalk).
- **HTTP push**: POST to the app's registered URL, encrypted and signed with the app's token
  and aes_key (owner key = AppKey); the answer must be the encrypted ``success``; a failed
  push is retried ``callback_retries`` times, ``callback_retry_interval`` seconds apart
  (doubling). Each attempt is signed afresh (new timestamp and nonce).

Every delivery attempt is recorded (``deliveries``) for the control API and the console.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import string
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from dingbridge.dingtalk.callback_crypto import CallbackCrypto, CallbackCryptoError

if TYPE_CHECKING:
    from dingbridge.sim.state import SimState

log = logging.getLogger(__name__)

USER_EVENTS = ("user_add_org", "user_modify_org", "user_leave_org", "user_active_org")
DEPT_EVENTS = ("org_dept_create", "org_dept_modify", "org_dept_remove")


@dataclass(frozen=True)
class SimEvent:
    event_id: str
    event_type: str
    corp_id: str
    born_ms: int
    user_ids: tuple[str, ...] = ()
    dept_ids: tuple[int, ...] = ()

    def business_data(self) -> dict[str, Any]:
        """The event's own fields (Stream ``data``; HTTP adds the envelope fields)."""
        data: dict[str, Any] = {"timeStamp": str(self.born_ms)}
        if self.user_ids:
            data["userId"] = list(self.user_ids)
        if self.dept_ids:
            data["deptId"] = list(self.dept_ids)
        return data

    def http_body(self) -> dict[str, Any]:
        return {
            "EventType": self.event_type,
            "EventTime": self.born_ms,
            "CorpId": self.corp_id,
            "BizId": self.event_id,
            "eventId": self.event_id,
            **self.business_data(),
        }


@dataclass
class HttpSubscription:
    url: str
    token: str
    aes_key: str


@dataclass
class Delivery:
    time: float
    event_id: str
    event_type: str
    app_key: str
    channel: str  # "stream" | "http"
    outcome: str  # "sent", "acked", "nack:<code>", "redelivered", "ok", "failed:<why>", ...

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


class StreamConnection:
    """One open WebSocket of an app; the handler drains ``outbox``."""

    def __init__(self, app_key: str, connection_id: str) -> None:
        self.app_key = app_key
        self.connection_id = connection_id
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.unacked: dict[str, SimEvent] = {}


@dataclass
class EventHub:
    state: SimState
    connections: dict[str, list[StreamConnection]] = field(default_factory=dict)
    tickets: dict[str, tuple[str, float]] = field(default_factory=dict)
    waiting: dict[str, OrderedDict[str, SimEvent]] = field(default_factory=dict)
    """Per app: events sent but not acked whose connection went away (next connection gets them)."""
    http: dict[str, HttpSubscription] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    events: list[SimEvent] = field(default_factory=list)
    http_transport: httpx.AsyncBaseTransport | None = None
    """Tests deliver HTTP pushes in-process; None: over the network."""
    _turn: dict[str, int] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    # --- stream connections ---

    def issue_ticket(self, app_key: str) -> str:
        ticket = secrets.token_urlsafe(24)
        self.tickets[ticket] = (app_key, time.monotonic() + 90)
        return ticket

    def redeem_ticket(self, ticket: str) -> str | None:
        """The app of a connection ticket (single use, 90 seconds), or None."""
        app_key, expires = self.tickets.pop(ticket, ("", 0.0))
        return app_key if app_key and time.monotonic() < expires else None

    def open(self, app_key: str) -> StreamConnection:
        conn = StreamConnection(app_key, secrets.token_hex(16))
        self.connections.setdefault(app_key, []).append(conn)
        for event in self.waiting.pop(app_key, OrderedDict()).values():
            self._send(conn, event, "redelivered")
        return conn

    def close(self, conn: StreamConnection) -> None:
        live = self.connections.get(conn.app_key, [])
        if conn in live:
            live.remove(conn)
        for event in conn.unacked.values():
            self._requeue(conn.app_key, event)
        conn.unacked.clear()

    def ack(self, conn: StreamConnection, message_id: str, code: int) -> None:
        event = conn.unacked.pop(message_id, None)
        if event is None:
            return
        if code == 200:
            self._record(event, conn.app_key, "stream", "acked")
            return
        self._record(event, conn.app_key, "stream", f"nack:{code}")
        self._requeue(conn.app_key, event)

    def _requeue(self, app_key: str, event: SimEvent) -> None:
        live = self.connections.get(app_key, [])
        if live:
            self._send(self._next(app_key, live), event, "redelivered")
        else:
            self.waiting.setdefault(app_key, OrderedDict())[event.event_id] = event

    def _next(self, app_key: str, live: list[StreamConnection]) -> StreamConnection:
        turn = self._turn.get(app_key, 0)
        self._turn[app_key] = turn + 1
        return live[turn % len(live)]

    def _send(self, conn: StreamConnection, event: SimEvent, outcome: str = "sent") -> None:
        message_id = secrets.token_hex(12)
        conn.unacked[message_id] = event
        now_ms = int(self.state.clock.now() * 1000)
        app = self.state.apps.get(conn.app_key)
        conn.outbox.put_nowait(
            {
                "specVersion": "1.0",
                "type": "EVENT",
                "headers": {
                    "appId": str(app.agent_id) if app else "",
                    "connectionId": conn.connection_id,
                    "contentType": "application/json",
                    "messageId": message_id,
                    "time": str(now_ms),
                    "topic": "*",
                    "eventId": event.event_id,
                    "eventType": event.event_type,
                    "eventBornTime": str(event.born_ms),
                    "eventCorpId": event.corp_id,
                    "eventUnifiedAppId": conn.app_key,
                },
                "data": json.dumps(event.business_data(), ensure_ascii=False),
            }
        )
        self._record(event, conn.app_key, "stream", outcome)

    def disconnect_all(self, app_key: str | None = None) -> int:
        """Send the SYSTEM ``disconnect`` frame (clients reconnect); the connections told."""
        told = 0
        for key, live in self.connections.items():
            if app_key not in (None, key):
                continue
            for conn in live:
                conn.outbox.put_nowait(system_frame("disconnect", conn.connection_id))
                told += 1
        return told

    # --- emitting ---

    def emit(
        self,
        corp_id: str,
        event_type: str,
        *,
        user_ids: tuple[str, ...] = (),
        dept_ids: tuple[int, ...] = (),
    ) -> SimEvent:
        event = SimEvent(
            event_id=secrets.token_hex(16),
            event_type=event_type,
            corp_id=corp_id,
            born_ms=int(self.state.clock.now() * 1000),
            user_ids=user_ids,
            dept_ids=dept_ids,
        )
        self.events.append(event)
        del self.events[: max(0, len(self.events) - 1000)]
        corp = self.state.corps.get(corp_id)
        for app_key in corp.apps if corp else ():
            live = self.connections.get(app_key, [])
            if live:
                self._send(self._next(app_key, live), event)
            subscription = self.http.get(app_key)
            if subscription is not None:
                self._spawn(self._push(app_key, subscription, event))
        return event

    def redeliver(self, event_id: str) -> SimEvent | None:
        """Send an event again, same ``eventId``, to each app's next live connection (DingTalk
        delivers at least once: an ack lost on the way looks like this); None if unknown."""
        event = next((e for e in self.events if e.event_id == event_id), None)
        if event is None:
            return None
        corp = self.state.corps.get(event.corp_id)
        for app_key in corp.apps if corp else ():
            live = self.connections.get(app_key, [])
            if live:
                self._send(self._next(app_key, live), event, "redelivered")
        return event

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _record(self, event: SimEvent, app_key: str, channel: str, outcome: str) -> None:
        entry = Delivery(time.time(), event.event_id, event.event_type, app_key, channel, outcome)
        self.deliveries.append(entry)
        del self.deliveries[: max(0, len(self.deliveries) - 2000)]

    # --- HTTP push ---

    async def _push(self, app_key: str, sub: HttpSubscription, event: SimEvent) -> None:
        settings = self.state.settings
        delay = float(settings.callback_retry_interval)
        for attempt in range(1 + settings.callback_retries):
            if attempt:
                await asyncio.sleep(delay)
                delay *= 2
            why = await push_once(sub, app_key, event.http_body(), self.http_transport)
            self._record(event, app_key, "http", "ok" if why is None else f"failed:{why}")
            if why is None:
                return

    async def verify_url(self, app_key: str, sub: HttpSubscription) -> str | None:
        """The console's 保存 of a callback URL: the ``check_url`` handshake; why it failed."""
        return await push_once(sub, app_key, {"EventType": "check_url"}, self.http_transport)


def system_frame(topic: str, connection_id: str, data: str = "") -> dict[str, Any]:
    return {
        "specVersion": "1.0",
        "type": "SYSTEM",
        "headers": {
            "connectionId": connection_id,
            "contentType": "application/json",
            "messageId": secrets.token_hex(12),
            "time": str(int(time.time() * 1000)),
            "topic": topic,
        },
        "data": data or json.dumps({"opaque": secrets.token_hex(8)}),
    }


def _nonce() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(16))


async def push_once(
    sub: HttpSubscription,
    app_key: str,
    body: dict[str, Any],
    transport: httpx.AsyncBaseTransport | None = None,
) -> str | None:
    """One signed, encrypted POST; None when the answer is the encrypted ``success``."""
    try:
        crypto = CallbackCrypto(sub.token, sub.aes_key, app_key)
    except CallbackCryptoError as exc:
        return f"bad aes_key: {exc}"
    encrypt = crypto.encrypt(json.dumps(body, ensure_ascii=False))
    timestamp, nonce = str(int(time.time() * 1000)), _nonce()
    signature = crypto.sign(timestamp, nonce, encrypt)
    params = {"signature": signature, "timestamp": timestamp, "nonce": nonce}
    try:
        async with httpx.AsyncClient(timeout=3.0, transport=transport) as client:
            answer = await client.post(sub.url, params=params, json={"encrypt": encrypt})
    except httpx.HTTPError as exc:
        return f"unreachable: {type(exc).__name__}"
    if answer.status_code != 200:
        return f"HTTP {answer.status_code}"
    try:
        reply = answer.json()
        plain = crypto.decrypt_verified(
            str(reply["msg_signature"]),
            str(reply["timeStamp"]),
            str(reply["nonce"]),
            str(reply["encrypt"]),
        )
    except (ValueError, KeyError, TypeError, CallbackCryptoError):
        return "71009 返回文本非success"
    return None if plain == "success" else "71009 返回文本非success"
