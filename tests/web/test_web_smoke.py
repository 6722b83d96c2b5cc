from __future__ import annotations

from tests.web.conftest import AsgiClient, Server


async def test_health(server: Server) -> None:
    assert (await server.client.get("/healthz")).json() == {"status": "ok"}
    assert (await server.client.get("/readyz")).json()["database"] == "ok"


async def test_spaces_page(admin: AsgiClient) -> None:
    page = await admin.get("/admin/spaces")
    assert page.status == 200, page.text
