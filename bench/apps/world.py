"""What the apps benchmarks share (``run.py`` measures; this module builds its world): free
ports, the prepared data folder (space 10001, 张伟 bound, a forward-auth app), the simulator,
the server and a bare app as separate processes, 张伟's in-client sign-in through the gate's
sign-in step, and wrk driving with the server's CPU time per request from /proc (Linux)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
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


def sign_in(sim_url: str, server_url: str, app_id: int) -> dict[str, str]:
    """张伟 signs in in-client and passes the gate's sign-in step: the cookies (the member's
    session and the gate cookie ``_dingbridge_gate_{app_id}``)."""
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
    _status, to_gate = _call(server_url + json.loads(answer)["next"], cookies)
    _status, to_app = _call(server_url + to_gate, cookies)
    callback = urlsplit(to_app)
    assert callback.path == "/_dingbridge/callback", to_app
    status, back = _call(f"{server_url}{callback.path}?{callback.query}", cookies)
    assert status == 303 and back == APP_URL, (status, back)
    return cookies


def start_servers(
    folder: Path, sim_port: int, server_port: int, bare_port: int, bare_app: str
) -> dict[str, subprocess.Popen[bytes]]:
    """The simulator, ``dingbridge serve`` on ``folder`` (pointed at the simulator) and the bare
    app (``bare_app``, Python source taking its port as argv[1]), each its own process."""
    sim_url = f"http://127.0.0.1:{sim_port}"
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

    return {
        "sim": start(sys.executable, "-m", "dingbridge", "sim", "--port", str(sim_port)),
        "server": start(
            sys.executable, "-m", "dingbridge", "serve", "--port", str(server_port), env=env
        ),
        "bare": start(sys.executable, "-c", bare_app, str(bare_port)),
    }


def stop_servers(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        process.terminate()
    for process in processes.values():
        process.wait(10)


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
