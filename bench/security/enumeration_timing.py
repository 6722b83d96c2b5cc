"""How long the binding page takes to answer "send a code" for a member's number and for a
number of no member, in-process (the server and the simulator in one event loop, SQLite, the
in-process KV, the console SMS sender), measured in the same run, alternating.

The answers are the same (``tests/security/test_enumeration.py``); this prints whether the
time tells them apart: the median and the 90th percentile of each, and the difference of the
medians next to the spread (interquartile range) of the member's times. With the console
sender the only extra work for a member is writing to the outbox; a real SMS provider adds its
network round trip for members only (see SECURITY.md).

Usage:  .venv/bin/python bench/security/enumeration_timing.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from dingbridge.kv.memory import MemoryKV  # noqa: E402
from dingbridge.signin.codes import CodeService  # noqa: E402
from tests.signin.signin_world import World, open_world, world_settings  # noqa: E402

MEMBER, STRANGER = "13800000002", "13900000009"


async def _one(world: World, token: str, browser: object, mobile: str) -> float:
    signin = world.context.signin
    signin.codes = CodeService(MemoryKV(), signin.sender, b"k" * 32)  # no cool-down carried over
    started = time.perf_counter()
    page = await browser.post("/10001/bind/send", {"token": token, "mobile": mobile})  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - started
    assert page.status == 200, page.status
    return elapsed


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        async with open_world(world_settings(Path(data))) as world:
            browser = world.new_browser()
            page = await world.in_client(browser, "user001")
            token = page.token()
            times: dict[str, list[float]] = {MEMBER: [], STRANGER: []}
            for _ in range(20):  # warm-up
                await _one(world, token, browser, MEMBER)
                await _one(world, token, browser, STRANGER)
            for _ in range(rounds):
                for mobile in (MEMBER, STRANGER):
                    times[mobile].append(await _one(world, token, browser, mobile))
    for label, mobile in (("member", MEMBER), ("no member", STRANGER)):
        values = sorted(times[mobile])
        median = statistics.median(values) * 1000
        p90 = values[int(len(values) * 0.9)] * 1000
        print(f"{label:>10}: median {median:.2f} ms, p90 {p90:.2f} ms ({len(values)} answers)")
    member = times[MEMBER]
    quartiles = statistics.quantiles(member, n=4)
    spread = (quartiles[2] - quartiles[0]) * 1000
    gap = (statistics.median(member) - statistics.median(times[STRANGER])) * 1000
    print(f"difference of the medians: {gap:+.2f} ms; member's interquartile range {spread:.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    asyncio.run(main(parser.parse_args().rounds))
