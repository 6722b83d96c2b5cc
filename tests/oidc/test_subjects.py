"""What apps learn of a member (``load_subject``): their newest DingTalk binding, their
departments, a subject made once and kept; nothing for a member of another space."""

from __future__ import annotations

import asyncio
from pathlib import Path

from dingbridge.oidc.subjects import load_subject
from dingbridge.spaces.store import create_space
from dingbridge.storage import migrate
from dingbridge.storage.db import Database
from dingbridge.storage.models import Binding, Member


async def test_the_subject_carries_the_newest_binding_and_stays_the_same(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'subjects.db').as_posix()}"
    await asyncio.to_thread(migrate.upgrade, url)
    db = Database(url)
    try:
        async with db.transaction() as session:
            space = await create_space(session, "A", actor="test")
            other = await create_space(session, "B", actor="test")
            bound = Member(space_id=space.id, name="张伟", mobile="13800000001")
            unbound = Member(
                space_id=space.id, name="李娜", mobile="13800000002", status="disabled"
            )
            session.add_all([bound, unbound])
            await session.flush()
            session.add(Binding(space_id=space.id, corp_id="c1", userid="old", member_id=bound.id))
            await session.flush()
            session.add(Binding(space_id=space.id, corp_id="c2", userid="new", member_id=bound.id))
        subject = await load_subject(db, space.id, bound.id)
        assert subject is not None and subject.active and subject.name == "张伟"
        assert (subject.corp_id, subject.userid) == ("c2", "new")
        again = await load_subject(db, space.id, bound.id)
        assert again is not None and again.sub == subject.sub and len(subject.sub) == 32

        lone = await load_subject(db, space.id, unbound.id)
        assert lone is not None and not lone.active and lone.userid is None
        assert lone.sub != subject.sub
        assert await load_subject(db, other.id, bound.id) is None
        assert await load_subject(db, space.id, 999_999) is None
    finally:
        await db.dispose()
