"""Browsers ask every page for /favicon.ico: it is ours, not a 404."""

from __future__ import annotations

from tests.web.conftest import Server


async def test_favicon_is_served(server: Server) -> None:
    icon = await server.client.get("/favicon.ico")
    assert icon.status == 200
    assert icon.header("content-type") == "image/vnd.microsoft.icon"
    assert icon.body[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = await server.client.get("/admin/login")
    assert '<link rel="icon" href="/favicon.ico">' in page.text
