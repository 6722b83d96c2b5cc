"""Cost of a nightly catch-up sync of a large directory.

    .venv/bin/python bench/events/nightly_sync.py [--users 10000] [--departments 100]

The simulator (served on 127.0.0.1, per-app QPS limit off) holds ``--users`` users spread over
``--departments`` departments; a server (SQLite in a temp dir) has them all as members (an
import, not timed). Then 1 % leave and the sync runs: printed are its wall time, the DingTalk
calls it made (from the simulator's request log) and the peak Python memory it allocated
(tracemalloc). Reference, same run: the import of the same directory (walk + save).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dingbridge.app import create_app
from dingbridge.events.sync_run import run_sync
from dingbridge.kv.memory import MemoryKV
from dingbridge.settings import Settings
from dingbridge.sim import SimState
from dingbridge.sim import create_app as create_sim
from dingbridge.sim import directory_changes as changes
from dingbridge.sim.background import BackgroundServer
from dingbridge.sim.defaults import DEMO_CORP_ID
from dingbridge.sim.records import Department, User
from tests.conftest import SimServer
from tests.events.conftest import SPACE, EventsWorld, setup_space


async def main(users: int, departments: int) -> None:
    state = SimState.default()
    state.settings.qps_limit = 0
    state.settings.request_log_size = 1_000_000
    corp = state.corps[DEMO_CORP_ID]
    for d in range(departments):
        corp.departments[900000 + d] = Department(900000 + d, f"部门{d}", 1)
    for i in range(users):
        userid = f"u{i:06d}"
        corp.users[userid] = User(
            userid, f"un{i}", f"员工{i}", mobile=f"15{i:09d}", dept_ids=[900000 + i % departments]
        )
    with BackgroundServer(create_sim(state)) as sim, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            dingtalk_api=sim.url,
            dingtalk_oapi=sim.url,
            event_streams=False,
            directory_sync_hour=-1,
            log_level="WARNING",
        )
        world = EventsWorld(SimServer(sim.url, state, None), settings, MemoryKV())
        async with world.stack:
            app = create_app(settings, kv=world.kv, announce=lambda _m: None)
            await world.stack.enter_async_context(app.router.lifespan_context(app))
            world.apps.append(app)
            started = time.perf_counter()
            await setup_space(world.context)  # the import: the reference
            import_seconds = time.perf_counter() - started
            for i in range(0, users, 100):  # 1 % leave
                changes.user_leaves(state, DEMO_CORP_ID, f"u{i:06d}")
            state.request_log.clear()
            tracemalloc.start()
            started = time.perf_counter()
            report = await run_sync(world.context, SPACE)
            seconds = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    calls = collections.Counter(e.path for e in state.request_log)
    print(f"nightly sync of {report.users_seen} DingTalk users, {departments} departments:")
    print(f"  {seconds:.1f} s, {sum(calls.values())} DingTalk calls, peak {peak / 2**20:.1f} MiB")
    for path, count in calls.most_common():
        print(f"    {count:6d}  {path}")
    print(f"  disabled {len(report.departures)} leavers, updated {report.updated}")
    print(f"  reference (same run): the import of the same directory took {import_seconds:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--departments", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.users, args.departments))
