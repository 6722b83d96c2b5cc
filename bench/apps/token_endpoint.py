"""Token-endpoint exchanges per second (authorization code + PKCE → tokens and an ID token),
next to a bare endpoint of the same framework in the same run.

One process, one event loop: the server (``create_app``: SQLite, in-process KV, uvicorn with
the default loop) and a bare FastAPI app with one ``POST /token`` route answering a small JSON
body, each on its own loopback port; the load is ``--concurrency`` aiohttp workers in the same
loop, so the figures include the generator's own work (equally for both: compare the ratio,
not the absolute numbers). Codes are minted beforehand straight into the provider's code store,
so each exchange is exactly one token request: client authentication (client_secret_basic),
the code claimed in the KV, PKCE checked, the member's claims read, the tokens stored (hashed,
one database write) and the ID token signed (RS256).

Usage:  .venv/bin/python bench/apps/token_endpoint.py [--exchanges 400] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import secrets
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import uvicorn
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from dingbridge.app import create_app
from dingbridge.oidc.codes import CodeGrant, new_family
from dingbridge.settings import Settings
from dingbridge.spaces.app_access import hash_client_secret, new_client_id, new_client_secret
from dingbridge.spaces.members import MemberInput, add_member
from dingbridge.spaces.store import create_space
from dingbridge.storage.models import SpaceApp

REDIRECT = "http://127.0.0.1:9/callback"


def bare_app() -> FastAPI:
    bare = FastAPI()

    @bare.post("/token")
    async def token() -> JSONResponse:
        return JSONResponse({"access_token": "x" * 43, "token_type": "Bearer", "expires_in": 3600})

    return bare


async def serve(app: Any, lifespan: str) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan=lifespan)  # type: ignore[arg-type]
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    return server, task, f"http://127.0.0.1:{sock.getsockname()[1]}"


async def load(url: str, bodies: list[dict[str, str]], auth: str, concurrency: int) -> float:
    """Requests per second for POSTing every body once; every answer must be 200."""
    queue = list(reversed(bodies))
    headers = {"Authorization": f"Basic {auth}"}

    async def worker(session: aiohttp.ClientSession) -> None:
        while queue:
            body = queue.pop()
            async with session.post(url, data=body, headers=headers) as answer:
                await answer.read()
                if answer.status != 200:
                    raise SystemExit(f"{url}: HTTP {answer.status}")

    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return len(bodies) / (time.perf_counter() - started)


async def main(exchanges: int, concurrency: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="dingbridge-bench-"))
    app = create_app(
        Settings(data_dir=folder, development=True, log_level="WARNING"), announce=lambda _m: None
    )
    server, task, url = await serve(app, "on")
    bare, bare_task, bare_url = await serve(bare_app(), "off")
    context = app.state.context
    secret = new_client_secret()
    async with context.db.transaction() as session:
        space = await create_space(session, "bench", actor="bench")
        member = await add_member(
            session, space.id, MemberInput("张伟", "13800000001"), actor="bench"
        )
        row = SpaceApp(
            space_id=space.id,
            title="bench",
            url="http://127.0.0.1:9/",
            kind="oidc",
            client_id=new_client_id(),
            client_secret_hash=hash_client_secret(secret),
            redirect_uris=[REDIRECT],
        )
        session.add(row)
        await session.flush()
        app_id, client_id, member_id = row.id, row.client_id or "", member.id
    auth = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    codes = app.state.oidc.codes
    bodies = []
    for _ in range(exchanges + concurrency * 4):
        code, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        grant = CodeGrant(
            space_id=space.id, app_id=app_id, client_id=client_id, member_id=member_id,
            redirect_uri=REDIRECT, scope="openid profile email phone groups", nonce="n",
            code_challenge=create_s256_code_challenge(verifier), code_challenge_method="S256",
            auth_time=int(time.time()), sid=None, family=new_family(),
        )  # fmt: skip
        await codes.save(code, grant)
        bodies.append(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
             "code_verifier": verifier}
        )  # fmt: skip
    token_url = f"{url}/{space.id}/oidc/token"
    warm, bodies = bodies[: concurrency * 4], bodies[concurrency * 4 :]
    await load(token_url, warm, auth, concurrency)  # keys made, caches filled
    bare_before = await load(f"{bare_url}/token", bodies, auth, concurrency)
    exchanges_per_second = await load(token_url, bodies, auth, concurrency)
    bare_after = await load(f"{bare_url}/token", bodies, auth, concurrency)
    bare_rate = (bare_before + bare_after) / 2
    print(f"bare FastAPI POST /token:       {bare_before:8.0f} / {bare_after:8.0f} req/s")
    print(f"token endpoint code exchanges:  {exchanges_per_second:8.0f} /s")
    print(f"ratio to the bare endpoint:     {exchanges_per_second / bare_rate:8.2f}")
    for srv in (server, bare):
        srv.should_exit = True
    await asyncio.gather(task, bare_task)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    options = parser.parse_args()
    asyncio.run(main(options.exchanges, options.concurrency))
