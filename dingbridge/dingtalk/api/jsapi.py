"""JSAPI ticket (both generations) and the ``dd.config`` signature.

Signature: ``sha1_hex("jsapi_ticket=T&noncestr=N&timestamp=TS&url=URL")`` by default; the
live server's choice between SHA-1 and SHA-256 is unconfirmed, so ``algorithm`` switches.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

from dingbridge.dingtalk.api.envelope import required_str
from dingbridge.dingtalk.caller import Caller
from dingbridge.dingtalk.token_cache import FetchedToken, TokenCache

__all__ = ["DdConfig", "Jsapi", "jsapi_signature", "jsapi_ticket_key"]

Algorithm = Literal["sha1", "sha256"]


def jsapi_ticket_key(app_key: str) -> str:
    return f"dingtalk:jsapi_ticket:{app_key}"


def jsapi_signature(
    ticket: str, nonce: str, timestamp: str, url: str, *, algorithm: Algorithm = "sha1"
) -> str:
    """Lowercase hex digest; ``url`` is the page URL without its #fragment."""
    plain = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url}"
    if algorithm == "sha256":
        return hashlib.sha256(plain.encode("utf-8")).hexdigest()
    if algorithm == "sha1":
        return hashlib.sha1(plain.encode("utf-8"), usedforsecurity=False).hexdigest()
    raise ValueError(f"algorithm must be 'sha1' or 'sha256', got {algorithm!r}")


@dataclass(frozen=True)
class DdConfig:
    """Everything ``dd.config`` needs; :meth:`as_js` gives the object to pass."""

    agent_id: int
    corp_id: str
    timestamp: str
    nonce: str
    signature: str
    js_api_list: tuple[str, ...]

    def as_js(self) -> dict[str, Any]:
        return {
            "agentId": self.agent_id,
            "corpId": self.corp_id,
            "timeStamp": self.timestamp,
            "nonceStr": self.nonce,
            "signature": self.signature,
            "type": 0,
            "jsApiList": list(self.js_api_list),
        }


class Jsapi:
    def __init__(
        self,
        caller: Caller,
        cache: TokenCache,
        *,
        app_key: str,
        corp_id: str | None,
        agent_id: int | None,
        api_version: Literal["v1", "v2"] = "v2",
        algorithm: Algorithm = "sha1",
    ) -> None:
        self._caller = caller
        self._cache = cache
        self._app_key = app_key
        self._corp_id = corp_id
        self._agent_id = agent_id
        self.api_version = api_version
        self.algorithm: Algorithm = algorithm

    async def get_jsapi_ticket(self) -> FetchedToken:
        """Uncached V1 ``GET oapi /get_jsapi_ticket``."""
        data = await self._caller.oapi("GET", "/get_jsapi_ticket")
        return FetchedToken(
            required_str(data, "ticket", "/get_jsapi_ticket"), float(data.get("expires_in", 7200))
        )

    async def jsapi_tickets(self) -> FetchedToken:
        """Uncached V2 ``POST api /v1.0/oauth2/jsapiTickets``."""
        path = "/v1.0/oauth2/jsapiTickets"
        data = await self._caller.api("POST", path)
        return FetchedToken(
            required_str(data, "jsapiTicket", path), float(data.get("expireIn", 7200))
        )

    async def ticket(self, *, force_refresh: bool = False) -> str:
        """Cached ticket of this app (one per AppKey), by the configured generation."""
        fetch = self.get_jsapi_ticket if self.api_version == "v1" else self.jsapi_tickets
        return await self._cache.get(
            jsapi_ticket_key(self._app_key), fetch, force_refresh=force_refresh
        )

    async def config(
        self,
        url: str,
        js_api_list: tuple[str, ...] | list[str] = (),
        *,
        nonce: str | None = None,
        timestamp: str | None = None,
        algorithm: Algorithm | None = None,
    ) -> DdConfig:
        """Signed ``dd.config`` values for the page at ``url`` (the #fragment is dropped)."""
        if self._agent_id is None or not self._corp_id:
            raise ValueError("dd.config needs the client's agent_id and corp_id")
        page_url = url.split("#", 1)[0]
        nonce = nonce or secrets.token_urlsafe(12)
        timestamp = timestamp or str(int(time.time()))
        ticket = await self.ticket()
        signature = jsapi_signature(
            ticket, nonce, timestamp, page_url, algorithm=algorithm or self.algorithm
        )
        return DdConfig(
            agent_id=self._agent_id,
            corp_id=self._corp_id,
            timestamp=timestamp,
            nonce=nonce,
            signature=signature,
            js_api_list=tuple(js_api_list),
        )
