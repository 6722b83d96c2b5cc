"""Setup link, sign-in, throttling, CSRF and the admin session cookie."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from dingbridge.app import create_app
from dingbridge.settings import Settings
from tests.web.conftest import ADMIN_PASSWORD, AsgiClient, Server, login

LINK = re.compile(r"(/admin/setup\?token=[\w-]+)")


def _setup_path(server: Server) -> str:
    assert server.announced, "no setup link printed"
    match = LINK.search(server.announced[-1])
    assert match
    return match.group(1)


async def test_setup_link_creates_first_admin_once(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = _setup_path(server)
    token = path.split("=", 1)[1]
    client = server.client
    page = await client.get(path)
    assert page.status == 200
    form = {
        "csrf_token": page.csrf(),
        "token": token,
        "username": "root",
        "password": "s3cure-passw0rd",
        "password2": "s3cure-passw0rd",
    }
    done = await client.post("/admin/setup", form=form)
    assert (
        done.status == 303
        and done.header(
            "location",
        )
        == "/admin/spaces?done=welcome"
    )
    assert (await client.get("/admin/spaces")).status == 200  # signed in at once
    # The link is spent: neither showing nor posting it works again.
    other = server.new_client()
    assert (await other.get(path)).status == 404
    again = await other.get("/admin/login")
    retry = await other.post(
        "/admin/setup", form={**form, "csrf_token": again.csrf(), "username": "evil"}
    )
    assert retry.status == 404
    assert token not in caplog.text


async def test_setup_link_mismatched_passwords_keep_link_usable(server: Server) -> None:
    path = _setup_path(server)
    page = await server.client.get(path)
    form = {
        "csrf_token": page.csrf(),
        "token": path.split("=", 1)[1],
        "username": "root",
        "password": "s3cure-passw0rd",
        "password2": "other-password",
    }
    assert (await server.client.post("/admin/setup", form=form)).status == 400
    assert (await server.client.get(path)).status == 200


async def test_no_setup_link_when_an_admin_exists(admin: AsgiClient, settings: Settings) -> None:
    announced: list[str] = []
    app = create_app(settings, announce=announced.append)
    async with app.router.lifespan_context(app):
        pass
    assert announced == []


async def test_wrong_password_then_throttled(server: Server, admin: AsgiClient) -> None:
    client = server.new_client(client_ip="10.0.0.7")
    for _ in range(5):
        assert (await login(client, password="wrong password!")).status == 401
    blocked = await login(client, password=ADMIN_PASSWORD)
    assert blocked.status == 429
    assert blocked.header("retry-after")


async def test_throttled_per_ip_across_usernames(server: Server, admin: AsgiClient) -> None:
    client = server.new_client(client_ip="10.0.0.8")
    for i in range(30):
        await login(client, username=f"user{i}", password="nope-nope-nope")
    assert (await login(client, password=ADMIN_PASSWORD)).status == 429
    # another address is not affected
    assert (await login(server.new_client(client_ip="10.0.0.9"))).status == 303


async def test_pages_need_sign_in(server: Server) -> None:
    page = await server.client.get("/admin/spaces")
    assert page.status == 303 and page.header("location") == "/admin/login?next=/admin/spaces"
    api = await server.client.get("/admin/spaces", headers={"accept": "application/json"})
    assert api.status == 401 and api.json()["error"] == "unauthorized"


async def test_post_without_csrf_token_is_refused(admin: AsgiClient) -> None:
    refused = await admin.post("/admin/spaces", form={"name": "偷偷创建"})
    assert refused.status == 403
    wrong = await admin.post("/admin/spaces", form={"name": "偷偷创建", "csrf_token": "x" * 43})
    assert wrong.status == 403
    assert "偷偷创建" not in (await admin.get("/admin/spaces")).text


async def test_login_form_needs_csrf_token(server: Server, admin: AsgiClient) -> None:
    fresh = server.new_client()
    result = await fresh.post(
        "/admin/login", form={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert result.status == 403


async def test_session_cookie_flags(server: Server) -> None:
    from dingbridge.accounts.admins import create_admin

    async with server.app.state.context.db.transaction() as session:
        await create_admin(session, "admin", ADMIN_PASSWORD, actor="t")
    page = await server.client.get("/admin/login")
    result = await server.client.post(
        "/admin/login",
        form={"csrf_token": page.csrf(), "username": "admin", "password": ADMIN_PASSWORD},
    )
    cookie = next(
        v
        for k, v in result.headers
        if k == "set-cookie"
        and v.startswith("dingbridge_admin=")
        and "max-age=0" not in v.lower()  # the one dropping an old /admin/-scoped cookie
    )
    lowered = cookie.lower()
    # Path / so the JSON API under /api/v1/ sees the session too (with its CSRF header).
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/;" in lowered + ";"
    assert "secure" not in lowered


async def test_secure_cookie_behind_https(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", external_url="https://apps.example.com")
    app = create_app(settings, announce=lambda _m: None)
    async with app.router.lifespan_context(app):
        page = await AsgiClient(app).get("/admin/login")
    cookie = page.header("set-cookie") or ""
    assert "secure" in cookie.lower()


async def test_logout_ends_the_session(server: Server, admin: AsgiClient) -> None:
    stolen = dict(admin.cookies)
    page = await admin.get("/admin/spaces")
    assert (await admin.post("/admin/logout", form={"csrf_token": page.csrf()})).status == 303
    replay = server.new_client()
    replay.cookies.update(stolen)
    assert (await replay.get("/admin/spaces")).status == 303


async def test_login_redirects_only_inside_the_console(server: Server, admin: AsgiClient) -> None:
    client = server.new_client()
    page = await client.get("/admin/login")
    result = await client.post(
        "/admin/login",
        form={
            "csrf_token": page.csrf(),
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "next": "//evil.example/x",
        },
    )
    assert result.header("location") == "/admin/spaces"
