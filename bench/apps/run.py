"""Apps' figures in one run: forward-auth checks and token-endpoint code exchanges per second,
each next to a bare endpoint of the same framework, the load always from another process.

Four processes besides this one, each uvicorn with uvloop + httptools, one worker: the DingTalk
simulator (only for the sign-in that makes the sessions), the server (``dingbridge serve``,
SQLite, in-process KV, log level INFO: one access-log line per request, to /dev/null) with
space 10001, 张伟 bound, a forward-auth app and an OpenID Connect client; and a bare FastAPI
app with ``GET /`` (200 with the seven identity headers) and ``POST /token`` (a small JSON
body). The load generators are their own processes, so their work is never counted as the
server's (an earlier bench that shared one event loop with the server measured the generator):

- **forward-auth checks**: wrk (one thread) sends what nginx's ``auth_request`` sends, ``GET
  /_dingbridge/auth/10001/{app}`` with the gate cookie; the bare ``GET /`` before and after;
- **token exchanges**: ``token_driver.py`` (aiohttp) first gets ``--exchanges`` codes from the
  authorization endpoint (signed in: a 302 with the code, untimed), then exchanges each once
  (client_secret_basic, PKCE S256, RS256 ID token, tokens stored hashed); the bare ``POST
  /token`` with bodies of the same shape (ten times as many: it is that much faster) before and
  after.

Every answer must be 200 or the run fails. For each it prints operations per second, the ratio
to the bare endpoint, and the server's CPU time per operation (from /proc, Linux), which is
steadier on a shared machine.

Usage:  .venv/bin/python bench/apps/run.py [--seconds 8] [--connections 16] [--exchanges 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from world import (  # noqa: E402
    cpu_seconds,
    free_port,
    prepare,
    sign_in,
    start_servers,
    stop_servers,
    wait_up,
    wrk,
)

from dingbridge.settings import Settings  # noqa: E402

BARE_APP = """
import sys, uvicorn
from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, Response
app = FastAPI()
HEADERS = {"X-Auth-Request-User": "0123456789abcdef0123456789abcdef",
           "X-Auth-Request-Email": "", "X-Auth-Request-Preferred-Username": "%E5%BC%A0%E4%BC%9F",
           "X-Auth-Request-Groups": "", "X-Dingbridge-Member": "1",
           "X-Dingbridge-Corp-Id": "dingcorp", "X-Dingbridge-Userid": "user001"}
@app.get("/")
async def check() -> Response:
    return Response(status_code=200, headers=HEADERS)
@app.post("/token")
async def token(request: Request) -> JSONResponse:
    await request.form()
    return JSONResponse({"access_token": "x" * 43, "token_type": "Bearer", "expires_in": 3600})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
            access_log=False, log_level="warning")
