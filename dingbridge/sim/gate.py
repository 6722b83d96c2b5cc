"""The outermost ASGI layer: injected faults and the request log.

A dropped connection is produced by returning a non-None value to the server: uvicorn then
closes the socket without writing a byte ("ASGI callable should return None"). This only works
when the simulator is the top-level ASGI app (as under ``dingbridge sim``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dingbridge.sim.errors import (
    API_CONTENT_TYPE,
    OAPI_CONTENT_TYPE,
    ApiError,
    GatewayError,
    OapiError,
    api_error_body,
    api_response,
    oapi_error_body,
    oapi_response,
)
from dingbridge.sim.faults import Fault
from dingbridge.sim.state import SimState

logger = logging.getLogger(__name__)

DROPPED = "dingbridge.sim: dropped the connection (injected fault)"

_GATEWAY_PAGE = (
    "<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center>"
    "<hr><center>Tengine</center></body></html>"
)


def is_control_path(path: str) -> bool:
    return path == "/_sim" or path.startswith("/_sim/")


class SimGate:
    def __init__(self, app: ASGIApp, state: SimState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] != "http" or is_control_path(scope["path"]):
            await self.app(scope, receive, send)
            return None
        status = 0

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        fault = self.state.faults.take(scope["path"])
        result: Any = None
        try:
            if fault is not None and fault.kind != "latency":
                scope["sim.outcome"] = f"fault:{fault.kind}"
                result = await self._inject(fault, scope, receive, recording_send)
            else:
                if fault is not None:
                    await asyncio.sleep(fault.seconds)
                await self.app(scope, receive, recording_send)
        finally:  # also when the caller gave up waiting (a hang: the request is cancelled)
            self._log(scope, status)
        return result

    async def _inject(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> Any:
        path: str = scope["path"]
        if fault.kind == "hang":
            await _wait_for_disconnect(receive, fault.seconds)
            return DROPPED
        if fault.kind == "drop":
            return DROPPED
        if fault.kind == "http_status":
            body = _GATEWAY_PAGE.format(status=fault.status)
            await _send_html(send, fault.status, body)
            return None
        if fault.kind == "malformed":
            api = path.startswith("/v1.0/")
            content_type = API_CONTENT_TYPE if api else OAPI_CONTENT_TYPE
            await _send_body(send, fault.status or 200, fault.body, content_type)
            return None
        if path.startswith("/v1.0/"):
            error = ApiError(fault.status or 500, fault.code, fault.message)
            response = api_response(api_error_body(error), error.status)
        else:
            oapi_error: OapiError | GatewayError = OapiError(fault.errcode, fault.errmsg)
            if fault.sub_code:  # the gateway's 88 wrapper, wherever the fault is put
                oapi_error = GatewayError(fault.sub_code, fault.sub_msg or fault.errmsg)
            body_dict, _ = oapi_error_body(oapi_error, topapi=True)
            if not path.startswith("/topapi/"):
                body_dict.pop("request_id", None)
            response = oapi_response(body_dict)
        await response(scope, receive, send)
        return None

    def _log(self, scope: Scope, status: int) -> None:
        client = scope.get("client")
        outcome = scope.get("sim.outcome") or ("ok" if 0 < status < 400 else str(status))
        app_key, peer = str(scope.get("sim.app_key", "")), str(client[0]) if client else "127.0.0.1"
        self.state.log(scope["method"], scope["path"], app_key, peer, outcome)
        # The path only: query strings carry appsecret, tokens and codes.
        logger.info(
            "%s %s app=%s peer=%s -> %s",
            scope["method"],
            scope["path"],
            app_key or "-",
            peer,
            outcome,
        )


async def _wait_for_disconnect(receive: Receive, seconds: float) -> None:
    async def wait() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    if seconds > 0:
        try:
            await asyncio.wait_for(wait(), seconds)
        except TimeoutError:
            return
    else:
        await wait()


async def _send_html(send: Send, status: int, body: str) -> None:
    await _send_body(send, status, body, "text/html")


async def _send_body(send: Send, status: int, body: str, content_type: str) -> None:
    data = body.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(data)).encode()),
                (b"server", b"Tengine"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
