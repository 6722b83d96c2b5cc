"""Stream mode's gateway: ``POST /v1.0/gateway/connections/open``.

The answer names the WebSocket endpoint and a one-time ticket; the connection itself (frames,
acks, pings) is the official ``dingtalk-stream`` SDK's business (``dingbridge.events.stream``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote_plus

from dingbridge.dingtalk.api.envelope import required_str
from dingbridge.dingtalk.caller import Caller

__all__ = ["StreamTicket", "open_connection"]

PATH = "/v1.0/gateway/connections/open"
EVENTS = [{"type": "EVENT", "topic": "*"}]


@dataclass(frozen=True)
class StreamTicket:
    endpoint: str
    ticket: str

    def __repr__(self) -> str:  # the ticket admits one connection: keep it out of logs
        return f"StreamTicket(endpoint={self.endpoint!r})"

    @property
    def url(self) -> str:
        return f"{self.endpoint}?ticket={quote_plus(self.ticket)}"


async def open_connection(
    caller: Caller, client_id: str, client_secret: str, *, user_agent: str = "dingbridge"
) -> StreamTicket:
    """Ask the gateway for an endpoint and ticket for the app's event subscription."""
    body = {
        "clientId": client_id,
        "clientSecret": client_secret,
        "subscriptions": EVENTS,
        "ua": user_agent,
        "localIp": "",
    }
    data = await caller.api("POST", PATH, json_body=body, token=None, idempotent=True)
    return StreamTicket(required_str(data, "endpoint", PATH), required_str(data, "ticket", PATH))
