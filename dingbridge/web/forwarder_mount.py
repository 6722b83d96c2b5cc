"""``dingbridge serve --forwarder``: the DingTalk API forwarder's two prefixes in the server.

Requests whose path starts with ``/api-dingtalk-com/`` or ``/oapi-dingtalk-com/`` go to the
forwarder's ASGI app (:mod:`dingbridge.forwarder.asgi`), everything else to the server. Only
those two prefixes: unlike the vendor guide's nginx (port 888), ``/`` is never forwarded (it is
the server's own).
The forwarder sends calls to the server's ``--dingtalk-api`` / ``--dingtalk-oapi`` hosts, from
``--forwarder-source-address`` when given. Like ``dingbridge forward``, it can require a caller
token (``DINGBRIDGE_FORWARDER_CALLER_TOKEN``) and limit callers to ``--forwarder-allow`` CIDRs: a
forwarder on a whitelisted IP is worth abusing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from dingbridge.forwarder.asgi import ForwarderApp, create_forwarder_app
from dingbridge.forwarder.settings import ForwarderSettings
from dingbridge.settings import Settings

log = logging.getLogger(__name__)

PREFIXES = ("/api-dingtalk-com/", "/oapi-dingtalk-com/")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def build_forwarder(settings: Settings) -> ForwarderApp:
    """The forwarder for this server's settings (its access log is the server's)."""
    forwarder_settings = ForwarderSettings(
        listen=f"{settings.host}:{settings.port}",
        api=settings.dingtalk_api,
        oapi=settings.dingtalk_oapi,
        source_address=settings.forwarder_source_address,
        token=settings.forwarder_caller_token,
        allow=tuple(c.strip() for c in (settings.forwarder_allow or "").split(",") if c.strip()),
        access_log="off",
    )
    log.info(
        "forwarding /api-dingtalk-com/ to %s and /oapi-dingtalk-com/ to %s (source address: %s)",
        settings.dingtalk_api,
        settings.dingtalk_oapi,
        settings.forwarder_source_address or "system default",
    )
    return create_forwarder_app(forwarder_settings)


class ForwarderRoutes:
    """ASGI middleware: the two DingTalk prefixes to ``forwarder``, the rest to ``app``."""

    def __init__(self, app: ASGIApp, forwarder: ASGIApp) -> None:
        self.app = app
        self.forwarder = forwarder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(PREFIXES):
            await self.forwarder(scope, receive, send)
            return
        await self.app(scope, receive, send)
