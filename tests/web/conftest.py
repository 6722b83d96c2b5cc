"""An in-process ASGI client (no network, no httpx) and a server with a signed-in admin."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from fastapi import FastAPI

from dingbridge.app import create_app
from dingbridge.settings import Settings
from dingbridge.web.admin_accounts import create_admin

ADMIN_USER = "admin"
ADMIN_PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Result:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name.lower():
                return value
        return None

    def json(self) -> Any:
        import json

        return json.loads(self.body)

    def csrf(self) -> str:
        match = CSRF_RE.search(self.text)
        assert match, "no CSRF field on the page"
        return match.group(1)


@dataclass
class AsgiClient:
    """Calls the app like a browser would: keeps cookies, posts forms, can follow redirects."""

    app: FastAPI
    cookies: dict[str, str] = field(default_factory=dict)
    client_ip: str = "127.0.0.1"
    raise_app_exceptions: bool = True

    async def request(
        self,
        method: str,
        url: str,
        *,
        form: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        follow: bool = False,
        body: bytes | None = None,
    ) -> Result:
        for _ in range(10):
            result = await self._once(
                method, url, form=form, files=files, headers=headers, body=body
            )
            location = result.header("location")
            if not follow or result.status not in (301, 302, 303, 307, 308) or not location:
                return result
            method, url, form, files, body = "GET", location, None, None, None
        raise AssertionError("too many redirects")

    async def get(self, url: str, **kwargs: Any) -> Result:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Result:
        return await self.request("POST", url, **kwargs)

    async def _once(
        self,
        method: str,
        url: str,
        *,
        form: Mapping[str, str] | None,
        files: Mapping[str, tuple[str, bytes, str]] | None,
        headers: Mapping[str, str] | None,
        body: bytes | None = None,
    ) -> Result:
        parts = urlsplit(url)
        raw_headers: list[tuple[bytes, bytes]] = [(b"host", b"testserver")]
        if body is not None:
            pass  # sent as is; the caller sets its content-type
        elif files is not None:
            boundary = uuid.uuid4().hex
            body = _multipart(boundary, form or {}, files)
            raw_headers.append(
                (b"content-type", f"multipart/form-data; boundary={boundary}".encode())
            )
        elif form is not None:
            body = urlencode(form).encode()
            raw_headers.append((b"content-type", b"application/x-www-form-urlencoded"))
        body = body or b""
        if body:
            raw_headers.append((b"content-length", str(len(body)).encode()))
        if self.cookies:
            cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            raw_headers.append((b"cookie", cookie.encode()))
        for key, value in (headers or {}).items():
            raw_headers.append((key.lower().encode(), value.encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": parts.path,
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "headers": raw_headers,
            "client": (self.client_ip, 50000),
            "server": ("testserver", 80),
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

        try:
            await self.app(scope, receive, send)
        except Exception:
            # Starlette re-raises after its 500 handler answered (for the server's log).
            if self.raise_app_exceptions or not messages:
                raise
        start = next(m for m in messages if m["type"] == "http.response.start")
        headers_out = [(k.decode().lower(), v.decode()) for k, v in start["headers"]]
        payload = b"".join(
            m.get("body", b"") for m in messages if m["type"] == "http.response.body"
        )
        for key, value in headers_out:
            if key == "set-cookie":
                self._store_cookie(value)
        return Result(start["status"], headers_out, payload)

    def _store_cookie(self, header: str) -> None:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            if morsel["max-age"] == "0" or not morsel.value or morsel.value == '""':
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value


def _multipart(
    boundary: str, form: Mapping[str, str], files: Mapping[str, tuple[str, bytes, str]]
) -> bytes:
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


@dataclass
class Server:
    app: FastAPI
    client: AsgiClient
    announced: list[str]
    settings: Settings

    def new_client(self, client_ip: str = "127.0.0.1") -> AsgiClient:
        return AsgiClient(self.app, client_ip=client_ip)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", port=8000)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    announced: list[str] = []
    app = create_app(settings, announce=announced.append)
    async with app.router.lifespan_context(app):
        yield Server(app, AsgiClient(app), announced, settings)


async def login(
    client: AsgiClient, username: str = ADMIN_USER, password: str = ADMIN_PASSWORD
) -> Result:
    page = await client.get("/admin/login")
    return await client.post(
        "/admin/login",
        form={"csrf_token": page.csrf(), "username": username, "password": password, "next": ""},
    )


@pytest.fixture
async def admin(server: Server) -> AsgiClient:
    """``server.client`` signed in as an admin."""
    context = server.app.state.context
    async with context.db.transaction() as session:
        await create_admin(session, ADMIN_USER, ADMIN_PASSWORD, actor="test")
    result = await login(server.client)
    assert result.status == 303, result.text
    return server.client


async def csrf_of(client: AsgiClient, url: str = "/admin/spaces") -> str:
    return (await client.get(url)).csrf()
