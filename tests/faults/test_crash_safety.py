"""``kill -9`` of a ``dingbridge serve`` process while 200 users sign in for the first time
(each a binding by the DingTalk mobile) and exchange OpenID Connect codes, over HTTP. After a
restart on the same data: the database is consistent (no binding without its member or its
audit entry, no member twice bound, no token without the member's binding and subject) and
every user retries successfully (no half-done binding or used code blocks them).

SQLite with the in-process KV; then PostgreSQL + Redis (private instances, skipped when they
cannot be started). The load is bounded: 200 users, one journey each, before and after.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from dingbridge.settings import Settings
from dingbridge.sim import SimState
from dingbridge.sim import create_app as create_sim
from dingbridge.sim.background import BackgroundServer
from dingbridge.storage.db import sync_url
from tests.faults.crash_world import USERS, Journey, OidcApp, Server, journey, load_fixture, prepare
from tests.faults.private_services import private_postgres, private_redis

pytestmark = pytest.mark.slow

CHECKS = {
    "bindings without their member": """
        SELECT count(*) FROM bindings b LEFT JOIN members m ON m.id = b.member_id
        WHERE m.id IS NULL OR m.space_id <> b.space_id""",
    "bindings without their audit entry": """
        SELECT count(*) FROM bindings b WHERE NOT EXISTS (
            SELECT 1 FROM audit_log a WHERE a.action = 'binding.create'
            AND a.target = 'space:' || b.space_id || '/member:' || b.member_id)""",
    "members bound twice": """
        SELECT count(*) FROM (SELECT member_id FROM bindings GROUP BY member_id, corp_id
        HAVING count(*) > 1) twice""",
    "DingTalk users bound twice": """
        SELECT count(*) FROM (SELECT userid FROM bindings GROUP BY space_id, corp_id, userid
        HAVING count(*) > 1) twice""",
    "tokens without the member's binding": """
        SELECT count(*) FROM oidc_tokens t WHERE NOT EXISTS (
            SELECT 1 FROM bindings b WHERE b.member_id = t.member_id)""",
    "tokens without the member's subject": """
        SELECT count(*) FROM oidc_tokens t WHERE NOT EXISTS (
            SELECT 1 FROM oidc_subjects s WHERE s.member_id = t.member_id)""",
}


def inconsistencies(database_url: str) -> dict[str, int]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            found = {
                name: int(conn.execute(text(sql)).scalar_one()) for name, sql in CHECKS.items()
            }
            if database_url.startswith("sqlite"):
                found["integrity_check"] = int(
                    conn.execute(text("PRAGMA integrity_check")).scalar_one() != "ok"
                )
                found["foreign_key_check"] = len(
                    conn.execute(text("PRAGMA foreign_key_check")).all()
                )
            found["members (expected 200)"] = (
                int(conn.execute(text("SELECT count(*) FROM members")).scalar_one()) - USERS
            )
    finally:
        engine.dispose()
    return {name: count for name, count in found.items() if count}


def count(database_url: str, table: str) -> int:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


async def load(
    server: Server, sim: SimState, app: OidcApp, kill_after: int | None
) -> list[Journey]:
    """USERS journeys at once; with ``kill_after``, ``kill -9`` once that many have ended."""
    done: asyncio.Queue[int] = asyncio.Queue()
    tasks = [asyncio.create_task(journey(server.url, sim, app, n, done)) for n in range(USERS)]
    if kill_after is not None:
        for _ in range(kill_after):
            await done.get()
        await asyncio.to_thread(server.kill)
    return list(await asyncio.gather(*tasks))


async def crash_and_retry(tmp_path: Path, **settings: str) -> None:
    sim = SimState.from_fixture(load_fixture())
    with BackgroundServer(create_sim(sim)) as sim_server:
        env = {
            "DINGBRIDGE_DATA_DIR": str(tmp_path / "data"),
            "DINGBRIDGE_DEVELOPMENT": "true",
            "DINGBRIDGE_DINGTALK_API": sim_server.url,
            "DINGBRIDGE_DINGTALK_OAPI": sim_server.url,
            "DINGBRIDGE_DINGTALK_LOGIN": sim_server.url,
            "DINGBRIDGE_LOG_LEVEL": "WARNING",
            # The simulator's QPS limit is off here (crash_world): pace no lower than it, or
            # 200 people arriving at once wait past dingtalk_max_wait for DingTalk turns.
            "DINGBRIDGE_DINGTALK_QPS": "100000",
            "DINGBRIDGE_DINGTALK_EGRESS_LIMIT": "1000000",
            **{f"DINGBRIDGE_{k.upper()}": v for k, v in settings.items()},
        }
        app = await prepare(Settings(data_dir=tmp_path / "data", **settings))  # type: ignore[arg-type]
        database_url = (
            settings.get("database_url") or f"sqlite:///{tmp_path / 'data' / 'dingbridge.db'}"
        )
        server = Server(env, tmp_path / "serve.log")
        server.start()
        try:
            first = await load(server, sim, app, kill_after=USERS // 3)
            reached = {
                stage: sum(j.stage == stage for j in first)
                for stage in ("start", "signed_in", "code", "tokens")
            }
            print("before the kill:", reached, sorted({j.error[:40] for j in first if j.error})[:8])
            assert 0 < reached["tokens"] < USERS, reached  # killed in the middle of it
            assert inconsistencies(database_url) == {}, reached
            bound_before = count(database_url, "bindings")

            server.start()  # the same data, a new process
            assert inconsistencies(database_url) == {}
            again = await load(server, sim, app, kill_after=None)
            failed = [j for j in again if j.stage != "tokens"]
            assert failed == [], failed[:5]
            assert count(database_url, "bindings") == USERS >= bound_before
            assert inconsistencies(database_url) == {}
        finally:
            server.stop()


async def test_kill_9_during_bindings_and_code_exchanges_sqlite(tmp_path: Path) -> None:
    await crash_and_retry(tmp_path)


async def test_kill_9_during_bindings_and_code_exchanges_postgres_redis(tmp_path: Path) -> None:
    with private_postgres() as postgres, private_redis() as redis:
        await crash_and_retry(tmp_path, database_url=postgres.url, kv_url=redis.url)
