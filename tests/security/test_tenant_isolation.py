"""Tenant isolation: what belongs to space 10001 (a member's session, a binding in progress,
a one-time ticket, an OAuth state, members, bindings, apps, an app's gate) does nothing at
space 10002, through the member pages, the console and the admin API (with the session's
CSRF header and with an API token). OIDC tokens and clients across spaces:
``tests/oidc/test_security.py::test_a_token_of_one_space_is_refused_by_another``; the
several-instance and cookie-path cases: ``tests/signin/test_signin_flows.py``."""

from __future__ import annotations

import json

from sqlalchemy import select

from dingbridge.signin import oauth_state
from dingbridge.signin.member_sessions import issue_session_ticket
from dingbridge.signin.pending import PENDING_COOKIE, DingTalkIdentity
from dingbridge.spaces.app_input import AppInput
from dingbridge.spaces.apps import create_space_app
from dingbridge.storage.models import Binding, Member
from dingbridge.web.space.cookies import SESSION_COOKIE
from tests.signin.signin_world import World, admin_browser
from tests.web.test_api_auth import TOKEN_RE


async def _state(world: World) -> tuple[int, int, int, int]:
    """A bound member of 10001 and their binding, an app of 10001, a member of 10002."""
    async with world.context.db.session() as session:
        bound = await session.scalar(select(Binding).where(Binding.space_id == 10001))
    if bound is None:
        browser = world.new_browser()
        await world.in_client(browser, "user001")
        await world.bind(browser, "13800000001")
    async with world.context.db.session() as session:
        bound = await session.scalar(select(Binding).where(Binding.space_id == 10001))
        other = await session.scalar(select(Member).where(Member.space_id == 10002))
    assert bound is not None and other is not None
    async with world.context.db.transaction() as session:
        saved = await create_space_app(
            session,
            10001,
            AppInput(name="维基", url="http://apps.test/wiki/", kind="forward_auth"),
            actor="test",
        )
    await world.context.signin.spaces.settle()
    return bound.member_id, bound.id, saved.detail.app.id, other.id


async def test_member_side_credentials_of_10001_do_nothing_at_10002(world: World) -> None:
    member = world.new_browser()
    await world.in_client(member, "user001")
    await world.bind(member, "13800000001")
    session_id = member.cookies[SESSION_COOKIE]
    pending = world.new_browser()
    await world.in_client(pending, "user002")
    tried = 0
    stranger = world.new_browser()
    stranger.cookies.update(
        {SESSION_COOKIE: session_id, PENDING_COOKIE: pending.cookies[PENDING_COOKIE]}
    )
    home = await stranger.get("/10002/")
    assert 'id="member-name"' not in home.text
    tried += 1
    bind = await stranger.get("/10002/bind")
    assert bind.status == 303 and 'id="bind"' not in bind.text
    tried += 1
    identity = DingTalkIdentity(corp_id="dingdemo", userid="user001")
    member_id, *_ = await _state(world)
    ticket = await issue_session_ticket(world.context, 10001, member_id, identity)
    redeemed = await world.new_browser().get(f"/10002/?ticket={ticket}")
    assert SESSION_COOKIE not in " ".join(redeemed.all_headers("set-cookie"))
    tried += 1
    started = oauth_state.start(world.context.signin.keys.oauth_state, 10001, "/10001/")
    swapped = world.new_browser()
    swapped.cookies[oauth_state.STATE_COOKIE] = started.cookie
    back = await swapped.get(f"/10002/?state={started.state}&authCode=x")
    assert 'data-reason="state_invalid"' in back.text
    tried += 1
    gate = await member.get("/10002/gate/1")
    assert gate.status in (403, 404)
    tried += 1
    assert tried == 5


async def test_console_and_api_ids_of_10001_do_nothing_at_10002(world: World) -> None:
    member_id, binding_id, app_id, _other = await _state(world)
    admin = await admin_browser(world)
    csrf = (await admin.get("/admin/spaces")).csrf()
    made = await admin.post("/admin/tokens", {"csrf_token": csrf, "name": "robot"})
    token = TOKEN_RE.search(made.text)
    assert token is not None
    robot = world.new_browser()
    bearer = {"authorization": f"Bearer {token.group(1)}"}
    session = {"x-csrf-token": csrf}
    calls = [
        ("GET", f"/api/v1/spaces/10002/members/{member_id}", None),
        ("PATCH", f"/api/v1/spaces/10002/members/{member_id}", {"name": "被改了"}),
        ("DELETE", f"/api/v1/spaces/10002/members/{member_id}", None),
        ("GET", f"/api/v1/spaces/10002/apps/{app_id}", None),
        ("PATCH", f"/api/v1/spaces/10002/apps/{app_id}", {"name": "被改了"}),
        ("POST", f"/api/v1/spaces/10002/apps/{app_id}/rotate-secret", None),
        ("DELETE", f"/api/v1/spaces/10002/apps/{app_id}", None),
    ]
    tried = 0
    for method, url, body in calls:
        for client, headers in ((admin, session), (robot, bearer)):
            answer = await client.request(method, url, json_body=body, headers=headers)
            assert answer.status == 404, (method, url, answer.status, answer.text[:200])
            tried += 1
    forms = [
        f"/admin/spaces/10002/members/{member_id}",
        f"/admin/spaces/10002/members/{member_id}/status",
        f"/admin/spaces/10002/members/{member_id}/delete",
        f"/admin/spaces/10002/signin/bindings/{binding_id}/delete",
        f"/admin/spaces/10002/signin/members/{member_id}/revoke",
        f"/admin/spaces/10002/apps/{app_id}",
        f"/admin/spaces/10002/apps/{app_id}/delete",
        f"/admin/spaces/10002/apps/{app_id}/rotate-secret",
    ]
    for url in forms:
        form = {"csrf_token": csrf, "name": "被改了", "status": "disabled", "confirm": "1"}
        answer = await admin.post(url, form)
        assert answer.status == 404, (url, answer.status)
        tried += 1
    assert tried == 22
    async with world.context.db.session() as db:
        member = await db.get(Member, member_id)
        binding = await db.get(Binding, binding_id)
    assert member is not None and member.name == "张伟" and member.status == "active"
    assert binding is not None
    apps = await admin.get("/api/v1/spaces/10001/apps", headers=session)
    assert [app["name"] for app in json.loads(apps.body)] == ["维基"]
    gate = await world.new_browser().get(f"/_dingbridge/auth/10002/{app_id}")
    assert gate.status in (401, 403, 404)
