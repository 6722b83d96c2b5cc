"""Send one DingTalk call: build the URL, pass the token, decode the envelope, retry, log.

Protocol rules live here (no HTTP library, no web framework):

- oapi: token in the ``access_token`` query parameter; HTTP 200 with ``errcode`` (0 = ok).
- api (v1.0): token in the ``x-acs-dingtalk-access-token`` header; 2xx = ok, else
  ``{code, message, requestid}``.
- An invalid app token → forget it, fetch a new one, retry once.
- ServerBusy (-1, 5xx) and TransportError → retried with backoff, only for idempotent calls
  (token fetches and reads); never for calls that consume an auth code.
- Before every attempt the :class:`~dingbridge.dingtalk.pacing.Pacer` gives the call its turn
  (a shared budget below DingTalk's limits). A 90018 that comes anyway is answered by waiting
  and sending again within :class:`~dingbridge.dingtalk.pacing.QpsRetry`'s patience (any call:
  DingTalk refuses it before looking at it, so even an auth code is not spent).
- One log line per HTTP attempt: endpoint path (never the query), outcome, duration.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlencode

from dingbridge.dingtalk.endpoints import Endpoints
from dingbridge.dingtalk.errors import (
    DingTalkError,
    RateLimited,
    ServerBusy,
    TokenInvalid,
    TransportError,
    UnexpectedResponse,
    error_from_api,
    error_from_oapi,
)
from dingbridge.dingtalk.pacing import NoPacing, Pacer, QpsRetry, is_qps_limit
from dingbridge.dingtalk.transport import Response, Transport

__all__ = ["CallObserver", "Caller", "RetryPolicy"]

logger = logging.getLogger(__name__)

Host = Literal["oapi", "api"]


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts for idempotent calls on -1 / 5xx / connection errors; backoff doubles."""

    max_attempts: int = 3
    backoff: float = 0.2
    max_backoff: float = 2.0

    def delay(self, attempt: int) -> float:
        return float(min(self.backoff * (2 ** (attempt - 1)), self.max_backoff))


@dataclass(frozen=True)
class _PreparedCall:
    """One DingTalk call before its token is added: the same for every attempt."""

    host: Host
    method: str
    path: str
    url: str  # without the query string
    query_parts: tuple[str, ...]  # already encoded, joined with "&" (the oapi token goes last)
    headers: Mapping[str, str]
    body: bytes | None


class AppTokenSource(Protocol):
    """What the caller needs from the token cache (see ``api/tokens.py``)."""

    async def app_token(self, *, force_refresh: bool = False) -> str: ...

    async def forget_app_token(self, token: str) -> None: ...


CallObserver = Callable[[str, str, float], None]
"""``observer(path, outcome, seconds)`` after every HTTP attempt (e.g. Prometheus counters).
``outcome`` is "ok", "transport:<kind>" or "<ErrorClass>:<effective code>"."""


