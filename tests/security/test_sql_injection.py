"""SQL injection through every kind of input: search boxes (console and API), console forms,
API bodies, path parameters, the sign-in forms and the OpenID parameters, with the classic
payloads. No answer is a 500, the payload is stored verbatim where it is a name, and nothing
changes beyond what the request meant (the members and spaces counted before and after).
Every query goes through SQLAlchemy with bound parameters; this holds it to that."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from dingbridge.storage.models import Member, Space
from tests.signin.signin_world import World, admin_browser

PAYLOADS = [
    "' OR 1=1 --",
    "'; DROP TABLE members; --",
    '" OR ""="',
    "1 UNION SELECT username, password_hash FROM admins --",
    "%' AND 1=0 UNION SELECT NULL --",
    "\\'; SELECT pg_sleep(0); --",
]


async def _counts(world: World) -> tuple[int, int]:
    async with world.context.db.session() as session:
        members = await session.scalar(select(func.count()).select_from(Member))
        spaces = await session.scalar(select(func.count()).select_from(Space))
    return int(members or 0), int(spaces or 0)


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_payloads_change_nothing_but_what_was_asked(world: World, payload: str) -> None:
    admin = await admin_browser(world)
    csrf = (await admin.get("/admin/spaces")).csrf()
    api = {"x-csrf-token": csrf}
    members, spaces = await _counts(world)
    q = quote(payload)
    reads = [
        f"/admin/spaces/10001/members?q={q}",
        f"/api/v1/spaces/10001/members?q={q}",
        f"/api/v1/spaces/{q}/members",
        f"/api/v1/spaces/10001/members/{q}",
        f"/admin/spaces/{q}",
        f"/10001/oidc/authorize?client_id={q}&response_type=code&redirect_uri={q}",
        f"/10001/?next={q}",
    ]
    for url in reads:
        answer = await admin.get(url, headers=api)
        assert answer.status < 500, (url, answer.status)
    listed = await admin.get(f"/api/v1/spaces/10001/members?q={q}", headers=api)
    assert listed.status == 200 and listed.json() == []  # matched nothing, not everything
    writes = [
        ("/api/v1/spaces", {"name": payload}),
        ("/api/v1/spaces/10001/members", {"name": payload, "mobile": "13800000099"}),
        ("/api/v1/spaces/10001/members", {"name": "x", "mobile": payload}),
    ]
    for url, body in writes:
        answer = await admin.request("POST", url, json_body=body, headers=api)
        assert answer.status < 500, (url, answer.status, answer.text[:200])
    login = world.new_browser()
    page = await login.get("/admin/login")
    form = {"csrf_token": page.csrf(), "username": payload, "password": payload}
    assert (await login.post("/admin/login", form)).status == 401
    member = world.new_browser()
    await world.in_client(member, "user001")
    bind = await member.get("/10001/bind")
    sent = await member.post("/10001/bind/send", {"token": bind.token(), "mobile": payload})
    assert sent.status == 400  # not a mobile number
    assert await _counts(world) == (members + 1, spaces + 1)  # the one member, the one space
    async with world.context.db.session() as session:
        names = set(await session.scalars(select(Member.name)))
        space_names = set(await session.scalars(select(Space.name)))
    assert payload in names and payload.strip() in space_names
