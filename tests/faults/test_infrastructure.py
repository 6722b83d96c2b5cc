"""The server's own infrastructure failing while it serves: Redis killed and back, PostgreSQL
crashed and restarted, the SQLite database full or read-only. Each time: every answer is a
clear page or JSON error (503, never a 500 or a traceback), ``/readyz`` names the part that
is down, nothing half-written is left, and the server recovers by itself (no restart).

Redis and PostgreSQL are private instances (``tests/faults/private_services.py``): the
machine's shared ones are never stopped. SQLite "disk full" is SQLite's own limit
``PRAGMA max_page_count`` (the database may not grow: the same SQLITE_FULL error a full disk
gives) and "read-only" is ``PRAGMA query_only`` (SQLITE_READONLY, as for a read-only file or
mount): tests run as root here, for whom file permissions do not stop a write, and a
loop-mounted tiny file system would need root and a mount.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import event

from dingbridge.accounts.api_tokens import create_token
from dingbridge.kv.redis import RedisKV
from dingbridge.storage import db as db_module
from tests.faults.matrix import counts, matrix_world, new_browser
from tests.faults.private_services import private_postgres, private_redis
from tests.signin.signin_world import (
    Browser,
    Page,
    World,
    admin_browser,
    open_world,
    query_of,
    world_settings,
)

pytestmark = pytest.mark.slow


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll for up to 30 s (the outcome is asserted, not the time it took)."""
    for _ in range(600):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def clean_failure(page: Page, *, json_expected: bool = False) -> None:
    assert page.status == 503, (page.status, page.text[:300])
    assert "Traceback" not in page.text and "Internal Server Error" not in page.text
    if json_expected:
        body = page.json()
        assert body["error"] and body["message"]


async def start_binding(world: World, userid: str) -> Browser:
    """In DingTalk, a user not bound yet: the bind page, a code sent by SMS."""
    browser = world.new_browser()
    browser.raise_app_exceptions = False
    page = await world.in_client(browser, userid)
    assert page.url.endswith("/10001/bind"), page.text[:300]
    return browser


async def finish_binding(world: World, browser: Browser, mobile: str) -> Page:
    page = await browser.get("/10001/bind")
    if page.status != 200:
        return page
    sent = await browser.post("/10001/bind/send", {"token": page.token(), "mobile": mobile})
    if sent.status != 200:
        return sent
    code = world.outbox.last_code_for(mobile)
    assert code is not None
    return await browser.post(
        "/10001/bind/verify", {"token": sent.token(), "code": code}, follow=True
    )


async def signed_in_browser(world: World, userid: str, mobile: str) -> Browser:
    browser = await start_binding(world, userid)
    home = await finish_binding(world, browser, mobile)
    assert home.status == 200 and 'id="space-home"' in home.text, home.text[:300]
    return browser


async def ready(world: World) -> Page:
    return await world.browser.get("/readyz")


# --- Redis ------------------------------------------------------------------------------


@pytest.fixture
async def redis_world(tmp_path: Path) -> AsyncIterator[tuple[World, Any]]:
    with private_redis() as redis:
        settings = world_settings(tmp_path / "data", kv_url=redis.url)
        async with open_world(settings) as world:
            yield world, redis


async def test_redis_killed_while_serving_and_back(redis_world: tuple[World, Any]) -> None:
    world, redis = redis_world
    member = await signed_in_browser(world, "user002", "13800000002")
    halfway = await start_binding(world, "user003")  # a binding under way
    before = await counts(world)

    redis.kill()
    page = await member.get("/10001/")  # the session lives in Redis
    clean_failure(page)
    assert "Redis" in page.text
    signing_in = await world.new_browser().post(
        "/10001/signin/code",
        json_body={"code": world.sim.issue_authcode("ding5f2a7c31e08b4d96", "user004")},
    )
    clean_failure(signing_in, json_expected=True)
    clean_failure(await finish_binding(world, halfway, "13800000003"))
    down = await ready(world)
    assert down.status == 503
    assert down.json()["redis"] == "unreachable" and down.json()["database"] == "ok"
    assert await counts(world) == before  # nothing half-written

    redis.start()  # the same address, empty (no persistence): nothing is restarted here

    async def is_ready() -> bool:
        return (await ready(world)).status == 200

    await until(is_ready, "/readyz answers 200 again")
    # Sessions, codes and the cached app token were in Redis: signing in again just works
    # (a new app token is fetched), and the binding under way starts over.
    again = world.new_browser()
    home = await world.in_client(again, "user002")
    assert home.status == 200 and 'id="space-home"' in home.text
    retry = await signed_in_browser(world, "user003", "13800000003")
    assert (await retry.get("/10001/")).status == 200
    assert await counts(world) == (before[0], before[1] + 1)


