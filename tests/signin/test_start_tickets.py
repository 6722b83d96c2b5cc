"""Start tickets (the in-client sign-in's URL ticket): one use, a fresh session, worthless
once the member's sessions were ended — on MemoryKV and RedisKV, and in the sign-in flow."""

from __future__ import annotations

from dingbridge.sessions import SessionStore
from dingbridge.sim.defaults import DEMO_CORP_ID
from dingbridge.spaces.members import find_by_mobile, set_member_status
from tests.kv.backends import Backend
from tests.signin.signin_world import World


def store(backend: Backend) -> SessionStore:
    return SessionStore(backend.kv, clock=backend.clock)


async def test_a_start_ticket_starts_one_session_once(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    ticket = await sessions.issue_start_ticket("member", "10001:7", "/10001/", {"member_id": 7})
    assert await sessions.list_subject("member", "10001:7") == []  # nothing before the URL
    session_id = await sessions.redeem_ticket(ticket)
    assert session_id is not None and session_id != ticket
    found = await sessions.get(session_id, "/10001/")
    assert found is not None and found.data == {"member_id": 7}
    assert await sessions.redeem_ticket(ticket) is None


async def test_a_start_ticket_is_worthless_after_the_subject_is_revoked(
    kv_backend: Backend,
) -> None:
    sessions = store(kv_backend)
    ticket = await sessions.issue_start_ticket("member", "10001:7", "/10001/")
    await sessions.revoke_subject("member", "10001:7")
    assert await sessions.redeem_ticket(ticket) is None


async def test_a_member_disabled_before_the_ticket_comes_back_is_not_signed_in(
    world: World,
) -> None:
    first = world.new_browser()
    await world.in_client(first, "user002")
    await world.bind(first, "13800000002")
    phone = world.new_browser()
    answer = await phone.post(
        "/10001/signin/code",
        json_body={"code": world.sim.issue_authcode(DEMO_CORP_ID, "user002"), "next": "/10001/"},
    )
    assert answer.status == 200
    async with world.context.db.transaction() as session:
        member = await find_by_mobile(session, 10001, "+8613800000002")
        assert member is not None
        await set_member_status(session, 10001, member.id, "disabled", actor="test")
    landed = await phone.get(answer.json()["next"], follow=True)
    assert 'id="space-home"' not in landed.text
    assert "dingbridge_session" not in phone.cookies
