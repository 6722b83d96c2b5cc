"""Time from the simulator's leave event to the last session ended (Stream mode).

    .venv/bin/python bench/events/leave_latency.py [--runs 20] [--sessions 3]

One process: the simulator served on 127.0.0.1 (uvicorn thread), a server (``create_app``,
SQLite in a temp dir, memory KV) holding the app's stream through the official SDK. Each run
signs a member in ``--sessions`` times, asks the simulator (control API) to make the user
leave, and stops the clock when the server has applied the event (member disabled, every
session ended, audited). The reference, measured in the same run: one round trip of the
control API that does nothing (``GET /_sim/settings``), the floor of any event's path.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dingbridge.app import create_app
from dingbridge.kv.memory import MemoryKV
from dingbridge.settings import Settings
from dingbridge.sim import SimState
from dingbridge.sim import create_app as create_sim
from dingbridge.sim.background import BackgroundServer
from dingbridge.sim.defaults import DEMO_CORP_ID
from dingbridge.sim.records import User
from tests.events.conftest import SPACE, EventsWorld, setup_space, until


async def main(runs: int, sessions: int) -> None:
    sim_state = SimState.default()
    corp = sim_state.corps[DEMO_CORP_ID]
    for i in range(runs):
        userid = f"bench{i:03d}"
        corp.users[userid] = User(userid, f"u{userid}", f"压测{i}", mobile=f"1370000{i:04d}")
    with BackgroundServer(create_sim(sim_state)) as sim, tempfile.TemporaryDirectory() as tmp:
        from tests.conftest import SimServer

        settings = Settings(
            data_dir=Path(tmp),
            dingtalk_api=sim.url,
            dingtalk_oapi=sim.url,
            event_streams=False,
            directory_sync_hour=-1,
            log_level="WARNING",
        )
        world = EventsWorld(SimServer(sim.url, sim_state, None), settings, MemoryKV())
        async with world.stack:
            app = create_app(settings, kv=world.kv, announce=lambda _m: None)
            await world.stack.enter_async_context(app.router.lifespan_context(app))
            world.apps.append(app)
            await setup_space(world.context)
            applied: dict[str, float] = {}
            changed = asyncio.Event()

            def on_applied(event_id: str) -> None:
                applied.setdefault(event_id, time.perf_counter())
                changed.set()

            runner = world.runner(world.context, on_applied=on_applied)
            task = asyncio.create_task(runner.run())
            await until(lambda: runner.connected)
            latencies, floor = [], []
            async with httpx.AsyncClient(base_url=sim.url) as client:
                for i in range(runs):
                    userid = f"bench{i:03d}"
                    await world.sign_in(userid, times=sessions)
                    started = time.perf_counter()
                    await client.get("/_sim/settings")
                    floor.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    answer = await client.post(f"/_sim/corps/{DEMO_CORP_ID}/users/{userid}/leave")
                    event_id = answer.json()["event"]["event_id"]
                    while event_id not in applied:
                        changed.clear()
                        await changed.wait()
                    latencies.append(applied[event_id] - started)
                    assert await world.live_sessions(userid) == 0
            task.cancel()
    ms = [x * 1000 for x in latencies]
    ref = [x * 1000 for x in floor]
    print(f"leave event -> last of {sessions} sessions ended, {runs} runs (Stream mode, SQLite):")
    print(f"  median {statistics.median(ms):.1f} ms, max {max(ms):.1f} ms, min {min(ms):.1f} ms")
    print(
        f"  reference (control-API round trip, same run): median "
        f"{statistics.median(ref):.1f} ms, max {max(ref):.1f} ms"
    )
    print(f"  space {SPACE}: every run's member disabled and sessions gone (checked)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.sessions))
