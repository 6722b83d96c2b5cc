"""A live server with an admin, space 10001 and a few members (one bound to DingTalk), for the
console's browser tests; a page signed in at a given screen width."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dingbridge.accounts.admins import create_admin
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