# --- PostgreSQL -------------------------------------------------------------------------


async def test_postgres_crashed_and_restarted_while_serving(tmp_path: Path) -> None:
    with private_postgres() as postgres:
        settings = world_settings(tmp_path / "data", database_url=postgres.url)
        async with open_world(settings) as world:
            member = await signed_in_browser(world, "user002", "13800000002")
            halfway = await start_binding(world, "user003")
            before = await counts(world)

            postgres.crash()
            finished = await finish_binding(world, halfway, "13800000003")
            clean_failure(finished)
            console = await world.new_browser().get("/admin/login")
            assert console.status in (200, 503) and "Traceback" not in console.text
            api = await world.new_browser().get(
                "/api/v1/spaces", headers={"authorization": "Bearer dbt_whatever"}
            )
            assert api.status in (401, 503) and api.json()["error"]
            down = await ready(world)
            assert down.status == 503 and down.json()["database"] == "unreachable"
            # A signed-in page view needs no database (the space cache): it still works.
            assert (await member.get("/10001/")).status == 200

            postgres.start()

            async def is_ready() -> bool:
                return (await ready(world)).status == 200

            await until(is_ready, "/readyz answers 200 again")
            assert await counts(world) == before  # the failed binding left nothing
            retry = await finish_binding(world, halfway, "13800000003")
            assert retry.status == 200 and 'id="space-home"' in retry.text, retry.text[:300]
            assert await counts(world) == (before[0], before[1] + 1)


# --- SQLite full or read-only -----------------------------------------------------------


def _set_pragma(world: World, pragma: str | None) -> None:
    """Every database connection from now on runs ``pragma`` (None: stop doing so)."""
    engine = world.context.db.engine.sync_engine
    for listener in getattr(world, "_pragma_listeners", []):
        event.remove(engine, "connect", listener)
    world._pragma_listeners = []  # type: ignore[attr-defined]
    if pragma is not None:

        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(pragma)
            cursor.close()

        event.listen(engine, "connect", on_connect)
        world._pragma_listeners.append(on_connect)  # type: ignore[attr-defined]


async def _reconnect(world: World) -> None:
    await world.context.db.engine.dispose()  # pooled connections pick up the pragma


async def test_sqlite_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_module, "WRITE_FAILURE_MEMORY", 3.0)  # the test's patience
    async with open_world(world_settings(tmp_path / "data")) as world:
        member = await signed_in_browser(world, "user002", "13800000002")
        halfway = await start_binding(world, "user003")
        before = await counts(world)

        _set_pragma(world, "PRAGMA query_only = 1")  # every write: SQLITE_READONLY
        await _reconnect(world)
        finished = await finish_binding(world, halfway, "13800000003")
        clean_failure(finished)
        assert "数据库无法写入（只读）" in finished.text
        down = await ready(world)
        assert down.status == 503 and down.json()["database"] == "read-only", down.text
        assert (await member.get("/10001/")).status == 200  # reading still works

        _set_pragma(world, None)  # the file writable again
        await _reconnect(world)
        await until(lambda: _is_ready(world), "/readyz answers 200 again")
        assert await counts(world) == before
        retry = await finish_binding(world, halfway, "13800000003")
        assert retry.status == 200 and 'id="space-home"' in retry.text, retry.text[:300]
        assert await counts(world) == (before[0], before[1] + 1)


