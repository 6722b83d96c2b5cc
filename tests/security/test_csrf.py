"""CSRF: every unsafe route, found by walking the app's routes (a new route is covered the day
it is added): the console and the admin API refuse a request without the token and change
nothing; each unsafe route outside them is classified (a form token, JSON only, client
authentication, a signature) and a cross-site form post without the token changes nothing
for a signed-in member."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from dingbridge.spaces.store import create_space
from dingbridge.storage.models import AuditEntry, Space
from tests.asgi_client import AsgiClient
from tests.signin.signin_world import World
from tests.web.conftest import Server

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _routes(routes: list[Any]) -> list[Any]:
    """Every route, those of included routers too (FastAPI keeps them as nested objects)."""
    flat: list[Any] = []
    for route in routes:
        nested = getattr(route, "original_router", None)
        flat += _routes(nested.routes) if nested is not None else [route]
    return flat


def _unsafe_routes(server: Server, prefix: str) -> list[tuple[str, str]]:
    found = []
    for route in _routes(server.app.routes):
        path, methods = getattr(route, "path", ""), getattr(route, "methods", None) or set()
        if path.startswith(prefix):
            # Fill every path parameter with the one space (10001) or a plain id.
            path = re.sub(r"\{space_id[^}]*\}", "10001", path)
            path = re.sub(r"\{[^}]+\}", "1", path)
            found += [(method, path) for method in sorted(set(methods) & UNSAFE)]
    return found


async def _counts(server: Server) -> tuple[int, int]:
    async with server.app.state.context.db.session() as session:
        audit = await session.scalar(select(func.count()).select_from(AuditEntry))
        spaces = await session.scalar(select(func.count()).select_from(Space))
    return int(audit or 0), int(spaces or 0)


async def test_every_console_form_refuses_a_post_without_its_token(
    server: Server, admin: AsgiClient
) -> None:
    async with server.app.state.context.db.transaction() as session:
        await create_space(session, "总部", actor="test")
    before = await _counts(server)
    routes = _unsafe_routes(server, "/admin/")
    assert len(routes) >= 15  # login, setup, spaces, members, dingtalk, sign-in, apps, tokens...
    for method, path in routes:
        for form in ({"name": "x"}, {"name": "x", "csrf_token": "not-the-token"}):
            result = await admin.request(method, path, form=form)
            assert result.status == 403, f"{method} {path} answered {result.status}"
    assert await _counts(server) == before  # nothing written, not even an audit entry


async def test_every_api_change_needs_the_csrf_header_with_the_session_cookie(
    server: Server, admin: AsgiClient
) -> None:
    routes = _unsafe_routes(server, "/api/")
    assert len(routes) >= 6
    for method, path in routes:
        result = await admin.request(method, path, json_body={"name": "x"})
        assert result.status == 403, f"{method} {path} answered {result.status}"
        assert result.json()["error"] == "csrf_failed"


async def test_a_form_with_the_token_goes_through(server: Server, admin: AsgiClient) -> None:
    page = await admin.get("/admin/spaces")
    result = await admin.post("/admin/spaces", form={"csrf_token": page.csrf(), "name": "总部"})
    assert result.status == 303
    assert (await _counts(server))[1] == 1


# Every unsafe route outside /admin/ and /api/, and what keeps a cross-site post out.
OTHER_ROUTES = {
    "/{space_id:int}/logout": "form token",
    "/{space_id:int}/signin/code": "JSON only (a form cannot send it without CORS)",
    "/{space_id:int}/bind/change": "form token",
    "/{space_id:int}/bind/send": "form token",
    "/{space_id:int}/bind/verify": "form token",
    "/{space_id:int}/oidc/token": "client authentication, no cookie",
    "/{space_id:int}/oidc/userinfo": "bearer token, no cookie",
    "/{space_id:int}/oidc/revoke": "client authentication, no cookie",
    "/{space_id:int}/oidc/introspect": "client authentication, no cookie",
    "/{space_id:int}/oidc/logout": "form token (else a confirmation page)",
    "/{space_id:int}/dingtalk/events": "DingTalk's signature",
    "/_dingbridge/auth/{space_id:int}/{app_id:int}": "the gate check: reads, changes nothing",
}


def test_every_other_unsafe_route_is_classified(server: Server) -> None:
    found = {
        route.path
        for route in _routes(server.app.routes)
        if set(getattr(route, "methods", None) or ()) & UNSAFE
        and not route.path.startswith(("/admin/", "/api/"))
    }
    assert found == set(OTHER_ROUTES), found ^ set(OTHER_ROUTES)


async def test_a_cross_site_post_changes_nothing_for_a_member(world: World) -> None:
    member = world.new_browser()
    await world.in_client(member, "user001")
    await world.bind(member, "13800000001")
    pending = world.new_browser()
    await world.in_client(pending, "user002")  # on the binding page
    tried = 0
    for template in OTHER_ROUTES:
        path = template.replace("{space_id:int}", "10001").replace("{app_id:int}", "1")
        for browser in (member, pending):
            answer = await browser.post(path, {"mobile": "13800000002", "code": "123456"})
            assert answer.status != 500, (path, answer.status)
            tried += 1
    assert tried == 2 * len(OTHER_ROUTES)
    assert 'id="member-name"' in (await member.get("/10001/")).text  # still signed in
    binding = await pending.get("/10001/bind")
    assert 'id="send-code"' in binding.text  # no code asked for: still at the first step
    assert world.outbox.last_code_for("13800000002") is None


async def test_every_page_sends_the_security_headers(server: Server, admin: AsgiClient) -> None:
    async with server.app.state.context.db.transaction() as session:
        await create_space(session, "总部", actor="test")
    for url in ("/admin/spaces", "/admin/login", "/10001/", "/api/v1/spaces", "/no-such-page"):
        result = await admin.get(url)
        assert result.header("x-content-type-options") == "nosniff", url
        assert result.header("x-frame-options") == "DENY", url
        assert result.header("referrer-policy") == "same-origin", url
