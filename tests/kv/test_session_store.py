"""SessionStore behaviour, on MemoryKV and RedisKV."""

from __future__ import annotations

import logging

import pytest

from dingbridge.sessions import SessionStore, session_handle
from tests.kv.backends import Backend

IDLE = 8 * 3600.0
ABSOLUTE = 7 * 24 * 3600.0


def store(backend: Backend) -> SessionStore:
    return SessionStore(
        backend.kv, idle_timeout=IDLE, absolute_timeout=ABSOLUTE, clock=backend.clock
    )


async def test_created_session_is_found_in_its_scope(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    created = await sessions.create("member", "m-42", "/10001/", {"userid": "user001"})
    found = await sessions.get(created.id, "/10001/")
    assert found is not None
    assert (found.kind, found.subject, found.scope) == ("member", "m-42", "/10001/")
    assert found.data == {"userid": "user001"}


async def test_session_of_one_space_is_not_valid_in_another(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    created = await sessions.create("member", "m-42", "/10001/")
    assert await sessions.get(created.id, "/10002/") is None
    assert await sessions.get(created.id, "/admin/") is None


async def test_every_session_gets_a_fresh_unguessable_id(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    ids = {(await sessions.create("member", "m", "/10001/")).id for _ in range(5)}
    assert len(ids) == 5
    assert all(len(i) >= 43 for i in ids)


async def test_unknown_or_empty_id_finds_nothing(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    assert await sessions.get("forged-id", "/10001/") is None
    assert await sessions.get("", "/10001/") is None


async def test_raw_session_id_is_never_stored(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    created = await sessions.create("admin", "root", "/admin/")
    assert await kv_backend.kv.get(f"sess:{created.id}") is None
    assert await kv_backend.kv.get(f"sess:{session_handle(created.id)}") is not None
    raw = await kv_backend.kv.get(f"sess:{session_handle(created.id)}")
    assert raw is not None
    assert created.id.encode() not in raw


async def test_idle_session_expires(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    created = await sessions.create("member", "m", "/10001/")
    kv_backend.clock.advance(IDLE - 10)
    assert await sessions.get(created.id, "/10001/") is not None
    kv_backend.clock.advance(IDLE - 10)  # used in between: still alive
    assert await sessions.get(created.id, "/10001/") is not None
    kv_backend.clock.advance(IDLE + 1)
    assert await sessions.get(created.id, "/10001/") is None


async def test_active_session_still_ends_at_absolute_timeout(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    created = await sessions.create("member", "m", "/10001/")
    elapsed = 0.0
    while elapsed + IDLE / 2 < ABSOLUTE:
        kv_backend.clock.advance(IDLE / 2)
        elapsed += IDLE / 2
        assert await sessions.get(created.id, "/10001/") is not None
    kv_backend.clock.advance(ABSOLUTE - elapsed)
    assert await sessions.get(created.id, "/10001/") is None


async def test_get_updates_last_seen(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    created = await sessions.create("member", "m", "/10001/")
    kv_backend.clock.advance(600)
    found = await sessions.get(created.id, "/10001/")
    assert found is not None
    assert found.last_seen == created.created_at + 600
    assert found.created_at == created.created_at


async def test_session_record_expires_in_the_store_too(kv_backend: Backend) -> None:
    sessions = SessionStore(kv_backend.kv, idle_timeout=0.4, clock=kv_backend.clock)
    created = await sessions.create("member", "m", "/10001/")
    await kv_backend.pass_time(0.6)
    assert await kv_backend.kv.get(f"sess:{session_handle(created.id)}") is None


async def test_logout_revokes_the_session(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    created = await sessions.create("member", "m", "/10001/")
    other = await sessions.create("member", "m", "/10001/")
    await sessions.revoke(created.id)
    assert await sessions.get(created.id, "/10001/") is None
    assert await sessions.get(other.id, "/10001/") is not None


async def test_revoke_subject_ends_all_their_sessions_only(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    mine = [await sessions.create("member", "m-1", f"/{s}/") for s in (10001, 10001, 10002)]
    theirs = await sessions.create("member", "m-2", "/10001/")
    admin_same_name = await sessions.create("admin", "m-1", "/admin/")
    assert await sessions.revoke_subject("member", "m-1") == 3
    for s in mine:
        assert await sessions.get(s.id, s.scope) is None
    assert await sessions.get(theirs.id, "/10001/") is not None
    assert await sessions.get(admin_same_name.id, "/admin/") is not None
    fresh = await sessions.create("member", "m-1", "/10001/")
    assert await sessions.get(fresh.id, "/10001/") is not None


async def test_list_subject_shows_live_sessions_without_their_ids(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    first = await sessions.create("admin", "root", "/admin/")
    kv_backend.clock.advance(5)
    second = await sessions.create("admin", "root", "/admin/")
    await sessions.create("admin", "other", "/admin/")
    listed = await sessions.list_subject("admin", "root")
    assert [s.handle for s in listed] == [first.handle, second.handle]
    assert all(s.id == "" for s in listed)
    await sessions.revoke_handle(first.handle)
    assert await sessions.get(first.id, "/admin/") is None
    assert [s.handle for s in await sessions.list_subject("admin", "root")] == [second.handle]


async def test_list_subject_forgets_expired_sessions(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    await sessions.create("member", "m", "/10001/")
    kv_backend.clock.advance(IDLE + 1)
    assert await sessions.list_subject("member", "m") == []
    assert await sessions.revoke_subject("member", "m") == 0


async def test_ticket_exchanges_once_for_a_new_session(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    created = await sessions.create("member", "m", "/10001/", {"userid": "user001"})
    ticket = await sessions.issue_ticket(created.id)
    new_id = await sessions.redeem_ticket(ticket)
    assert new_id is not None
    assert new_id != created.id
    assert await sessions.get(created.id, "/10001/") is None
    fresh = await sessions.get(new_id, "/10001/")
    assert fresh is not None
    assert (fresh.subject, fresh.data) == ("m", {"userid": "user001"})
    assert await sessions.redeem_ticket(ticket) is None


async def test_ticket_exchange_keeps_the_absolute_deadline(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    current = (await sessions.create("member", "m", "/10001/")).id
    for _ in range(int(ABSOLUTE // (IDLE / 2))):
        kv_backend.clock.advance(IDLE / 2)
        redeemed = await sessions.redeem_ticket(await sessions.issue_ticket(current))
        if redeemed is None:
            break
        current = redeemed
    kv_backend.clock.advance(IDLE / 2)
    assert await sessions.get(current, "/10001/") is None


async def test_ticket_expires(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    created = await sessions.create("member", "m", "/10001/")
    ticket = await sessions.issue_ticket(created.id, ttl=0.4)
    await kv_backend.pass_time(0.6)
    assert await sessions.redeem_ticket(ticket) is None
    assert await sessions.get(created.id, "/10001/") is not None


async def test_ticket_of_a_revoked_session_is_worthless(kv_backend: Backend) -> None:
    sessions = store(kv_backend)
    created = await sessions.create("member", "m", "/10001/")
    ticket = await sessions.issue_ticket(created.id)
    await sessions.revoke(created.id)
    assert await sessions.redeem_ticket(ticket) is None
    assert await sessions.redeem_ticket("made-up") is None


@pytest.mark.parametrize(
    ("kind", "subject", "scope"),
    [("guest", "m", "/10001/"), ("member", "", "/10001/"), ("member", "m", "10001")],
)
async def test_bad_session_arguments_are_refused(
    kv_backend: Backend, kind: str, subject: str, scope: str
) -> None:
    with pytest.raises(ValueError):
        await store(kv_backend).create(kind, subject, scope)


async def test_session_ids_and_tickets_are_not_logged(
    kv_backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sessions = store(kv_backend)
    created = await sessions.create("member", "m", "/10001/")
    ticket = await sessions.issue_ticket(created.id)
    new_id = await sessions.redeem_ticket(ticket)
    assert new_id is not None
    await sessions.get(new_id, "/10001/")
    for secret in (created.id, ticket, new_id):
        assert secret not in caplog.text
