"""Sign-ins per second and signed-in page views per second, each next to a bare endpoint.

Three servers on this machine, each uvicorn with uvloop + httptools, one worker:
- the DingTalk simulator (``dingbridge sim``, QPS limit off);
- the server (``dingbridge serve``, SQLite, in-process KV, development mode, log level INFO as
  by default: one access-log line per request, to /dev/null), space 10001 configured for the
  simulator's FULL_APP, members user001…user018 already bound;
- a bare FastAPI app with one route returning a small HTML page (the framework's floor).

The load comes from other processes, so the generator's own work is not the server's:
1. the bare endpoint, ``GET /`` with wrk (C, one thread, ``--connections`` open);
2. returning in-client sign-ins with ``signin_driver.py`` (aiohttp, its own process):
   ``POST /10001/signin/code`` with a fresh 免登 code (issued beforehand through the
   simulator's control API; one DingTalk call each, the app token cached) and ``GET`` of the
   ticket URL it answers, which sets the session cookie; wrk cannot chain the two requests;
3. signed-in page views, ``GET /10001/`` with wrk and ``page_views.lua``: the cookies of
   phase 2, round robin; every answer must be 200 with the space home, or the run fails;
4. the bare endpoint again (the machine's noise shows in the two bare figures).

Besides requests per second it prints the CPU time each process spent per operation (from
/proc, Linux only): on a shared machine that is steadier than the rate, and it shows whether
the server or the load generator was the bottleneck ("server busy" near 100 % = one core).

Usage:  .venv/bin/python bench/signin/run.py [--seconds 8] [--signins 1500] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux /proc); 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Phase:
    name: str
    ops: int
    seconds: float
    wrong: int
    server_cpu: float
    generator_cpu: float
    other_cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ops / self.seconds

    def ms_per_op(self, cpu: float) -> float:
        return cpu / self.ops * 1000


class Measured:
    """Runs a load generator to completion, with the CPU of the watched processes."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def run(self, command: list[str]) -> tuple[str, dict[str, float]]:
        before = {label: cpu_seconds(pid) for label, pid in self.pids.items()}
        generator_before = children_cpu()
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
        used = {label: cpu_seconds(pid) - before[label] for label, pid in self.pids.items()}
        used["generator"] = children_cpu() - generator_before
        return done.stdout, used


WRK_TOTAL = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b")
UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk_phase(
    meter: Measured,
    name: str,
    server: str,
    url: str,
    seconds: float,
    connections: int,
    lua_args: list[str],
) -> Phase:
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds:g}s",
        "--script",
        str(HERE / "page_views.lua"),
        url,
        "--",
        *lua_args,
    ]
    output, used = meter.run(command)
    total = WRK_TOTAL.search(output)
    wrong = re.search(r"WRONG_ANSWERS (\d+)", output)
    if total is None or wrong is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return Phase(
        name,
        int(total.group(1)),
        float(total.group(2)) * UNIT[total.group(3)],
        int(wrong.group(1)),
        used[server],
        used["generator"],
    )


def signin_phase(
    meter: Measured, name: str, server_url: str, codes: Path, cookies: Path, concurrency: int
) -> Phase:
    command = [
        sys.executable,
        str(HERE / "signin_driver.py"),
        server_url,
        str(codes),
        str(cookies),
        "--concurrency",
        str(concurrency),
    ]
    output, used = meter.run(command)
    result = json.loads(output.strip().splitlines()[-1])
    return Phase(
        name,
        result["done"],
        result["seconds"],
        result["errors"],
        used["server"],
        used["generator"],
        {"sim": used["sim"]},
    )


