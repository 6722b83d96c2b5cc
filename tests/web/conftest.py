"""A server with a signed-in admin, called through the shared in-process client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI

from dingbridge.accounts.admins import create_admin
from dingbridge.app import create_app
from dingbridge.settings import Settings
from tests.asgi_client import AsgiClient, Result

__all__ = ["AsgiClient", "Result"]  # the shared in-process client, under this folder's names

ADMIN_USER = "admin"
ADMIN_PASSWORD = "correct horse battery"


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
