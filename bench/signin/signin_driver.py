"""Load generator for returning in-client sign-ins, run as its own process by ``run.py``.

Each sign-in is what the entry page's script and the browser do inside DingTalk:
``POST /10001/signin/code`` with a 免登 code (read from CODES, one per line, issued beforehand),
then ``GET`` of the one-time ticket URL it answers, which must be a 303 setting the session
cookie. Every cookie obtained is written to COOKIES (one per line); one JSON line goes to
stdout: ``{"done": n, "seconds": s, "errors": e}``. Stops early after ``--max-seconds``.

Usage: signin_driver.py SERVER_URL CODES COOKIES [--concurrency 16] [--max-seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import aiohttp


async def drive(
    server: str, codes: list[str], concurrency: int, max_seconds: float
) -> tuple[int, float, int, list[str]]:
    cookies: list[str] = []
    errors = 0
    pending = iter(codes)
    connector = aiohttp.TCPConnector(limit=concurrency)
    started = time.perf_counter()
    deadline = started + max_seconds
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:

        async def sign_in(code: str) -> str | None:
            body = {"code": code, "next": "/10001/"}
            async with http.post(f"{server}/10001/signin/code", json=body) as answer:
                if answer.status != 200:
                    return None
                target = (await answer.json())["next"]
            async with http.get(f"{server}{target}", allow_redirects=False) as landed:
                await landed.read()
                cookie = landed.cookies.get("dingbridge_session")
                return cookie.value if landed.status == 303 and cookie is not None else None

        async def worker() -> None:
            nonlocal errors
            for code in pending:
                if time.perf_counter() > deadline:
                    return
                cookie = await sign_in(code)
                if cookie is None:
                    errors += 1
                else:
                    cookies.append(cookie)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(cookies) + errors, time.perf_counter() - started, errors, cookies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("server")
    parser.add_argument("codes", type=Path)
    parser.add_argument("cookies", type=Path)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=60)
    args = parser.parse_args()
    codes = [line for line in args.codes.read_text().splitlines() if line]
    done, seconds, errors, cookies = asyncio.run(
        drive(args.server, codes, args.concurrency, args.max_seconds)
    )
    args.cookies.write_text("".join(f"{cookie}\n" for cookie in cookies))
    print(json.dumps({"done": done, "seconds": seconds, "errors": errors}))


if __name__ == "__main__":
    main()
