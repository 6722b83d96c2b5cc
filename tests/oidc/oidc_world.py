"""A world for the OpenID provider over real sockets: the server (uvicorn on a free loopback
port, in the test's event loop), the simulator behind it (its own thread), spaces 10001 (V2)
and 10002 (V1) with their members, OIDC apps registered directly in the database, and the
sample relying party (authlib's Starlette client) on its own port.

A "browser" is an httpx client with cookies that follows redirects; :meth:`OidcWorld.sign_in`
plays what the entry page's script does inside DingTalk.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from dingbridge.app import create_app
from dingbridge.sample_app import SampleAppConfig, create_sample_app
from dingbridge.settings import Settings
from dingbridge.signin.binding_flow import set_policy
from dingbridge.sim import SimState
from dingbridge.sim import create_app as create_sim
from dingbridge.sim.background import BackgroundServer
from dingbridge.sim.defaults import DEMO_CORP_ID
from dingbridge.spaces.app_access import (
    hash_client_secret,
    new_client_id,
    new_client_secret,
)
from dingbridge.storage.models import SpaceApp
from tests.signin.signin_world import setup_spaces


@dataclass
class Client:
    """An OIDC app registered in a space."""

    id: int
    space_id: int
    client_id: str
    client_secret: str | None
    redirect_uri: str


def _socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@dataclass
class OidcWorld:
    app: FastAPI
    sim: SimState
    server: str
    sample: str
    sample_app: Any
    clients: dict[str, Client] = field(default_factory=dict)
    _servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = field(default_factory=list)

    @property
    def context(self) -> Any:
        return self.app.state.context

    def issuer(self, space_id: int = 10001) -> str:
        return f"{self.server}/{space_id}"

    def browser(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(follow_redirects=True, timeout=20)

    async def add_app(
        self,
        name: str,
        *,
        space_id: int = 10001,
        redirect_uri: str,
        public: bool = False,
        post_logout: str | None = None,
        backchannel: str | None = None,
        access: str = "all",
    ) -> Client:
        client_id = new_client_id()
        secret = None if public else new_client_secret()
        async with self.context.db.transaction() as session:
            row = SpaceApp(
                space_id=space_id,
                title=name,
                url=redirect_uri.rsplit("/", 1)[0] + "/",
                kind="oidc",
                access=access,
                client_id=client_id,
                client_secret_hash=hash_client_secret(secret) if secret else None,
                public_client=public,
                redirect_uris=[redirect_uri],
                post_logout_redirect_uris=[post_logout] if post_logout else [],
                backchannel_logout_uri=backchannel,
            )
            session.add(row)
            await session.flush()
            app_id = row.id
        client = Client(app_id, space_id, client_id, secret, redirect_uri)
        self.clients[name] = client
        return client

    async def sign_in(
        self, browser: httpx.AsyncClient, entry: httpx.Response, userid: str = "user001"
    ) -> httpx.Response:
        """On the space's entry page inside DingTalk: the JSAPI code, posted; then the
        navigation the page makes (and the redirects after it)."""
        path = urlsplit(str(entry.url)).path
        space_id = int(path.strip("/").split("/")[0])
        next_value = entry_next(entry.text)
        code = self.sim.issue_authcode(DEMO_CORP_ID, userid)
        answer = await browser.post(
            f"{self.server}/{space_id}/signin/code", json={"code": code, "next": next_value}
        )
        assert answer.status_code == 200, answer.text
        return await browser.get(self.server + answer.json()["next"])


def entry_next(html: str) -> str:
    marker = 'data-next="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)].replace("&amp;", "&")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def _serve(
    app: Any, sock: socket.socket, lifespan: Literal["on", "off"]
) -> tuple[uvicorn.Server, Any]:
    config = uvicorn.Config(
        app, log_level="warning", lifespan=lifespan, access_log=False, server_header=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return server, task


@contextlib.asynccontextmanager
async def open_oidc_world(data_dir: Path, **overrides: Any) -> AsyncIterator[OidcWorld]:
    sim = SimState.default()
    server_sock, sample_sock = _socket(), _socket()
    server_url, sample_url = url_of(server_sock), url_of(sample_sock)
    with BackgroundServer(create_sim(sim)) as sim_server:
        settings = Settings(
            data_dir=data_dir,
            development=True,
            external_url=server_url,
            dingtalk_api=sim_server.url,
            dingtalk_oapi=sim_server.url,
            dingtalk_login=sim_server.url,
            jsapi_url=f"{sim_server.url}/_sim/jsapi/dingtalk.open.js",
            **overrides,
        )
        app = create_app(settings, announce=lambda _m: None)
        servers = [await _serve(app, server_sock, "on")]
        try:
            await setup_spaces(app)
            async with app.state.context.db.transaction() as session:
                for space_id in (10001, 10002):
                    await set_policy(session, space_id, "dingtalk_mobile", actor="test")
            world = OidcWorld(app, sim, server_url, sample_url, None)
            sample = await world.add_app(
                "示例应用",
                redirect_uri=f"{sample_url}/callback",
                post_logout=f"{sample_url}/signed-out",
                backchannel=f"{sample_url}/backchannel-logout",
            )
            assert sample.client_secret is not None
            world.sample_app = create_sample_app(
                SampleAppConfig(
                    issuer=world.issuer(),
                    client_id=sample.client_id,
                    client_secret=sample.client_secret,
                    base_url=sample_url,
                )
            )
            servers.append(await _serve(world.sample_app, sample_sock, "off"))
            yield world
        finally:
            for server, _task in servers:
                server.should_exit = True
            await asyncio.gather(*(task for _s, task in servers), return_exceptions=True)


@pytest.fixture
async def oidc_world(tmp_path: Path) -> AsyncIterator[OidcWorld]:
    async with open_oidc_world(tmp_path / "data") as world:
        yield world


def oauth_client(world: OidcWorld, client: Client, **kwargs: Any) -> Any:
    """authlib's own async OAuth 2.0 client (httpx) for ``client``."""
    from authlib.integrations.httpx_client import AsyncOAuth2Client

    method = "none" if client.client_secret is None else "client_secret_basic"
    return AsyncOAuth2Client(
        client_id=client.client_id,
        client_secret=client.client_secret,
        scope="openid profile email phone groups",
        redirect_uri=client.redirect_uri,
        token_endpoint_auth_method=method,
        code_challenge_method="S256",
        **kwargs,
    )


async def authorize_url_result(
    world: OidcWorld, browser: httpx.AsyncClient, url: str, userid: str = "user001"
) -> str:
    """Open an authorization URL in ``browser``; sign in on the entry page when sent there;
    the URL the browser is finally sent to (the app's redirect URI with the code or error)."""
    found: list[str] = []

    async def stop(request: httpx.Request) -> None:
        if not str(request.url).startswith(world.server):
            found.append(str(request.url))
            raise _Arrived

    browser.event_hooks["request"] = [stop]
    try:
        page = await browser.get(url)
        if page.url.path.endswith("/") and "data-next" in page.text:
            await world.sign_in(browser, page, userid)
    except _Arrived:
        pass
    finally:
        browser.event_hooks["request"] = []
    assert found, "the browser was not sent back to the app"
    return found[0]


class _Arrived(Exception):
    """The browser left the server for the app: stop following."""