def report(phases: list[Phase], args: argparse.Namespace, loads: tuple[str, str]) -> None:
    bares = [p for p in phases if p.name.startswith("bare")]
    bare_rate = sum(p.rate for p in bares) / len(bares)
    bare_ms = sum(p.ms_per_op(p.server_cpu) for p in bares) / len(bares)
    print(
        f"CPU cores: {os.cpu_count()}; load average {loads[0]} before, {loads[1]} after; "
        f"wrk 1 thread {args.connections} connections {args.seconds:g} s per GET phase; "
        f"{args.signins} sign-ins, {args.connections} in flight (aiohttp process)"
    )
    print(
        f"  {'':40s} {'per s':>7s} {'vs bare':>8s}   {'server CPU/op':>13s} {'vs bare':>8s}"
        f"   {'server busy':>11s}   {'load gen CPU/op':>15s}"
    )
    for phase in phases:
        server_ms = phase.ms_per_op(phase.server_cpu)
        extra = "".join(
            f"   + {label} {phase.ms_per_op(cpu):.3f} ms/op"
            for label, cpu in phase.other_cpu.items()
        )
        print(
            f"  {phase.name:40s} {phase.rate:7.0f} {phase.rate / bare_rate:8.1%}"
            f"   {server_ms:10.3f} ms {server_ms / bare_ms:7.1f}x"
            f"   {phase.server_cpu / phase.seconds:10.0%}"
            f"   {phase.ms_per_op(phase.generator_cpu):12.3f} ms{extra}"
        )
    wrong = sum(p.wrong for p in phases)
    if wrong:
        raise SystemExit(f"{wrong} wrong answers: the figures above do not count")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8, help="length of each GET phase")
    parser.add_argument("--signins", type=int, default=1500)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--log-level", default="INFO", help="the server's (default: INFO)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="dingbridge-bench-"))
    sim_port, server_port, bare_port = free_port(), free_port(), free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    server_url = f"http://127.0.0.1:{server_port}"
    bare_url = f"http://127.0.0.1:{bare_port}/"
    settings = Settings(
        data_dir=folder,
        development=True,
        dingtalk_api=sim_url,
        dingtalk_oapi=sim_url,
        dingtalk_login=sim_url,
        log_level=args.log_level,
    )
    asyncio.run(prepare(settings))
    env = {
        **os.environ,
        "DINGBRIDGE_DATA_DIR": str(folder),
        "DINGBRIDGE_DEVELOPMENT": "1",
        "DINGBRIDGE_DINGTALK_API": sim_url,
        "DINGBRIDGE_DINGTALK_OAPI": sim_url,
        "DINGBRIDGE_DINGTALK_LOGIN": sim_url,
        "DINGBRIDGE_LOG_LEVEL": args.log_level,
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
    loads = [f"{os.getloadavg()[0]:.1f}"]
    try:
        wait_up(f"{sim_url}/_sim/settings")
        wait_up(f"{server_url}/healthz")
        wait_up(bare_url)
        request = urllib.request.Request(
            f"{sim_url}/_sim/settings",
            data=b'{"qps_limit": 0}',
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=5).close()
        meter = Measured({name: process.pid for name, process in processes.items()})
        codes_file, cookies_file = folder / "codes.txt", folder / "cookies.txt"
        # warm up: the app token, the database, the templates, the caches
        codes_file.write_text("\n".join(asyncio.run(issue_codes(sim_url, 40))))
        signin_phase(meter, "warm-up", server_url, codes_file, cookies_file, 4)
        wrk_phase(meter, "warm-up", "bare", bare_url, 1, args.connections, [])
        wrk_phase(
            meter,
            "warm-up",
            "server",
            f"{server_url}/10001/",
            1,
            args.connections,
            [str(cookies_file), "/10001/"],
        )
        codes_file.write_text("\n".join(asyncio.run(issue_codes(sim_url, args.signins))))
        phases = [
            wrk_phase(
                meter,
                "bare FastAPI GET / (before)",
                "bare",
                bare_url,
                args.seconds,
                args.connections,
                [],
            ),
            signin_phase(
                meter,
                "returning in-client sign-in (2 requests)",
                server_url,
                codes_file,
                cookies_file,
                args.connections,
            ),
            wrk_phase(
                meter,
                "signed-in page view GET /10001/",
                "server",
                f"{server_url}/10001/",
                args.seconds,
                args.connections,
                [str(cookies_file), "/10001/"],
            ),
            wrk_phase(
                meter,
                "bare FastAPI GET / (after)",
                "bare",
                bare_url,
                args.seconds,
                args.connections,
                [],
            ),
        ]
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(10)
    loads.append(f"{os.getloadavg()[0]:.1f}")
    report(phases, args, (loads[0], loads[1]))


if __name__ == "__main__":
    main()
