"""The forwarder as an ASGI app, for ``dingbridge serve`` to mount: ``/api-dingtalk-com/`` and
``/oapi-dingtalk-com/`` (the vendor guide's "newer servers need no separate forwarder").

Correctness over speed: upstream calls go through one ``aiohttp.ClientSession`` (pooled
keep-alive, TLS verified, optional source address). Routing, the open-proxy guard, caller policy,
redacted access log and metrics are the same objects the standalone forwarder uses. The app
routes on the full request path (``raw_path``), so mount it at the root or route the two prefixes
to it; anything else gets a JSON 404.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from dingbridge.forwarder.access_log import AccessLog, format_access_line
from dingbridge.forwarder.http_framing import HOP_BY_HOP, REQUEST_DROP
from dingbridge.forwarder.local_responses import error_body
from dingbridge.forwarder.metrics import ForwarderMetrics
from dingbridge.forwarder.policy import TOKEN_HEADER_LOWER, CallerPolicy
from dingbridge.forwarder.routing import Refusal, Reserved, RouteTable
from dingbridge.forwarder.settings import ForwarderSettings, Upstream
from dingbridge.forwarder.upstream_pool import make_ssl_context

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _BodyTooLarge(Exception):
    pass


class ForwarderApp:
    """ASGI app forwarding the two DingTalk prefixes to their upstreams."""

    def __init__(self, settings: ForwarderSettings) -> None:
        self.settings = settings
        self.routes = RouteTable(settings)
        self.policy = CallerPolicy(settings)
        self.metrics = ForwarderMetrics()
        self.access_log = AccessLog(settings.access_log)
        self._session: Any = None
        self._ssl: ssl.SSLContext | None = None

    def _client_session(self) -> Any:
        import aiohttp

        if self._session is None or self._session.closed:
            if self._ssl is None:
                self._ssl = make_ssl_context(self.settings.ca_file)
            source = self.settings.source_address
            connector = aiohttp.TCPConnector(
                limit_per_host=self.settings.pool_size,
                ssl=self._ssl,
                local_addr=(source, 0) if source else None,
                keepalive_timeout=self.settings.idle_timeout,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=self.settings.pool_timeout + self.settings.connect_timeout,
                    sock_connect=self.settings.connect_timeout,
                    sock_read=self.settings.read_timeout,
                ),
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.access_log.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        method = scope["method"].encode("ascii")
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        query = scope.get("query_string", b"")
        target = raw_path + (b"?" + query if query else b"")
        state = {"status": 0, "bytes_in": 0, "bytes_out": 0, "error": None, "route": "-"}
        try:
            await self._handle(scope, receive, send, method, target, state)
        finally:
            self.metrics.count_request(str(state["route"]), int(state["status"] or 0))
            if self.access_log.enabled:
                client = scope.get("client")
                self.access_log.write(
                    format_access_line(
                        str(client[0]) if client else "-",
                        method,
                        target,
                        str(state["route"]),
                        int(state["status"] or 0),
                        time.perf_counter() - started,
                        int(state["bytes_in"] or 0),
                        int(state["bytes_out"] or 0),
                        state["error"],  # type: ignore[arg-type]
                    )
                )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _error(
        self, send: Send, state: dict[str, Any], status: int, error: str, detail: str
    ) -> None:
        body = error_body(error, detail)
        state.update(status=status, error=error, bytes_out=len(body))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        method: bytes,
        target: bytes,
        state: dict[str, Any],
    ) -> None:
        client = scope.get("client")
        if not self.policy.peer_allowed(str(client[0]) if client else None):
            peer = client[0] if client else "unknown"
            await self._error(send, state, 403, "forbidden", f"callers from {peer} are not allowed")
            return
        decision = self.routes.resolve(method, target)
        if isinstance(decision, Refusal):
            await self._error(send, state, decision.status, decision.error, decision.detail)
            return
        if isinstance(decision, Reserved) or decision.name == "default":
            await self._error(
                send, state, 404, "not_found", "only /oapi-dingtalk-com/ and /api-dingtalk-com/"
            )
            return
        state["route"] = decision.name
        headers: list[tuple[str, str]] = []
        token: bytes | None = None
        content_length: int | None = None
        connection_tokens: set[bytes] = set()
        for name, value in scope["headers"]:
            lname = name.lower()
            if lname == TOKEN_HEADER_LOWER:
                token = value
            elif lname == b"content-length":
                content_length = int(value)
            elif lname == b"connection":
                connection_tokens = {t.strip().lower() for t in value.split(b",")}
            if lname in REQUEST_DROP or lname.startswith(b"proxy-"):
                continue
            headers.append((name.decode("latin-1"), value.decode("latin-1")))
        if connection_tokens:  # headers the client's Connection header names are hop-by-hop
            headers = [(k, v) for k, v in headers if k.lower().encode() not in connection_tokens]
        if not self.policy.token_ok(token):
            await self._error(
                send, state, 401, "unauthorized", "missing or wrong X-Dingbridge-Token"
            )
            return
        limit = self.settings.max_body_bytes
        if content_length is not None and content_length > limit:
            await self._error(send, state, 413, "body_too_large", f"body is over {limit} bytes")
            return
        upstream = decision.upstream
        headers.append(("Host", upstream.host_header))
        if content_length is not None:
            headers.append(("Content-Length", str(content_length)))
        await self._forward(send, receive, state, method, upstream, decision.target, headers)

    async def _forward(
        self,
        send: Send,
        receive: Receive,
        state: dict[str, Any],
        method: bytes,
        upstream: Upstream,
        target: bytes,
        headers: list[tuple[str, str]],
    ) -> None:
        import aiohttp
        from yarl import URL

        limit = self.settings.max_body_bytes

        async def body() -> AsyncIterator[bytes]:
            while True:
                message = await receive()
                chunk = message.get("body", b"")
                state["bytes_in"] += len(chunk)
                if state["bytes_in"] > limit:
                    raise _BodyTooLarge
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return

        origin = f"{upstream.scheme}://{upstream.host_header}"
        url = URL(origin + target.decode("latin-1"), encoded=True)
        has_body = method in (b"POST", b"PUT", b"PATCH") or any(
            k.lower() in ("content-length", "transfer-encoding") for k, _ in headers
        )
        started = time.perf_counter()
        session = self._client_session()
        try:
            async with session.request(
                method.decode("ascii"),
                url,
                headers=headers,
                data=body() if has_body else None,
                allow_redirects=False,
                server_hostname=upstream.host if upstream.tls else None,
            ) as response:
                out_headers = [
                    (k, v)
                    for k, v in response.raw_headers
                    if k.lower() not in HOP_BY_HOP
                    and not (
                        k.lower() == b"content-length" and response.headers.get("Transfer-Encoding")
                    )
                ]
                state["status"] = response.status
                await send(
                    {
                        "type": "http.response.start",
                        "status": response.status,
                        "headers": out_headers,
                    }
                )
                async for chunk in response.content.iter_any():
                    state["bytes_out"] += len(chunk)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
        except _BodyTooLarge:
            await self._error(send, state, 413, "body_too_large", f"body is over {limit} bytes")
        except aiohttp.ClientConnectorCertificateError as exc:
            await self._fail(
                send, state, upstream, 502, "tls_error", f"TLS: {exc.certificate_error}"
            )
        except aiohttp.ClientSSLError as exc:
            await self._fail(send, state, upstream, 502, "tls_error", f"TLS: {exc}")
        except aiohttp.ClientConnectorError as exc:
            refused = isinstance(exc.os_error, ConnectionRefusedError)
            kind = "connection_refused" if refused else "connect_error"
            detail = f"{upstream.name} upstream {upstream.host}:{upstream.port}: {exc.strerror}"
            await self._fail(send, state, upstream, 502, kind, detail)
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            kind = "connect_timeout" if "connect" in str(exc).lower() else "read_timeout"
            await self._fail(send, state, upstream, 504, kind, f"{upstream.name} upstream: {kind}")
        except aiohttp.ClientError as exc:
            detail = (
                f"{upstream.name} upstream closed or reset the connection ({type(exc).__name__})"
            )
            await self._fail(send, state, upstream, 502, "upstream_reset", detail)
        finally:
            self.metrics.observe_upstream_latency(upstream.name, time.perf_counter() - started)

    async def _fail(
        self,
        send: Send,
        state: dict[str, Any],
        upstream: Upstream,
        status: int,
        kind: str,
        detail: str,
    ) -> None:
        self.metrics.count_upstream_error(upstream.name, kind)
        if state["status"]:  # the response already started: it can only be cut short
            state["error"] = kind
            raise ConnectionAbortedError(detail)
        await self._error(send, state, status, kind, detail)


def create_forwarder_app(settings: ForwarderSettings) -> ForwarderApp:
    """The ASGI forwarder for ``settings``; call ``await app.aclose()`` (or send lifespan
    shutdown) when done."""
    return ForwarderApp(settings)