async def test_sqlite_disk_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An import of 3000 members into a database that may not grow (SQLITE_FULL once a new
    page is needed): a clean 503, not one member of the import saved; room again: it works."""
    monkeypatch.setattr(db_module, "WRITE_FAILURE_MEMORY", 3.0)
    async with open_world(world_settings(tmp_path / "data")) as world:
        admin = await admin_browser(world)
        headers = {"authorization": f"Bearer {await _api_token(world)}", "content-type": "text/csv"}
        rows = "".join(f"成员{i},139{i:08d}\n" for i in range(3000))
        csv = ("姓名,手机号\n" + rows).encode()
        before = await counts(world)

        # max_page_count cannot go below the current size: "1" pins the file at its size.
        _set_pragma(world, "PRAGMA max_page_count = 1")
        await _reconnect(world)
        url = "/api/v1/spaces/10001/members/import"
        refused = await admin.request("POST", url, headers=headers, body=csv)
        clean_failure(refused, json_expected=True)
        assert "full" in refused.json()["message"]
        down = await ready(world)
        assert down.status == 503 and down.json()["database"] == "full", down.text
        assert await counts(world) == before  # not one row of the import

        _set_pragma(world, None)
        await _reconnect(world)
        await until(lambda: _is_ready(world), "/readyz answers 200 again")
        imported = await admin.request("POST", url, headers=headers, body=csv)
        assert imported.status == 200 and imported.json()["added"] == 3000, imported.text
        assert await counts(world) == (before[0] + 3000, before[1])


async def _is_ready(world: World) -> bool:
    return (await ready(world)).status == 200


async def _api_token(world: World) -> str:
    async with world.context.db.transaction() as session:
        _info, token = await create_token(session, "admin", "faults", actor="test")
    return token


async def test_a_burst_beyond_the_redis_pool_waits_instead_of_failing() -> None:
    """300 requests needing Redis at once (more than the pool's connections): all served.
    redis-py's default pool refused the 101st ("Redis unreachable" for a burst of sign-ins)."""
    with private_redis() as redis:
        kv = RedisKV.from_url(redis.url, prefix="burst:")
        try:
            await asyncio.gather(*(kv.set(f"k{i}", b"1", ttl=60) for i in range(300)))
            values = await asyncio.gather(*(kv.get(f"k{i}") for i in range(300)))
            assert values == [b"1"] * 300
        finally:
            await kv.close()


async def test_a_code_exchange_the_database_refused_can_be_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app exchanges its code while the database cannot be written: 503 JSON, no token;
    the same exchange once the database is back: the tokens (the code was not used up)."""
    monkeypatch.setattr(db_module, "WRITE_FAILURE_MEMORY", 3.0)
    async with matrix_world(tmp_path / "data") as world:
        client = world.oidc_client  # type: ignore[attr-defined]
        browser = new_browser(world)
        assert (await world.in_client(browser, "user001")).status == 200
        verifier = "v" * 50
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = urlencode(
            {
                "client_id": client["client_id"],
                "redirect_uri": client["redirect_uri"],
                "response_type": "code",
                "scope": "openid",
                "code_challenge": challenge.rstrip(b"=").decode(),
                "code_challenge_method": "S256",
            }
        )
        sent_back = await browser.get(f"/10001/oidc/authorize?{query}")
        code = query_of(sent_back.header("location") or "")["code"]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client["redirect_uri"],
            "code_verifier": verifier,
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        }
        _set_pragma(world, "PRAGMA query_only = 1")
        await _reconnect(world)
        refused = await browser.post("/10001/oidc/token", form)
        clean_failure(refused, json_expected=True)
        assert "access_token" not in refused.text

        _set_pragma(world, None)
        await _reconnect(world)
        exchanged = await browser.post("/10001/oidc/token", form)
        assert exchanged.status == 200 and exchanged.json()["access_token"], exchanged.text
        again = await browser.post("/10001/oidc/token", form)  # still one use only
        assert again.status == 400 and again.json()["error"] == "invalid_grant"
