"""Load generator for the token endpoint, run as its own process by ``run.py``.

Codes first (not timed): ``GET /10001/oidc/authorize`` with the member's session cookie and a
fresh PKCE challenge answers a 302 to the redirect URI with a code at once (a signed-in member:
no page). Then, timed, each code is exchanged once: ``POST /10001/oidc/token`` with
client_secret_basic, the code and its verifier; every answer must be 200 with an ID token. With
``--bare URL`` it POSTs the same bodies to the bare endpoint instead (codes are not needed).
One JSON line goes to stdout: ``{"done": n, "seconds": s, "errors": e, "cpu": c}`` where ``c``
is the CPU seconds process ``--pid`` spent during the timed phase (/proc, Linux).

Usage: token_driver.py SERVER_URL --client-id ID --client-secret S --cookie C
       [--count 1500] [--concurrency 16] [--bare URL] [--pid PID]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import secrets
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp

REDIRECT = "http://127.0.0.1:9/callback"


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def mint(
    http: aiohttp.ClientSession, server: str, client_id: str, count: int, concurrency: int
) -> list[dict[str, str]]:
    bodies: list[dict[str, str]] = []
    left = iter(range(count))

    async def worker() -> None:
        for _ in left:
            verifier = secrets.token_urlsafe(48)
            query = urlencode(
                {
                    "response_type": "code",
                    "client_id": client_id,
                    "redirect_uri": REDIRECT,
                    "scope": "openid profile email phone groups",
                    "state": "s",
                    "nonce": "n",
                    "code_challenge": challenge(verifier),
                    "code_challenge_method": "S256",
                }
            )
            async with http.get(
                f"{server}/10001/oidc/authorize?{query}", allow_redirects=False
            ) as answer:
                location = answer.headers.get("Location", "")
            code = parse_qs(urlsplit(location).query).get("code", [""])[0]
            if answer.status != 302 or not code:
                raise SystemExit(f"authorize: HTTP {answer.status} {location[:200]}")
            bodies.append(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT,
                    "code_verifier": verifier,
                }
            )

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return bodies


async def exchange(
    http: aiohttp.ClientSession, url: str, bodies: list[dict[str, str]], auth: str, n: int
) -> int:
    errors = 0
    pending = iter(bodies)
    headers = {"Authorization": f"Basic {auth}"}

    async def worker() -> None:
        nonlocal errors
        for body in pending:
            async with http.post(url, data=body, headers=headers) as answer:
                data = await answer.read()
                if answer.status != 200 or b'"access_token"' not in data:
                    errors += 1

    await asyncio.gather(*(worker() for _ in range(n)))
    return errors


async def main(args: argparse.Namespace) -> None:
    auth = base64.b64encode(f"{args.client_id}:{args.client_secret}".encode()).decode()
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    jar = aiohttp.DummyCookieJar()
    headers = {"Cookie": f"dingbridge_session={args.cookie}"}
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar, headers=headers) as http:
        if args.bare:
            url = args.bare
            bodies = [
                {"grant_type": "authorization_code", "code": secrets.token_urlsafe(32),
                 "redirect_uri": REDIRECT, "code_verifier": secrets.token_urlsafe(48)}
                for _ in range(args.count)
            ]  # fmt: skip
        else:
            url = f"{args.server}/10001/oidc/token"
            bodies = await mint(http, args.server, args.client_id, args.count, args.concurrency)
        before = cpu_seconds(args.pid) if args.pid else 0.0
        started = time.perf_counter()
        errors = await exchange(http, url, bodies, auth, args.concurrency)
        seconds = time.perf_counter() - started
        cpu = (cpu_seconds(args.pid) - before) if args.pid else 0.0
    print(json.dumps({"done": len(bodies), "seconds": seconds, "errors": errors, "cpu": cpu}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("server")
    parser.add_argument("--client-id", default="")
    parser.add_argument("--client-secret", default="")
    parser.add_argument("--cookie", default="")
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--bare", default="")
    parser.add_argument("--pid", type=int, default=0)
    asyncio.run(main(parser.parse_args()))
