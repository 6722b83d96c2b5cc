"""Open-loop load generator for the 9 a.m. burst, run as its own process by ``run.py``.

Sign-in ``i`` of the N codes in CODES starts at ``i * SECONDS / N`` whatever happened to the
earlier ones (people do not wait for each other), and is the two requests of an in-client
sign-in: ``POST /10001/signin/code`` then ``GET`` of the ticket URL (a 303 with the session
cookie). Its latency runs from its planned start to the cookie, so a late start (the generator
behind) counts against the server too. Prints one JSON line: ``{"latencies": [...],
"failed": {reason: count}, "seconds": s}``.

Usage: burst_driver.py SERVER_URL CODES --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from collections import Counter
from pathlib import Path

import aiohttp


async def burst(server: str, codes: list[str], seconds: float) -> dict[str, object]:
    latencies: list[float] = []
    failed: Counter[str] = Counter()
    # people arrive whether or not earlier ones are done: many connections at once
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    connector = aiohttp.TCPConnector(limit=min(4000, hard // 2))
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), timeout=timeout
    ) as http:
        started = time.perf_counter()

        async def sign_in(index: int, code: str) -> None:
            planned = started + index * seconds / len(codes)
            await asyncio.sleep(max(0.0, planned - time.perf_counter()))
            try:
                body = {"code": code, "next": "/10001/"}
                async with http.post(f"{server}/10001/signin/code", json=body) as answer:
                    data = await answer.json(content_type=None)
                    if answer.status != 200:
                        failed[str(data.get("error", answer.status))] += 1
                        return
                async with http.get(f"{server}{data['next']}", allow_redirects=False) as landed:
                    await landed.read()
                    if landed.status != 303 or "dingbridge_session" not in landed.cookies:
                        failed[f"ticket {landed.status}"] += 1
                        return
            except (TimeoutError, aiohttp.ClientError, ValueError, OSError) as exc:
                failed[type(exc).__name__] += 1
                return
            latencies.append(time.perf_counter() - planned)

        await asyncio.gather(*(sign_in(i, code) for i, code in enumerate(codes)))
        total = time.perf_counter() - started
    return {"latencies": latencies, "failed": dict(failed), "seconds": total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("server")
    parser.add_argument("codes", type=Path)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    codes = [line for line in args.codes.read_text().splitlines() if line]
    print(json.dumps(asyncio.run(burst(args.server, codes, args.seconds))))


if __name__ == "__main__":
    main()
