"""The tests' one in-process HTTP caller for ASGI apps (no network, no httpx).

- :func:`exchange`: one request, the whole answer collected (headers kept in order, repeats
  such as ``set-cookie`` included, and what the app callable returned).
- :class:`AsgiClient`: calls an app like a browser would: keeps cookies, posts forms, multipart
  files or JSON, sends extra headers from a chosen client IP, and follows redirects only when
  asked.

Not built on :class:`dingbridge.dingtalk.ASGITransport`: that transport folds the answer's
headers into a dict (losing repeated ``set-cookie``) and turns an app's exception into a
``TransportError``, while these tests need every header and, for the server's own 500 page, the
answer sent before the exception.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

REDIRECTS = (301, 302, 303, 307, 308)
Files = Mapping[str, tuple[str, bytes, str]]


@dataclass
class Result:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    url: str = ""
    returned: Any = None  # what the app callable returned (the simulator's gate: DROPPED)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)

    def all_headers(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)

    def hidden_field(self, name: str) -> str:
        match = re.search(f'name="{re.escape(name)}" value="([^"]+)"', self.text)
        assert match, f"no {name} field on the page"
        return match.group(1)

    def csrf(self) -> str:
        return self.hidden_field("csrf_token")

    def token(self) -> str:
        return self.hidden_field("token")


def encode_body(
    *,
    form: Mapping[str, Any] | None = None,
    files: Files | None = None,
    json_body: Any = None,
    body: bytes | None = None,
) -> tuple[bytes, str | None]:
    """The request body and its content-type (None: the caller sets it, or there is none)."""
    if body is not None:
        return body, None
    if json_body is not None:
        return json.dumps(json_body).encode(), "application/json"
    if files is not None:
        boundary = uuid.uuid4().hex
        return _multipart(boundary, form or {}, files), f"multipart/form-data; boundary={boundary}"
    if form is not None:
        return urlencode(form).encode(), "application/x-www-form-urlencoded"
    return b"", None


async def exchange(
    app: Any,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    client_ip: str = "127.0.0.1",
    client_port: int = 50000,
    host: str = "testserver",
    raise_app_exceptions: bool = True,
) -> Result:
    """Send one request to ``app`` and collect its answer. ``url`` may carry a query string;
    ``headers`` (any case) replace the default ``host``; a body gets its ``content-length``."""
    parts = urlsplit(url)
    all_headers = {"host": host}
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    if body or method not in ("GET", "HEAD"):
        all_headers["content-length"] = str(len(body))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "headers": [(k.encode(), v.encode()) for k, v in all_headers.items()],
        "client": (client_ip, client_port),
        "server": (host, 80),
        "root_path": "",
    }
    sent = False
    messages: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        messages.append(message)

    returned = None
    try:
        returned = await app(scope, receive, send)
    except Exception:
        # Starlette re-raises after its 500 handler answered (for the server's log).
        if raise_app_exceptions or not messages:
            raise
    start = next((m for m in messages if m["type"] == "http.response.start"), None)
    payload = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    if start is None:  # the app answered nothing (the simulator dropping the connection)
        return Result(0, [], payload, url, returned)
    out = [(k.decode().lower(), v.decode()) for k, v in start["headers"]]
    return Result(start["status"], out, payload, url, returned)


@dataclass
class AsgiClient:
    """Calls the app like a browser would: keeps cookies, posts forms, can follow redirects.

    Redirects to a URL starting with one of ``stop_at`` are not followed (another site's page,
    which the test plays itself).
    """

    app: Any
    client_ip: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)
    set_cookies: list[str] = field(default_factory=list)
    raise_app_exceptions: bool = True
    stop_at: tuple[str, ...] = ()

    async def get(self, url: str, **kwargs: Any) -> Result:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, form: Mapping[str, str] | None = None, **kwargs: Any) -> Result:
        return await self.request("POST", url, form=form, **kwargs)

    async def request(
        self,
        method: str,
        url: str,
        *,
        form: Mapping[str, str] | None = None,
        files: Files | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        follow: bool = False,
    ) -> Result:
        for _ in range(10):
            result = await self._once(method, url, form, files, json_body, body, headers)
            location = result.header("location")
            if not follow or result.status not in REDIRECTS or not location:
                return result
            if location.startswith(self.stop_at):
                return result
            method, url, form, files, json_body, body = "GET", location, None, None, None, None
        raise AssertionError("too many redirects")

    async def _once(
        self,
        method: str,
        url: str,
        form: Mapping[str, str] | None,
        files: Files | None,
        json_body: Any,
        body: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> Result:
        payload, content_type = encode_body(form=form, files=files, json_body=json_body, body=body)
        sent_headers: dict[str, str] = {}
        if content_type:
            sent_headers["content-type"] = content_type
        if self.cookies:
            sent_headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent_headers.update({k.lower(): v for k, v in (headers or {}).items()})
        result = await exchange(
            self.app,
            method,
            url,
            headers=sent_headers,
            body=payload,
            client_ip=self.client_ip,
            raise_app_exceptions=self.raise_app_exceptions,
        )
        for value in result.all_headers("set-cookie"):
            self.set_cookies.append(value)
            self._store_cookie(value)
        return result

    def _store_cookie(self, header: str) -> None:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            if morsel["max-age"] == "0" or morsel.value in ("", '""'):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value


def _multipart(boundary: str, form: Mapping[str, str], files: Files) -> bytes:
    chunks: list[bytes] = []
    for name, value in form.items():
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, (filename, content, content_type) in files.items():
        chunks.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks)
