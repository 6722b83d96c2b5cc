"""The in-process world of the sign-in tests (tests/signin/signin_world.py) plus forward-auth
apps, a browser on the app's host that plays the proxy's part, and a KV that counts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select

from dingbridge.app import create_app
from dingbridge.dingtalk import ASGITransport
from dingbridge.gate.identity_headers import SIGN_IN_HEADER
from dingbridge.kv.memory import MemoryKV
from dingbridge.settings import Settings
from dingbridge.sim import SimState
from dingbridge.sim import create_app as create_sim
from dingbridge.sim.defaults import DEMO_CORP_ID
from dingbridge.storage.models import (
    AppAccess,
    Binding,
    Department,
    Member,
    MemberDepartment,
    SpaceApp,
)
from tests.asgi_client import Result
from tests.signin.signin_world import Browser, World, setup_spaces

APP_URL = "http://apps.test:8080/wiki/"


@dataclass
class CountingKV:
    """A :class:`MemoryKV` that records the name of every call (one call, one round trip)."""

    inner: MemoryKV = field(default_factory=MemoryKV)
    calls: list[str] = field(default_factory=list)

    async def get(self, key: str) -> bytes | None:
        self.calls.append("get")
        return await self.inner.get(key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self.calls.append("set")
        await self.inner.set(key, value, ttl)

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        self.calls.append("set_if_absent")
        return await self.inner.set_if_absent(key, value, ttl)

    async def delete(self, key: str) -> None:
        self.calls.append("delete")
        await self.inner.delete(key)

    async def incr(self, key: str, ttl: float | None = None) -> int:
        self.calls.append("incr")
        return await self.inner.incr(key, ttl)

    async def ttl(self, key: str) -> float | None:
        self.calls.append("ttl")
        return await self.inner.ttl(key)

    async def close(self) -> None:
        await self.inner.close()


@asynccontextmanager
async def open_gate_world(settings: Settings, kv: CountingKV) -> AsyncIterator[World]:
    sim = SimState.default()
    sim_app = create_sim(sim)
    app = create_app(settings, kv=kv, announce=lambda _message: None)
    async with app.router.lifespan_context(app):
        app.state.context.signin.clients.use_transport(ASGITransport(sim_app))  # type: ignore[arg-type]
        await setup_spaces(app)
        world = World(app, sim, settings, Browser(app))
        world.sim_app = sim_app
        yield world


async def add_app(
    world: World,
    *,
    url: str = APP_URL,
    title: str = "内部维基",
    space_id: int = 10001,
    kind: str = "forward_auth",
    access: str = "all",
    departments: Sequence[int] = (),
    members: Sequence[int] = (),
) -> int:
    async with world.context.db.transaction() as session:
        app = SpaceApp(space_id=space_id, title=title, url=url, kind=kind, access=access)
        session.add(app)
        await session.flush()
        for department in departments:
            session.add(AppAccess(app_id=app.id, department_id=department))
        for member in members:
            session.add(AppAccess(app_id=app.id, member_id=member))
        return app.id


async def add_department(world: World, name: str, dept_id: int, space_id: int = 10001) -> int:
    async with world.context.db.transaction() as session:
        department = Department(space_id=space_id, dept_id=dept_id, name=name)
        session.add(department)
        await session.flush()
        return department.id


async def member_id(world: World, mobile: str, space_id: int = 10001) -> int:
    async with world.context.db.session() as session:
        found = await session.scalar(
            select(Member.id).where(Member.space_id == space_id, Member.mobile == mobile)
        )
    assert found is not None
    return int(found)


async def join(world: World, member: int, department: int) -> None:
    async with world.context.db.transaction() as session:
        session.add(MemberDepartment(member_id=member, department_id=department))


async def leave(world: World, member: int, department: int) -> None:
    async with world.context.db.transaction() as session:
        row = await session.get(MemberDepartment, (member, department))
        assert row is not None
        await session.delete(row)


async def binding_id(world: World, member: int) -> int:
    async with world.context.db.session() as session:
        found = await session.scalar(select(Binding.id).where(Binding.member_id == member))
    assert found is not None
    return int(found)


async def set_email(world: World, member: int, email: str) -> None:
    async with world.context.db.transaction() as session:
        row = await session.get(Member, member)
        assert row is not None
        row.email = email


async def signed_in_browser(
    world: World, userid: str = "user001", mobile: str = "13800000001"
) -> Browser:
    """A browser signed in to space 10001 as ``userid`` (bound on the way)."""
    browser = world.new_browser()
    page = await world.in_client(browser, userid)
    if page.url.endswith("/bind"):
        page = await world.bind(browser, mobile)
    assert 'id="space-home"' in page.text, page.text[:300]
    return browser


async def sign_in_with_next(world: World, browser: Browser, userid: str, next_path: str) -> Result:
    """In-client sign-in from the entry page that ``next_path`` leads to (a bound user)."""
    code = world.sim.issue_authcode(DEMO_CORP_ID, userid)
    answer = await browser.post("/10001/signin/code", json_body={"code": code, "next": next_path})
    assert answer.status == 200, answer.text
    return await browser.get(answer.json()["next"], follow=False)


@dataclass
class AppHost:
    """The browser on the app's host, and the proxy in front of the app (the check is what
    nginx's ``auth_request`` asks; its state cookie is what nginx hands on)."""

    world: World
    app_id: int
    app_url: str = APP_URL
    browser: Browser | None = None

    def __post_init__(self) -> None:
        self.browser = self.world.new_browser()

    @property
    def jar(self) -> Browser:
        assert self.browser is not None
        return self.browser

    async def check(self, path: str = "/wiki/page?x=1", **headers: str) -> Result:
        origin = self.app_url.split("/wiki/")[0] if "/wiki/" in self.app_url else self.app_url
        sent = {"x-original-url": origin.rstrip("/") + path, **headers}
        return await self.jar.get(f"/_dingbridge/auth/10001/{self.app_id}", headers=sent)

    async def callback(self, location: str) -> Result:
        parts = urlsplit(location)
        assert parts.path == "/_dingbridge/callback", location
        return await self.jar.get(f"{parts.path}?{parts.query}")


def sign_in_path(result: Result) -> str:
    """The sign-in URL a 401/403 check names, as a path on the server."""
    url = result.header(SIGN_IN_HEADER.lower()) or ""
    assert url.startswith("http://127.0.0.1:8000/10001/gate/"), url
    return url.removeprefix("http://127.0.0.1:8000")