class Caller:
    def __init__(
        self,
        *,
        endpoints: Endpoints,
        transport: Transport,
        app_key: str,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        observer: CallObserver | None = None,
        pacer: Pacer | None = None,
        qps_retry: QpsRetry | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.pacer: Pacer = pacer or NoPacing()
        self.qps_retry = qps_retry or QpsRetry()
        self.transport = transport
        self.app_key = app_key
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.observer = observer
        self.tokens: AppTokenSource | None = None

    async def oapi(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        raw_query: str | None = None,
        json_body: Any = None,
        app_token: bool = True,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """``raw_query``: an already-encoded query string (kept byte for byte)."""
        call = self._prepare("oapi", method, path, query, raw_query, json_body)
        return await self._call(call, "app" if app_token else None, idempotent=idempotent)

    async def api(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        token: Literal["app"] | str | None = "app",  # noqa: S107 - a mode, not a secret
        idempotent: bool = True,
        query: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """``token``: "app" for the cached app token, a user token string, or None."""
        call = self._prepare("api", method, path, query, None, json_body)
        return await self._call(call, token, idempotent=idempotent)

    async def _call(
        self, call: _PreparedCall, token: str | None, *, idempotent: bool
    ) -> dict[str, Any]:
        """Send ``call`` with ``token`` ("app": the cached app token), retrying as the rules say."""
        uses_app_token = token == "app"
        refreshed = False
        attempt = 0
        qps_retries = 0
        qps_waited = 0.0
        while True:
            attempt += 1
            value: str | None = token
            if uses_app_token:
                assert self.tokens is not None, "Caller.tokens is not set"
                value = await self.tokens.app_token()
            try:
                await self.pacer.before_call(self.app_key, call.path)
                return await self._once(call, value)
            except RateLimited as exc:
                if not is_qps_limit(exc):
                    raise
                qps_retries += 1
                delay = self.qps_retry.delay(qps_retries, qps_waited)
                if delay is None:
                    raise
                qps_waited += delay
                attempt -= 1  # a refused call is not an attempt of the ServerBusy budget
                await self._sleep(delay)
                continue
            except TokenInvalid:
                if uses_app_token and not refreshed and value is not None:
                    assert self.tokens is not None
                    await self.tokens.forget_app_token(value)
                    refreshed = True
                    continue
                raise
            except (ServerBusy, TransportError):
                if idempotent and attempt < self.retry.max_attempts:
                    await self._sleep(self.retry.delay(attempt))
                    continue
                raise

    def _prepare(
        self,
        host: Host,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        raw_query: str | None,
        json_body: Any,
    ) -> _PreparedCall:
        """Everything but the token, built once per call (not once per attempt)."""
        headers = {"Accept": "application/json", **dict(self.endpoints.forward_headers)}
        url = self.endpoints.oapi_url(path) if host == "oapi" else self.endpoints.api_url(path)
        body: bytes | None = None
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif method.upper() == "POST" and host == "api":
            body = b"{}"
            headers["Content-Type"] = "application/json"
        query_parts = tuple(q for q in (raw_query, urlencode(dict(query or {}))) if q)
        return _PreparedCall(host, method, path, url, query_parts, headers, body)

    async def _once(self, call: _PreparedCall, token: str | None) -> dict[str, Any]:
        headers = dict(call.headers)
        query_parts = call.query_parts
        if token is not None:
            if call.host == "oapi":
                query_parts += (urlencode({"access_token": token}),)
            else:
                headers["x-acs-dingtalk-access-token"] = token
        url = call.url + ("?" + "&".join(query_parts) if query_parts else "")
        method, path, host, body = call.method, call.path, call.host, call.body
        started = time.perf_counter()
        outcome = "error"  # replaced below; stays for cancellation or a bug
        try:
            response = await self.transport.request(
                method, url, headers=headers, body=body, timeout=self.timeout
            )
            data = self._decode(host, path, response)
            outcome = "ok"
            return data
        except TransportError as exc:
            outcome = f"transport:{exc.kind}"
            raise
        except DingTalkError as exc:
            outcome = f"{type(exc).__name__}:{exc.effective_code}"
            raise
        finally:
            seconds = time.perf_counter() - started
            logger.info(
                "dingtalk %s %s app=%s outcome=%s duration_ms=%.1f",
                method.upper(),
                path,
                self.app_key,
                outcome,
                seconds * 1000,
            )
            if self.observer is not None:
                self.observer(path, outcome, seconds)

    @staticmethod
    def _decode(host: Host, path: str, response: Response) -> dict[str, Any]:
        try:
            data = json.loads(response.body) if response.body else {}
        except ValueError:
            data = None
        if not isinstance(data, dict):
            if response.status >= 500:
                raise ServerBusy(path=path, status=response.status)
            raise UnexpectedResponse(
                f"DingTalk {path}: answer is not a JSON object (HTTP {response.status})",
                path=path,
                status=response.status,
            )
        if host == "oapi":
            if response.status >= 500:
                raise error_from_api(data, path=path, status=response.status)
            ok_status = 200 <= response.status < 300
            errcode = data.get("errcode", 0 if ok_status else None)
            if errcode in (0, "0") and ok_status:
                return data
            if errcode is None and response.status >= 400:
                raise error_from_api(data, path=path, status=response.status)
            raise error_from_oapi(data, path=path, status=response.status)
        if 200 <= response.status < 300:
            if data.get("errcode") not in (None, 0, "0"):
                raise error_from_oapi(data, path=path, status=response.status)
            return data
        raise error_from_api(data, path=path, status=response.status)
