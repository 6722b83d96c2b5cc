"""Sign-ins per second and signed-in page views per second, each next to a bare endpoint.

Three processes on this machine, each uvicorn with uvloop + httptools, one worker:
- the DingTalk simulator (``dingbridge sim``, QPS limit off);
- the server (``dingbridge serve``, SQLite, in-process KV, development mode), space 10001
  configured for the simulator's FULL_APP, members user001…user018 already bound;
- a bare FastAPI app with one route returning a small HTML page (the framework's floor).

This process drives them with aiohttp, ``--concurrency`` requests in flight:
1. returning in-client sign-ins: ``POST /10001/signin/code`` with a fresh 免登 code (issued
   beforehand through the simulator's control API; one DingTalk call each, the app token
   cached) and ``GET`` of the ticket URL it answers (the session cookie is set there);
2. signed-in page views: ``GET /10001/`` with a session cookie (the space home);
3. the bare endpoint: ``GET /`` on the bare app.

Usage:  .venv/bin/python bench/signin/run.py [--signins 1500] [--views 5000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from dingbridge.settings import Settings  # noqa: E402
from dingbridge.sim.defaults import DEMO_CORP_ID, DEMO_CORP_NAME, FULL_APP  # noqa: E402

USERS = [f"user{n:03d}" for n in range(1, 19)]
BARE_APP = """
import sys, uvicorn
from fastapi import FastAPI
from starlette.responses import HTMLResponse
app = FastAPI()
PAGE = "<!doctype html><html><head><meta charset=utf-8><title>home</title></head>" \\
       "<body><h1>示例空间</h1><p>张伟 138****0001</p><ul><li>应用</li></ul></body></html>"
@app.get("/")
async def home() -> HTMLResponse:
    return HTMLResponse(PAGE)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
            access_log=False, log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def prepare(settings: Settings) -> None:
    """Space 10001 for FULL_APP, the 18 users as members, each already bound."""
    from dingbridge.settings import secret_keys
    from dingbridge.signin.binding_flow import bind
    from dingbridge.signin.pending import DingTalkIdentity
    from dingbridge.sim import SimState
    from dingbridge.spaces.dingtalk_settings import DingTalkInput, save_dingtalk
    from dingbridge.spaces.members import MemberInput, add_member
    from dingbridge.spaces.secret_box import SecretBox
    from dingbridge.spaces.store import create_space
    from dingbridge.storage import migrate
    from dingbridge.storage.db import Database
    from dingbridge.storage.models import SpaceApp

    migrate.upgrade(settings.effective_database_url)
    sim = SimState.default()
    db = Database(settings.effective_database_url)
    async with db.transaction() as session:
        space = await create_space(session, "示例空间", actor="bench")
        await save_dingtalk(
            session,
            SecretBox(secret_keys(settings)),
            space.id,
            DingTalkInput(
                enabled=True,
                corp_name=DEMO_CORP_NAME,
                corp_id=DEMO_CORP_ID,
                agent_id=str(FULL_APP.agent_id),
                app_key=FULL_APP.app_key,
                app_secret=FULL_APP.app_secret,
            ),
            actor="bench",
        )
        session.add(SpaceApp(space_id=space.id, title="报销", url="/x", position=1))
        for userid in USERS:
            user = sim.corps[DEMO_CORP_ID].users[userid]
            member = await add_member(
                session, space.id, MemberInput(user.name, user.mobile), actor="bench"
            )
            identity = DingTalkIdentity(DEMO_CORP_ID, userid, user.unionid, user.name)
            await bind(session, space.id, identity, member, how="bench")
    await db.dispose()


async def issue_codes(sim_url: str, count: int) -> list[str]:
    codes: list[str] = []
    async with aiohttp.ClientSession() as http:
        for n in range(count):
            body = {"corp_id": DEMO_CORP_ID, "userid": USERS[n % len(USERS)]}
            async with http.post(f"{sim_url}/_sim/authcode", json=body) as response:
                codes.append((await response.json())["code"])
    return codes


async def drive(
    count: int, concurrency: int, one: Callable[[aiohttp.ClientSession, int], Awaitable[None]]
) -> float:
    """Run ``one`` ``count`` times with ``concurrency`` in flight; returns operations/s."""
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    jar = aiohttp.DummyCookieJar()
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as http:
        counter = iter(range(count))

        async def worker() -> None:
            for n in counter:
                await one(http, n)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - started)


