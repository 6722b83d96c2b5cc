"""Two server instances sharing PostgreSQL-or-SQLite and Redis: a member signed in on one is
signed in on the other, and the other reuses the app token (one DingTalk call per sign-in)."""

from __future__ import annotations

from dingbridge.sim.defaults import DEMO_CORP_ID
from tests.signin.signin_world import Browser, World


async def test_two_instances_share_sessions_and_tokens(
    two_worlds: tuple[World, World],
) -> None:
    first, second = (world.app for world in two_worlds)
    sim = two_worlds[0].sim

    on_first = Browser(first)
    answer = await on_first.post(
        "/10001/signin/code",
        json_body={"code": sim.issue_authcode(DEMO_CORP_ID, "user001"), "next": "/10001/"},
    )
    bind_page = await on_first.get(answer.json()["next"], follow=True)
    sent = await on_first.post(
        "/10001/bind/send", {"token": bind_page.token(), "mobile": "13800000001"}
    )
    code = first.state.context.signin.outbox.last_code_for("13800000001")
    home = await on_first.post(
        "/10001/bind/verify", {"token": sent.token(), "code": code}, follow=True
    )
    assert 'id="space-home"' in home.text

    # the same cookie on the other instance
    on_second = Browser(second, cookies=dict(on_first.cookies))
    assert 'id="space-home"' in (await on_second.get("/10001/")).text

    # a returning sign-in on the other instance: the app token comes from Redis
    sim.request_log.clear()
    phone = Browser(second)
    answer = await phone.post(
        "/10001/signin/code",
        json_body={"code": sim.issue_authcode(DEMO_CORP_ID, "user001"), "next": "/10001/"},
    )
    landed = await phone.get(answer.json()["next"], follow=True)
    assert 'id="space-home"' in landed.text
    assert [e.path for e in sim.request_log] == ["/topapi/v2/user/getuserinfo"]
