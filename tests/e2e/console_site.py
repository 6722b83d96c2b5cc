"""A live server with an admin, space 10001 and a few members (one bound to DingTalk), for the
console's browser tests; a page signed in at a given screen width."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from dingbridge.accounts.admins import create_admin
from dingbridge.app import create_app
from dingbridge.settings import Settings
from dingbridge.spaces.members import MemberInput, add_member
from dingbridge.spaces.store import create_space
from dingbridge.storage.db import Database
from dingbridge.storage.models import Binding
from tests.e2e.conftest import LiveServer

PASSWORD = "e2e-admin-password"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
MEMBERS = [
    ("张伟", "13800000001"),
    ("李娜", "13800000002"),
    ("欧阳明月", "13800000003"),
]


@dataclass
class ConsoleSite:
    base_url: str
    bound_member_id: int
    binding_id: int


async def prepare_site(live_server: LiveServer) -> ConsoleSite:
    db = Database(live_server.settings.effective_database_url)
    try:
        async with db.transaction() as session:
            await create_admin(session, "admin", PASSWORD, actor="test")
            space = await create_space(session, "销售部", actor="test")
            ids = []
            for name, mobile in MEMBERS:
                member = await add_member(
                    session,
                    space.id,
                    MemberInput(name=name, mobile=mobile, email=f"{mobile}@example.com"),
                    actor="test",
                )
                ids.append(member.id)
            binding = Binding(
                space_id=space.id, corp_id="dingdemo", userid="user001", member_id=ids[0]
            )
            session.add(binding)
            await session.flush()
            return ConsoleSite(live_server.base_url, ids[0], binding.id)
    finally:
        await db.dispose()


async def signed_in_page(browser: Any, site: ConsoleSite, viewport: dict[str, int]) -> Any:
    context = await browser.new_context(viewport=viewport, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{site.base_url}/admin/login")
    await page.fill("#f-username", "admin")
    await page.fill("#f-password", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url("**/admin/spaces")
    return page


@contextlib.contextmanager
def dev_server(tmp_path: Path) -> Iterator[tuple[str, FastAPI]]:
    """A development-mode server (console SMS sender, /_dev/outbox) on a free port."""
    settings = Settings(data_dir=tmp_path / "dev-data", host="127.0.0.1", port=0, development=True)
    app = create_app(settings, announce=lambda _line: None)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
