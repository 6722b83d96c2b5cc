"""Stream mode: the gateway and the WebSocket it hands out.

``POST /v1.0/gateway/connections/open`` checks clientId/clientSecret (AppKey/AppSecret) and
answers ``{"endpoint", "ticket"}``; the endpoint is this simulator's ``/connect`` (``ws://``),
the ticket is single use. On the socket: ``EVENT`` frames for directory changes (the client
acks each with code 200), a ``SYSTEM`` ``ping`` every ``stream_ping_interval`` seconds (the
client acks it echoing ``data``), and ``SYSTEM`` ``disconnect`` when asked to reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from dingbridge.sim.endpoints import Call, api_endpoint
from dingbridge.sim.errors import ApiError
from dingbridge.sim.events import StreamConnection, system_frame
from dingbridge.sim.state import SimState

log = logging.getLogger(__name__)


@api_endpoint("gateway.connections.open", None, auth="none", body=True)
async def open_connection(call: Call) -> dict[str, Any]:
    app = call.state.apps.get(str(call.params.get("clientId", "")))
    if app is None or app.app_secret != call.params.get("clientSecret"):
        raise ApiError(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
    call.set_app(app)
    subscriptions = call.params.get("subscriptions")
    if not isinstance(subscriptions, list) or not subscriptions:
        raise ApiError(400, "InvalidParameter.Subscriptions", "subscriptions不能为空")
    base = call.request.base_url
    scheme = "wss" if base.scheme == "https" else "ws"
    endpoint = f"{scheme}://{base.netloc}/connect"
    return {"endpoint": endpoint, "ticket": call.state.events.issue_ticket(app.app_key)}


async def connect(websocket: WebSocket) -> None:
    state: SimState = websocket.app.state.sim
    app_key = state.events.redeem_ticket(websocket.query_params.get("ticket", ""))
    if app_key is None:
        await websocket.close(code=4001, reason="invalid ticket")
        return
    await websocket.accept()
    conn = state.events.open(app_key)
    log.info("stream: %s connected (%s)", app_key, conn.connection_id)
    sender = asyncio.create_task(_send_frames(websocket, conn, state))
    try:
        while True:
            raw = await websocket.receive_text()
            _on_ack(state, conn, raw)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        state.events.close(conn)
        log.info("stream: %s disconnected (%s)", app_key, conn.connection_id)


async def _send_frames(websocket: WebSocket, conn: StreamConnection, state: SimState) -> None:
    while True:
        interval = max(1, state.settings.stream_ping_interval)
        try:
            frame = await asyncio.wait_for(conn.outbox.get(), interval)
        except TimeoutError:
            frame = system_frame("ping", conn.connection_id)
        await websocket.send_text(json.dumps(frame, ensure_ascii=False))
        if frame["type"] == "SYSTEM" and frame["headers"]["topic"] == "disconnect":
            # DingTalk closes the socket a little after telling the client to reconnect.
            await asyncio.sleep(0.2)
            await websocket.close()
            return


def _on_ack(state: SimState, conn: StreamConnection, raw: str) -> None:
    try:
        ack = json.loads(raw)
        message_id = str(ack["headers"]["messageId"])
        code = int(ack.get("code", 0))
    except (ValueError, KeyError, TypeError):
        log.info("stream: %s sent a frame that is not an ack", conn.app_key)
        return
    state.events.ack(conn, message_id, code)


ROUTES = [
    Route("/v1.0/gateway/connections/open", open_connection, methods=["POST"]),
    WebSocketRoute("/connect", connect),
]
