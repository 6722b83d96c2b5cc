"""Forward-auth checks per second, next to a bare endpoint of the same framework.

Three servers on this machine, each uvicorn with uvloop + httptools, one worker:
- the DingTalk simulator (``dingbridge sim``), only for the one sign-in that makes the session;
- the server (``dingbridge serve``, SQLite, in-process KV, log level INFO: one access-log line
  per request, to /dev/null), space 10001 with 张伟 bound and a forward-auth app;
- a bare FastAPI app with one route answering 200 with seven short headers (what the check
  answers, minus the work).

The gate session is made as a browser makes it (in-client sign-in → ``/10001/gate/{app}`` →
``/_dingbridge/callback``); then wrk (C, one thread, its own process) sends what nginx's
``auth_request`` sends — ``GET /_dingbridge/auth/10001/{app}`` with the gate cookie — and, in
the same run, ``GET /`` to the bare app before and after. Every answer must be 200, or the run
fails. It prints checks per second, the ratio to the bare endpoint (goal: at least 0.5) and
the CPU time each server spent per request (from /proc, Linux). A check costs one KV read
(``tests/gate/test_gate_flow.py::test_one_kv_read_per_check`` counts them); here the KV is
in-process.

Usage:  .venv/bin/python bench/apps/forward_auth.py [--seconds 8] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from dingbridge.settings import Settings  # noqa: E402
from dingbridge.sim.defaults import DEMO_CORP_ID, DEMO_CORP_NAME, FULL_APP  # noqa: E402

APP_URL = "http://apps.bench:8080/wiki/"
BARE_APP = """
import sys, uvicorn
from fastapi import FastAPI
from starlette.responses import Response
app = FastAPI()
HEADERS = {"X-Auth-Request-User": "0123456789abcdef0123456789abcdef",
           "X-Auth-Request-Email": "", "X-Auth-Request-Preferred-Username": "%E5%BC%A0%E4%BC%9F",
           "X-Auth-Request-Groups": "", "X-Dingbridge-Member": "1",
           "X-Dingbridge-Corp-Id": "dingcorp", "X-Dingbridge-Userid": "user001"}
@app.get("/")
async def check() -> Response:
    return Response(status_code=200, headers=HEADERS)
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


async def prepare(settings: Settings) -> int:
    """Space 10001 for FULL_APP, 张伟 bound, a forward-auth app open to all: its id."""
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
    user = SimState.default().corps[DEMO_CORP_ID].users["user001"]
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
        member = await add_member(
            session, space.id, MemberInput(user.name, user.mobile), actor="bench"
        )
        identity = DingTalkIdentity(DEMO_CORP_ID, "user001", user.unionid, user.name)
        await bind(session, space.id, identity, member, how="bench")
        app = SpaceApp(space_id=space.id, title="内部维基", url=APP_URL, kind="forward_auth")
        session.add(app)
        await session.flush()
        app_id = app.id
    await db.dispose()
    return app_id


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _call(url: str, cookies: dict[str, str], body: dict[str, str] | None = None) -> tuple[int, str]:
    """One request, no redirects followed; cookies kept. (status, Location or body)."""
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        response = urllib.request.build_opener(_NoRedirect).open(request, timeout=10)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        for value in response.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(value)
            cookies.update({name: morsel.value for name, morsel in jar.items()})
        location = response.headers.get("Location")
        return response.status, location or response.read().decode()