async def measure(
    server: str, sim: str, bare: str, signins: int, views: int, concurrency: int
) -> dict[str, float]:
    # warm up: the app token, the DB, the templates
    warm = await issue_codes(sim, 20)
    codes = await issue_codes(sim, signins)
    cookies: list[str] = []

    async def sign_in_with(http: aiohttp.ClientSession, code: str) -> None:
        async with http.post(
            f"{server}/10001/signin/code", json={"code": code, "next": "/10001/"}
        ) as answer:
            assert answer.status == 200, await answer.text()
            target = (await answer.json())["next"]
        async with http.get(f"{server}{target}", allow_redirects=False) as landed:
            assert landed.status == 303
            cookie = landed.cookies.get("dingbridge_session")
            assert cookie is not None
            cookies.append(cookie.value)

    async def sign_in(http: aiohttp.ClientSession, n: int) -> None:
        await sign_in_with(http, codes[n])

    async def warm_up(http: aiohttp.ClientSession, n: int) -> None:
        await sign_in_with(http, warm[n])

    async def view(http: aiohttp.ClientSession, n: int) -> None:
        headers = {"Cookie": f"dingbridge_session={random.choice(cookies)}"}
        async with http.get(f"{server}/10001/", headers=headers) as page:
            body = await page.read()
            assert page.status == 200 and b"space-home" in body

    async def bare_view(http: aiohttp.ClientSession, n: int) -> None:
        async with http.get(f"{bare}/") as page:
            await page.read()
            assert page.status == 200

    await drive(len(warm), 4, warm_up)
    await drive(200, concurrency, bare_view)
    results = {
        "bare GET / (req/s)": await drive(views, concurrency, bare_view),
        "sign-ins (returning, in-client) /s": await drive(signins, concurrency, sign_in),
        "signed-in page views /s": await drive(views, concurrency, view),
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signins", type=int, default=1500)
    parser.add_argument("--views", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="dingbridge-bench-"))
    sim_port, server_port, bare_port = free_port(), free_port(), free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    settings = Settings(
        data_dir=folder,
        development=True,
        dingtalk_api=sim_url,
        dingtalk_oapi=sim_url,
        dingtalk_login=sim_url,
        log_level="WARNING",
    )
    asyncio.run(prepare(settings))
    env = {
        **os.environ,
        "DINGBRIDGE_DATA_DIR": str(folder),
        "DINGBRIDGE_DEVELOPMENT": "1",
        "DINGBRIDGE_DINGTALK_API": sim_url,
        "DINGBRIDGE_DINGTALK_OAPI": sim_url,
        "DINGBRIDGE_DINGTALK_LOGIN": sim_url,
        "DINGBRIDGE_LOG_LEVEL": "WARNING",
    }
    python = sys.executable
    processes = [
        subprocess.Popen(
            [python, "-m", "dingbridge", "sim", "--port", str(sim_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        ),
        subprocess.Popen(
            [python, "-m", "dingbridge", "serve", "--port", str(server_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        ),
        subprocess.Popen(
            [python, "-c", BARE_APP, str(bare_port)], stderr=subprocess.DEVNULL, cwd=ROOT
        ),
    ]
    try:
        wait_up(f"{sim_url}/_sim/settings")
        wait_up(f"http://127.0.0.1:{server_port}/healthz")
        wait_up(f"http://127.0.0.1:{bare_port}/")
        request = urllib.request.Request(
            f"{sim_url}/_sim/settings",
            data=b'{"qps_limit": 0}',
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=5).close()
        results = asyncio.run(
            measure(
                f"http://127.0.0.1:{server_port}",
                sim_url,
                f"http://127.0.0.1:{bare_port}",
                args.signins,
                args.views,
                args.concurrency,
            )
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)
    bare = results["bare GET / (req/s)"]
    print(
        f"CPU cores: {os.cpu_count()}, concurrency {args.concurrency}, "
        f"{args.signins} sign-ins, {args.views} page views"
    )
    for name, value in results.items():
        print(f"  {name:38s} {value:9.0f}   ({value / bare:5.1%} of the bare endpoint)")


if __name__ == "__main__":
    main()
