"""Session fixation and cookie flags.

Fixation: a session id planted in the browser before sign-in (made up, or the attacker's own
valid session) is never the one the person ends up with: the console login, the in-client
sign-in, the OAuth callback and the SMS binding all start a new session, and the console
revokes the one it replaces.

Cookie flags: every cookie the server sets is HttpOnly and SameSite=Lax, scoped to its path
(a space's cookies to ``/{space}/``, the console's CSRF cookie to ``/admin/``), and Secure when
the external URL is https. Earlier single cases: ``tests/web/test_admin_auth.py``,
``tests/signin/test_signin_admin.py::test_cookies_are_secure_behind_https``,
``tests/signin/test_signin_flows.py`` (the space path)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from dingbridge.web.console.session import ADMIN_COOKIE
from dingbridge.web.space.cookies import SESSION_COOKIE
from tests.signin.signin_world import World, admin_browser, open_world, world_settings

PLANTED = "attacker-chosen-session-id-0123456789abcdef"


async def test_console_login_replaces_a_planted_or_known_session(world: World) -> None:
    attacker = await admin_browser(world)  # the attacker's own valid console session
    known = attacker.cookies[ADMIN_COOKIE]
    for planted in (PLANTED, known):
        victim = world.new_browser()
        victim.cookies[ADMIN_COOKIE] = planted
        page = await victim.get("/admin/login", follow=True)  # a known one: the console
        done = await victim.post(
            "/admin/login",
            {"csrf_token": page.csrf(), "username": "admin", "password": "correct horse battery"},
        )
        assert done.status == 303
        assert victim.cookies[ADMIN_COOKIE] not in (PLANTED, known)
    assert (await attacker.get("/admin/spaces")).status in (302, 303, 401)  # revoked


@pytest.mark.parametrize("how", ["in_client", "oauth", "sms_binding"])
async def test_member_sign_in_starts_a_new_session(world: World, how: str) -> None:
    browser = world.new_browser()
    browser.cookies[SESSION_COOKIE] = PLANTED
    if how == "in_client":
        await world.in_client(browser, "user001")
        await world.bind(browser, "13800000001")
        browser.cookies[SESSION_COOKIE] = PLANTED  # planted again over the binding
        page = await world.in_client(browser, "user001")
    elif how == "oauth":
        page = await world.browser_signin(browser, "user002")
        page = await world.bind(browser, "13800000002")
        browser.cookies[SESSION_COOKIE] = PLANTED
        page = await world.browser_signin(browser, "user002")
    else:
        await world.in_client(browser, "user003")
        page = await world.bind(browser, "13800000003")
    assert 'id="member-name"' in page.text
    new_id = browser.cookies[SESSION_COOKIE]
    assert new_id != PLANTED and len(new_id) >= 32
    stranger = world.new_browser()
    stranger.cookies[SESSION_COOKIE] = PLANTED
    assert 'id="member-name"' not in (await stranger.get("/10001/")).text


def _flags(header: str) -> tuple[str, dict[str, str]]:
    jar: SimpleCookie = SimpleCookie()
    jar.load(header)
    ((name, morsel),) = jar.items()
    flags = {k: str(v) for k, v in morsel.items() if v}
    return name, flags


async def _all_cookies(world: World) -> list[str]:
    """Every cookie a visit through the console and the space sign-ins sets."""
    admin = await admin_browser(world)
    member = world.new_browser()
    to_dingtalk = await member.get("/10001/signin/dingtalk")  # the OAuth state cookie
    assert to_dingtalk.status == 303
    await world.in_client(member, "user004")  # the binding cookie
    await world.bind(member, "13800000004")  # the session cookie
    await admin.get("/admin/login")
    fresh = world.new_browser()
    await fresh.get("/admin/login")  # the console's pre-sign-in CSRF cookie
    return admin.set_cookies + member.set_cookies + fresh.set_cookies


EXPECTED_PATHS = {
    "dingbridge_admin": "/",
    "dingbridge_csrf": "/admin/",
    "dingbridge_session": "/10001/",
    "dingbridge_bind": "/10001/",
    "dingbridge_oauth": "/10001/",
}


@pytest.fixture(params=["http://127.0.0.1:8000", "https://signin.example.com"])
async def any_world(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[World]:
    settings = world_settings(tmp_path / "data", external_url=request.param)
    async with open_world(settings) as opened:
        yield opened


async def test_every_cookie_has_its_flags(any_world: World) -> None:
    https = (any_world.settings.external_url or "").startswith("https:")
    seen: set[str] = set()
    for header in await _all_cookies(any_world):
        name, flags = _flags(header)
        if flags.get("max-age") == "0" or ("expires" in flags and "1970" in flags["expires"]):
            continue  # a deletion
        seen.add(name)
        assert flags.get("httponly"), header
        assert flags.get("samesite", "").lower() == "lax", header
        assert flags.get("path") == EXPECTED_PATHS[name], header
        assert bool(flags.get("secure")) == https, header
    assert seen == set(EXPECTED_PATHS), seen