def gate_cookie(sim_url: str, server_url: str, app_id: int) -> tuple[str, str]:
    """Sign in as 张伟 in-client, pass the gate's sign-in step: the gate cookie."""
    cookies: dict[str, str] = {}
    request = urllib.request.Request(
        f"{sim_url}/_sim/authcode",
        data=json.dumps({"corp_id": DEMO_CORP_ID, "userid": "user001"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        code = json.loads(response.read())["code"]
    gate_path = f"/10001/gate/{app_id}"
    status, answer = _call(
        f"{server_url}/10001/signin/code", cookies, {"code": code, "next": gate_path}
    )
    assert status == 200, answer
    status, to_gate = _call(server_url + json.loads(answer)["next"], cookies)
    status, to_app = _call(server_url + to_gate, cookies)
    callback = urlsplit(to_app)
    assert callback.path == "/_dingbridge/callback", to_app
    status, back = _call(f"{server_url}{callback.path}?{callback.query}", cookies)
    assert status == 303 and back == APP_URL, (status, back)
    name = f"_dingbridge_gate_{app_id}"
    return name, cookies[name]


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


WRK_TOTAL = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b")
UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk(url: str, pid: int, seconds: float, connections: int, header: str = "") -> dict[str, float]:
    command = ["wrk", "--threads", "1", "--connections", str(connections)]
    command += ["--duration", f"{seconds:g}s", *(["--header", header] if header else []), url]
    before = cpu_seconds(pid)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pid) - before
    total = WRK_TOTAL.search(output)
    if total is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    if "Non-2xx" in output or "Socket errors" in output:
        raise SystemExit(f"wrong answers or errors from {url}; the figures do not count:\n{output}")
    requests = int(total.group(1))
    elapsed = float(total.group(2)) * UNIT[total.group(3)]
    return {"rate": requests / elapsed, "cpu_ms": cpu / requests * 1000, "busy": cpu / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8, help="length of each phase")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="dingbridge-bench-gate-"))
    sim_port, server_port, bare_port = free_port(), free_port(), free_port()
    sim_url, server_url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{server_port}"
    bare_url = f"http://127.0.0.1:{bare_port}/"
    settings = Settings(
        data_dir=folder,
        development=True,
        dingtalk_api=sim_url,
        dingtalk_oapi=sim_url,
        dingtalk_login=sim_url,
    )
    app_id = asyncio.run(prepare(settings))
    env = {
        **os.environ,
        "DINGBRIDGE_DATA_DIR": str(folder),
        "DINGBRIDGE_DEVELOPMENT": "1",
        "DINGBRIDGE_DINGTALK_API": sim_url,
        "DINGBRIDGE_DINGTALK_OAPI": sim_url,
        "DINGBRIDGE_DINGTALK_LOGIN": sim_url,
    }

    def start(*command: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        quiet = subprocess.DEVNULL
        return subprocess.Popen(command, env=env, stdout=quiet, stderr=quiet, cwd=ROOT)

    processes = {
        "sim": start(sys.executable, "-m", "dingbridge", "sim", "--port", str(sim_port)),
        "server": start(
            sys.executable, "-m", "dingbridge", "serve", "--port", str(server_port), env=env
        ),
        "bare": start(sys.executable, "-c", BARE_APP, str(bare_port)),
    }
    load_before = os.getloadavg()[0]
    try:
        wait_up(f"{sim_url}/_sim/settings")
        wait_up(f"{server_url}/healthz")
        wait_up(bare_url)
        name, value = gate_cookie(sim_url, server_url, app_id)
        check_url = f"{server_url}/_dingbridge/auth/10001/{app_id}"
        cookie = f"Cookie: {name}={value}"
        server, bare = processes["server"].pid, processes["bare"].pid
        wrk(bare_url, bare, 1, args.connections)  # warm up
        wrk(check_url, server, 1, args.connections, cookie)
        results = [
            ("bare FastAPI GET / (before)", wrk(bare_url, bare, args.seconds, args.connections)),
            (
                "forward-auth check (signed in, 200)",
                wrk(check_url, server, args.seconds, args.connections, cookie),
            ),
            ("bare FastAPI GET / (after)", wrk(bare_url, bare, args.seconds, args.connections)),
        ]
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(10)
    bare_rate = (results[0][1]["rate"] + results[2][1]["rate"]) / 2
    bare_ms = (results[0][1]["cpu_ms"] + results[2][1]["cpu_ms"]) / 2
    print(
        f"CPU cores: {os.cpu_count()}; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after; wrk 1 thread, {args.connections} connections, "
        f"{args.seconds:g} s per phase; one KV read per check (in-process KV)"
    )
    print(f"  {'':38s} {'per s':>7s} {'vs bare':>8s}   {'CPU/request':>11s} {'vs bare':>8s}  busy")
    for label, figures in results:
        print(
            f"  {label:38s} {figures['rate']:7.0f} {figures['rate'] / bare_rate:8.2f}"
            f"   {figures['cpu_ms']:8.3f} ms {figures['cpu_ms'] / bare_ms:7.1f}x"
            f"  {figures['busy']:4.0%}"
        )
    ratio = results[1][1]["rate"] / bare_rate
    print(f"forward-auth checks per second / bare endpoint: {ratio:.2f} (goal >= 0.5)")


if __name__ == "__main__":
    main()
