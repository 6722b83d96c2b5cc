"""The DingTalk client: configuration plus one object per API family.

    client = DingTalkClient(
        app_key="ding...", app_secret="...", corp_id="ding...", agent_id=3001001,
        endpoints=Endpoints.from_forward_address("http://203.0.113.5:888/api-dingtalk-com/"),
    )
    async with client:
        info = await client.users.getuserinfo(code)
        user = await client.users.get(info.userid)

Families: ``tokens``, ``users``, ``oauth``, ``jsapi``, ``contacts``, ``messages``.
"""

from __future__ import annotations

from types import TracebackType
from typing import Literal

from dingbridge.dingtalk.api.contacts import Contacts
from dingbridge.dingtalk.api.jsapi import Jsapi
from dingbridge.dingtalk.api.messages import Messages
from dingbridge.dingtalk.api.oauth import OAuth
from dingbridge.dingtalk.api.stream_gateway import StreamTicket, open_connection
from dingbridge.dingtalk.api.tokens import AppTokens
from dingbridge.dingtalk.api.users import Users
from dingbridge.dingtalk.caller import Caller, CallObserver, RetryPolicy
from dingbridge.dingtalk.endpoints import Endpoints
from dingbridge.dingtalk.pacing import Pacer, QpsRetry
from dingbridge.dingtalk.token_cache import MemoryTokenStore, TokenCache, TokenStore
from dingbridge.dingtalk.transport import AiohttpTransport, Transport

__all__ = ["DingTalkClient"]


class DingTalkClient:
    """One DingTalk app (AppKey) in one corp.

    ``api_version`` "v2" (default) fetches app tokens from ``/v1.0/oauth2/accessToken`` and
    signs browsers in through ``login.dingtalk.com/oauth2/auth``; "v1" uses ``/gettoken`` and
    the SNS ``qrconnect`` flow. ``transport`` and ``token_store`` may be shared by many clients;
    a transport the client created itself is closed by :meth:`aclose`. ``observer`` is
    called after every HTTP attempt with (path, outcome, seconds), for metrics. ``pacer``
    gives each attempt its turn below DingTalk's limits (none by default; the server shares
    one across instances) and ``qps_retry`` bounds the waiting after a 90018.
    """

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        corp_id: str | None = None,
        agent_id: int | None = None,
        api_version: Literal["v1", "v2"] = "v2",
        endpoints: Endpoints | None = None,
        transport: Transport | None = None,
        token_store: TokenStore | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
        token_refresh_margin: float = 300.0,
        observer: CallObserver | None = None,
        pacer: Pacer | None = None,
        qps_retry: QpsRetry | None = None,
    ) -> None:
        if api_version not in ("v1", "v2"):
            raise ValueError(f"api_version must be 'v1' or 'v2', got {api_version!r}")
        if not app_key or not app_secret:
            raise ValueError("app_key and app_secret are required")
        self.app_key = app_key
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.api_version = api_version
        self.endpoints = endpoints or Endpoints()
        self._owns_transport = transport is None
        self.transport: Transport = transport or AiohttpTransport()
        self.token_cache = TokenCache(
            token_store or MemoryTokenStore(), refresh_margin=token_refresh_margin
        )
        self.caller = Caller(
            endpoints=self.endpoints,
            transport=self.transport,
            app_key=app_key,
            timeout=timeout,
            retry=retry,
            observer=observer,
            pacer=pacer,
            qps_retry=qps_retry,
        )
        self.tokens = AppTokens(
            self.caller,
            self.token_cache,
            app_key=app_key,
            app_secret=app_secret,
            api_version=api_version,
        )
        self.caller.tokens = self.tokens
        self.users = Users(self.caller, api_version=api_version)
        self.oauth = OAuth(
            self.caller,
            endpoints=self.endpoints,
            app_key=app_key,
            app_secret=app_secret,
            users=self.users,
            api_version=api_version,
        )
        self.jsapi = Jsapi(
            self.caller,
            self.token_cache,
            app_key=app_key,
            corp_id=corp_id,
            agent_id=agent_id,
            api_version=api_version,
        )
        self.contacts = Contacts(self.caller)
        self._app_secret = app_secret
        self.messages = Messages(self.caller, agent_id=agent_id)

    async def open_event_stream(self) -> StreamTicket:
        """Stream mode: the gateway's WebSocket endpoint and ticket for this app's events."""
        return await open_connection(self.caller, self.app_key, self._app_secret)

    def __repr__(self) -> str:  # never show the secret
        return f"DingTalkClient(app_key={self.app_key!r}, api_version={self.api_version!r})"

    async def aclose(self) -> None:
        if self._owns_transport:
            await self.transport.aclose()

    async def __aenter__(self) -> DingTalkClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
