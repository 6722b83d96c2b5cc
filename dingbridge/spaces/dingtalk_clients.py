"""One :class:`~dingbridge.dingtalk.DingTalkClient` per app space, built from its saved
"钉钉授权(微应用)" settings and cached.

Every client shares one transport (one connection pool) and one token store (the KV, so
several server instances share app tokens). Settings apply at once: the caller passes the
space's current :class:`DingTalkConfig` (read per request), and a client whose settings
fingerprint (``updated_at`` and every field that matters, the encrypted AppSecret included)
differs is rebuilt.

Endpoints: a forward address (钉钉API转发地址) sends api and oapi calls to the forwarder;
otherwise they go to the server's ``dingtalk_api`` / ``dingtalk_oapi`` settings. Browser pages
(the OAuth page, V1 qrconnect) always use ``dingtalk_login`` / ``dingtalk_oapi``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from dingbridge.dingtalk import DingTalkClient, Endpoints, Pacer, QpsRetry, TokenStore, Transport
from dingbridge.dingtalk.caller import CallObserver
from dingbridge.dingtalk.transport import AiohttpTransport
from dingbridge.settings import Settings
from dingbridge.spaces.dingtalk_settings import DingTalkConfig, reveal_app_secret
from dingbridge.spaces.secret_box import SecretBox

log = logging.getLogger(__name__)


class DingTalkNotConfigured(ValueError):
    """The space has no usable DingTalk settings (disabled, or a field missing)."""


@dataclass(frozen=True)
class _Cached:
    fingerprint: tuple[object, ...]
    client: DingTalkClient


def _fingerprint(config: DingTalkConfig) -> tuple[object, ...]:
    return (
        config.updated_at,
        config.corp_id,
        config.agent_id,
        config.app_key,
        config.api_version,
        config.forward_url,
        config._app_secret_encrypted,
    )


class DingTalkClients:
    """The registry. ``transport`` defaults to one shared aiohttp transport, created lazily
    and closed by :meth:`aclose`; tests pass an in-process one. ``observer`` is given to every
    client (``(path, outcome, seconds)`` per HTTP attempt: the server's metrics).
    ``pacer_for(forward_url)`` gives the clients calling out through that forward address
    (None: directly) their pacer (the shared budget below DingTalk's limits); ``qps_retry``
    bounds the retrying after a 90018."""

    def __init__(
        self,
        settings: Settings,
        secret_box: SecretBox,
        token_store: TokenStore,
        *,
        transport: Transport | None = None,
        observer: CallObserver | None = None,
        pacer_for: Callable[[str | None], Pacer] | None = None,
        qps_retry: QpsRetry | None = None,
    ) -> None:
        self._pacer_for = pacer_for
        self._qps_retry = qps_retry
        self._settings = settings
        self._box = secret_box
        self._token_store = token_store
        self._transport = transport
        self._owns_transport = transport is None
        self._observer = observer
        self._clients: dict[int, _Cached] = {}

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            self._transport = AiohttpTransport()
        return self._transport

    def use_transport(self, transport: Transport) -> None:
        """Send every call through ``transport`` from now on (tests, the demo)."""
        self._transport = transport
        self._owns_transport = False
        self._clients.clear()

    def endpoints(self, config: DingTalkConfig) -> Endpoints:
        s = self._settings
        return Endpoints.for_app(
            forward_url=config.forward_url,
            api=s.dingtalk_api,
            oapi=s.dingtalk_oapi,
            login=s.dingtalk_login,
            forward_token=s.forward_address_token,
        )

    def for_space(self, config: DingTalkConfig) -> DingTalkClient:
        """The space's client (built now if its settings changed since the last call)."""
        if not (config.enabled and config.corp_id and config.app_key and config.has_app_secret):
            raise DingTalkNotConfigured(f"space {config.space_id}: DingTalk sign-in is not set up")
        fingerprint = _fingerprint(config)
        cached = self._clients.get(config.space_id)
        if cached is not None and cached.fingerprint == fingerprint:
            return cached.client
        api_version: Literal["v1", "v2"] = "v1" if config.api_version == "v1" else "v2"
        client = DingTalkClient(
            app_key=config.app_key,
            app_secret=reveal_app_secret(self._box, config),
            corp_id=config.corp_id,
            agent_id=int(config.agent_id) if config.agent_id.isdigit() else None,
            api_version=api_version,
            endpoints=self.endpoints(config),
            transport=self.transport,
            token_store=self._token_store,
            observer=self._observer,
            pacer=self._pacer_for(config.forward_url) if self._pacer_for else None,
            qps_retry=self._qps_retry,
        )
        self._clients[config.space_id] = _Cached(fingerprint, client)
        if cached is not None:
            log.info("DingTalk settings of space %d changed: client rebuilt", config.space_id)
        return client

    def forget(self, space_id: int) -> None:
        self._clients.pop(space_id, None)

    async def aclose(self) -> None:
        self._clients.clear()
        if self._owns_transport and self._transport is not None:
            await self._transport.aclose()
        self._transport = None