"""
REDIRECT = "http://127.0.0.1:9/callback"


async def add_oidc_client(settings: Settings) -> tuple[str, str]:
    """A confidential OpenID Connect client of space 10001: (client id, secret)."""
    from dingbridge.spaces.app_access import hash_client_secret, new_client_id, new_client_secret
    from dingbridge.storage.db import Database
    from dingbridge.storage.models import SpaceApp

    secret, client_id = new_client_secret(), new_client_id()
    db = Database(settings.effective_database_url)
    async with db.transaction() as session:
        session.add(
            SpaceApp(
                space_id=10001,
                title="bench",
                url="http://127.0.0.1:9/",
                kind="oidc",
                client_id=client_id,
                client_secret_hash=hash_client_secret(secret),
                redirect_uris=[REDIRECT],
            )
        )
    await db.dispose()
    return client_id, secret


def drive(*args: str) -> dict[str, Any]:
    command = [sys.executable, str(HERE / "token_driver.py"), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if figures["errors"]:
        raise SystemExit(f"{figures['errors']} exchanges failed; the figures do not count")
    return {
        "rate": figures["done"] / figures["seconds"],
        "cpu_ms": figures["cpu"] / figures["done"] * 1000,
        "busy": figures["cpu"] / figures["seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8, help="length of each wrk phase")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--exchanges", type=int, default=1500, help="codes per token phase")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="dingbridge-bench-apps-"))
    sim_port, server_port, bare_port = free_port(), free_port(), free_port()
    sim_url, server_url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{server_port}"
    bare_url = f"http://127.0.0.1:{bare_port}"
    settings = Settings(
        data_dir=folder,
        development=True,
        dingtalk_api=sim_url,
        dingtalk_oapi=sim_url,
        dingtalk_login=sim_url,
    )
    app_id = asyncio.run(prepare(settings))
    client_id, secret = asyncio.run(add_oidc_client(settings))
    processes = start_servers(folder, sim_port, server_port, bare_port, BARE_APP)
    load_before = os.getloadavg()[0]
    results: list[tuple[str, dict[str, float]]] = []
    try:
        wait_up(f"{sim_url}/_sim/settings")
        wait_up(f"{server_url}/healthz")
        wait_up(bare_url + "/")
        cookies = sign_in(sim_url, server_url, app_id)
        gate = f"_dingbridge_gate_{app_id}"
        check_url = f"{server_url}/_dingbridge/auth/10001/{app_id}"
        cookie = f"Cookie: {gate}={cookies[gate]}"
        server, bare = processes["server"].pid, processes["bare"].pid
        token_args = [
            server_url,
            "--client-id", client_id, "--client-secret", secret,
            "--cookie", cookies["dingbridge_session"],
            "--concurrency", str(args.connections), "--count", str(args.exchanges),
        ]  # fmt: skip
        wrk(bare_url + "/", bare, 1, args.connections)  # warm up
        wrk(check_url, server, 1, args.connections, cookie)
        drive(*token_args[:-1], "200", "--pid", str(server))  # keys made, caches filled
        bare_token = [*token_args[:-1], str(args.exchanges * 10), "--bare", f"{bare_url}/token"]
        bare_token += ["--pid", str(bare)]
        results = [
            ("bare GET / (before)", wrk(bare_url + "/", bare, args.seconds, args.connections)),
            (
                "forward-auth check (200)",
                wrk(check_url, server, args.seconds, args.connections, cookie),
            ),
            ("bare GET / (after)", wrk(bare_url + "/", bare, args.seconds, args.connections)),
            ("bare POST /token (before)", drive(*bare_token)),
            ("token endpoint code exchange", drive(*token_args, "--pid", str(server))),
            ("bare POST /token (after)", drive(*bare_token)),
        ]
        assert cpu_seconds(server) > 0
    finally:
        stop_servers(processes)
    print(
        f"CPU cores: {os.cpu_count()}; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after; {args.connections} connections; wrk 1 thread "
        f"{args.seconds:g} s per GET phase; {args.exchanges} code exchanges per token phase"
    )
    print(f"  {'':30s} {'per s':>7s} {'vs bare':>8s}   {'CPU/request':>11s} {'vs bare':>8s}  busy")
    for group in (results[0:3], results[3:6]):
        bare_rate = (group[0][1]["rate"] + group[2][1]["rate"]) / 2
        bare_ms = (group[0][1]["cpu_ms"] + group[2][1]["cpu_ms"]) / 2
        for label, figures in group:
            print(
                f"  {label:30s} {figures['rate']:7.0f} {figures['rate'] / bare_rate:8.2f}"
                f"   {figures['cpu_ms']:8.3f} ms {figures['cpu_ms'] / bare_ms:7.1f}x"
                f"  {figures['busy']:4.0%}"
            )
    check_ratio = results[1][1]["rate"] / ((results[0][1]["rate"] + results[2][1]["rate"]) / 2)
    print(f"forward-auth checks per second / bare endpoint: {check_ratio:.2f} (goal >= 0.5)")


if __name__ == "__main__":
    main()
