"""The transport seam: the ONE place that constructs an HTTP client.

The protocol code (``caller.py``, ``api/``) only sees :class:`Transport`::

    async def request(method, url, *, headers, body, timeout) -> Response
    async def aclose() -> None

Implementations:

- :class:`AiohttpTransport`: pooled keep-alive ``aiohttp.ClientSession`` (production).
  Chosen by measurement, see ``bench/client/``.
- :class:`ASGITransport`: calls an ASGI app in-process, playing a chosen client address
  (so tests can be the whitelisted or the non-whitelisted machine).
- :class:`HandlerTransport`: calls a plain function with a :class:`Request` (unit tests).

Each implements ``_send(request, seconds)`` under a shared base that holds the signature once.
Transports raise :class:`~dingbridge.dingtalk.errors.TransportError` when there is no answer;
every HTTP answer (any status) is returned as a :class:`Response`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from dingbridge.dingtalk.errors import TransportError

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "ASGITransport",
    "AiohttpTransport",
    "HandlerTransport",
    "Request",
    "Response",
    "Transport",
]


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Request:
    """What :class:`HandlerTransport` hands to its function."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class Transport(Protocol):
    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,  # noqa: ASYNC109 - the transport contract passes a per-call timeout
    ) -> Response: ...

    async def aclose(self) -> None: ...


class _TransportBase:
    """The :class:`Transport` contract written once: each transport implements ``_send``."""

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,  # noqa: ASYNC109 - the transport contract passes a per-call timeout
    ) -> Response:
        return await self._send(Request(method, url, headers, body), timeout)

    async def _send(self, request: Request, seconds: float) -> Response:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


def _timed_out(path: str, timeout: float) -> TransportError:
    return TransportError(f"{path}: timed out after {timeout:g}s", kind="timeout", path=path)


def _dropped(path: str, exc: BaseException) -> TransportError:
    return TransportError(
        f"{path}: connection dropped ({type(exc).__name__})", kind="dropped", path=path
    )


class AiohttpTransport(_TransportBase):
    """Pooled keep-alive aiohttp client. The session is created on first use (inside a loop).

    ``local_addr`` picks the source address (e.g. "127.0.0.2"); ``ca_file`` adds a CA bundle;
    ``connect_timeout`` bounds connection set-up inside the per-request ``timeout``.
    """

    def __init__(
        self,
        *,
        connect_timeout: float = 5.0,
        limit: int = 100,
        keepalive_timeout: float = 30.0,
        local_addr: str | None = None,
        ca_file: str | None = None,
    ) -> None:
        self._connect_timeout = connect_timeout
        self._limit = limit
        self._keepalive_timeout = keepalive_timeout
        self._local_addr = local_addr
        self._ca_file = ca_file
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._session is None or self._session.closed:
            ssl_ctx: ssl.SSLContext | bool = True
            if self._ca_file:
                ssl_ctx = ssl.create_default_context(cafile=self._ca_file)
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                keepalive_timeout=self._keepalive_timeout,
                local_addr=(self._local_addr, 0) if self._local_addr else None,
                ssl=ssl_ctx,
            )
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=True, trust_env=False
            )
        return self._session

    async def _send(self, request: Request, seconds: float) -> Response:
        import aiohttp
        from yarl import URL

        session = self._get_session()
        client_timeout = aiohttp.ClientTimeout(
            total=seconds, connect=min(self._connect_timeout, seconds)
        )
        path = request.path
        try:
            async with session.request(
                request.method,
                URL(request.url, encoded=True),  # keep our exact encoding (SNS signatures)
                headers=dict(request.headers),
                data=request.body,
                timeout=client_timeout,
                allow_redirects=False,
            ) as resp:
                payload = await resp.read()
                return Response(resp.status, dict(resp.headers), payload)
        except TimeoutError as exc:
            raise _timed_out(path, seconds) from exc
        except (aiohttp.ClientSSLError, ssl.SSLError) as exc:
            raise TransportError(
                f"{path}: TLS failed ({type(exc).__name__})", kind="tls", path=path
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            raise TransportError(
                f"{path}: cannot connect to {exc.host}:{exc.port} "
                f"({exc.os_error.strerror or type(exc.os_error).__name__})",
                kind="connect",
                path=path,
                reason=_connect_reason(exc),
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise _dropped(path, exc) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _connect_reason(exc: aiohttp.ClientConnectorError) -> str:
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dns"
    if isinstance(exc.os_error, ConnectionRefusedError):
        return "refused"
    return "unreachable"


ASGIApp = Callable[
    [
        dict[str, Any],
        Callable[[], Awaitable[dict[str, Any]]],
        Callable[[dict[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


class ASGITransport(_TransportBase):
    """Call an ASGI app in-process as if from ``client`` (host, port)."""

    def __init__(self, app: ASGIApp, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self.app = app
        self.client = client

    async def _send(self, request: Request, seconds: float) -> Response:
        method, headers, body = request.method, request.headers, request.body
        parts = urlsplit(request.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host_header = parts.netloc
        raw_headers = [(b"host", host_header.encode("latin-1"))]
        raw_headers += [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in headers.items()
            if k.lower() != "host"
        ]
        if body is not None:
            raw_headers.append((b"content-length", str(len(body)).encode()))
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method.upper(),
            "scheme": parts.scheme,
            "path": unquote(parts.path) or "/",
            "raw_path": (parts.path or "/").encode("latin-1"),
            "query_string": parts.query.encode("latin-1"),
            "root_path": "",
            "headers": raw_headers,
            "client": self.client,
            "server": (parts.hostname or "testserver", port),
            "extensions": {},
        }
        request_sent = False
        done = asyncio.Event()
        status: int | None = None
        resp_headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": body or b"", "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for k, v in message.get("headers", []):
                    resp_headers[k.decode("latin-1").lower()] = v.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        path = parts.path
        try:
            await asyncio.wait_for(self.app(scope, receive, send), seconds)
        except TimeoutError as exc:
            raise _timed_out(path, seconds) from exc
        except Exception as exc:
            logger.debug("in-process ASGI app raised on %s", path, exc_info=True)
            raise _dropped(path, exc) from exc
        finally:
            done.set()
        if status is None:
            raise TransportError(
                f"{path}: connection closed without an answer", kind="dropped", path=path
            )
        return Response(status, resp_headers, b"".join(chunks))


Handler = Callable[[Request], "Response | Awaitable[Response]"]


@dataclass
class HandlerTransport(_TransportBase):
    """Answer each request with ``fn(request)`` (sync or async). Keeps ``requests`` seen."""

    fn: Handler
    requests: list[Request] = field(default_factory=list)

    async def _send(self, request: Request, seconds: float) -> Response:
        req = Request(request.method.upper(), request.url, dict(request.headers), request.body)
        self.requests.append(req)
        result = self.fn(req)
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, Response)
        return result


def json_response(data: Any, status: int = 200) -> Response:
    """A JSON :class:`Response` (for handler functions in tests)."""
    return Response(
        status,
        {"content-type": "application/json"},
        json.dumps(data, ensure_ascii=False).encode("utf-8"),
    )
