"""Real processes for the multi-instance test and ``bench/scale``: the simulator as DingTalk,
N ``dingbridge serve`` processes on one database and one Redis (their own key prefix), and
nginx in front (``nginx -p DIR -c FILE``): one port balancing over every instance, and one
port per instance (still through nginx) to put a request on a chosen instance.

The space 10001 is set up for the simulator's FULL_APP with USERS as members; those in
``bound`` are already bound (the others bind through the pages).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dingbridge.settings import Settings
from dingbridge.sim.defaults import DEMO_CORP_ID, DEMO_CORP_NAME, FULL_APP

NGINX = "/usr/sbin/nginx"
ROOT = Path(__file__).resolve().parents[2]
USERS = [f"user{n:03d}" for n in range(1, 22)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def nginx_conf(listen: int, per_instance: Sequence[int], instances: Sequence[int]) -> str:
    """Round robin over ``instances`` on ``listen``; ``per_instance[i]`` reaches instance i.
    Forwarded headers as docs/deploy.md shows them."""
    proxy = (
        'proxy_http_version 1.1; proxy_set_header Connection ""; '
        "proxy_set_header Host $http_host; "
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; "
        "proxy_set_header X-Forwarded-Proto $scheme;"
    )
    lines = [
        "worker_processes 1;",
        "worker_rlimit_nofile 16384;",
        "pid nginx.pid;",
        "error_log error.log warn;",
        "events { worker_connections 4096; }",
        "http {",
        "  access_log off;",
        "  client_body_temp_path client_body_temp; proxy_temp_path proxy_temp;",
        "  fastcgi_temp_path fastcgi_temp; uwsgi_temp_path uwsgi_temp; scgi_temp_path scgi_temp;",
        "  upstream dingbridge {",
        *(f"    server 127.0.0.1:{port};" for port in instances),
        "    keepalive 64;",
        "  }",
    ]
    for index, port in enumerate(instances):
        lines += [f"  upstream instance{index} {{ server 127.0.0.1:{port}; keepalive 16; }}"]
    balanced = f"location / {{ proxy_pass http://dingbridge; {proxy} }}"
    lines += [f"  server {{ listen 127.0.0.1:{listen}; {balanced} }}"]
    for index, port in enumerate(per_instance):
        lines += [
            f"  server {{ listen 127.0.0.1:{port}; "
            f"location / {{ proxy_pass http://instance{index}; {proxy} }} }}"
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


@dataclass
class Cluster:
    sim: str
    balanced: str
    """nginx, round robin over every instance."""
    via: list[str]
    """nginx, one port per instance: ``via[0]`` is instance A, ``via[1]`` B."""
    direct: list[str]
    """Each instance without nginx (its development outbox, its /metrics)."""
    settings: Settings
    env: dict[str, str]
    pids: dict[str, int] = field(default_factory=dict)


async def prepare(settings: Settings, bound: Sequence[str]) -> None:
    """Space 10001 for FULL_APP, USERS as members, those in ``bound`` bound."""
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
        space = await create_space(session, "示例空间", actor="test")
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
            actor="test",
        )
        session.add(SpaceApp(space_id=space.id, title="报销", url="/x", position=1))
        for userid in USERS:
            user = sim.corps[DEMO_CORP_ID].users[userid]
            member = await add_member(
                session, space.id, MemberInput(user.name, user.mobile), actor="test"
            )
            if userid in bound:
                identity = DingTalkIdentity(DEMO_CORP_ID, userid, user.unionid, user.name)
                await bind(session, space.id, identity, member, how="test")
    await db.dispose()


@contextlib.contextmanager
def running_cluster(
    folder: Path,
    *,
    instances: int,
    database_url: str,
    kv_url: str | None,
    bound: Sequence[str] = (),
    extra_env: dict[str, str] | None = None,
    nginx_in_front: bool = True,
    log_level: str = "WARNING",
) -> Iterator[Cluster]:
    """Start everything, yield the addresses, stop everything (processes we started only).
    ``kv_url`` may carry the key prefix (``redis://host/15?prefix=…``)."""
    import asyncio

    if sys.platform != "win32":  # many connections at once: the servers get the hard limit
        import resource

        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    folder.mkdir(parents=True, exist_ok=True)
    sim_port = free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    secret_key = secrets.token_urlsafe(32)
    settings = Settings(
        data_dir=folder,
        database_url=database_url,
        kv_url=kv_url,
        secret_key=secret_key,
        development=True,
        dingtalk_api=sim_url,
        dingtalk_oapi=sim_url,
        dingtalk_login=sim_url,
    )
    asyncio.run(prepare(settings, bound))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINGBRIDGE_")}
    env.update(
        {
            "DINGBRIDGE_DATA_DIR": str(folder),
            "DINGBRIDGE_DATABASE_URL": database_url,
            "DINGBRIDGE_SECRET_KEY": secret_key,
            "DINGBRIDGE_DEVELOPMENT": "1",
            "DINGBRIDGE_DINGTALK_API": sim_url,
            "DINGBRIDGE_DINGTALK_OAPI": sim_url,
            "DINGBRIDGE_DINGTALK_LOGIN": sim_url,
            "DINGBRIDGE_LOG_LEVEL": log_level,
            "DINGBRIDGE_MIGRATE_ON_START": "0",
            **({"DINGBRIDGE_KV_URL": kv_url} if kv_url else {}),
            **(extra_env or {}),
        }
    )
    ports = [free_port() for _ in range(instances)]
    listen = free_port()
    per_instance = [free_port() for _ in ports]
    if nginx_in_front:  # one issuer and one address for every instance, as in production
        env["DINGBRIDGE_EXTERNAL_URL"] = f"http://127.0.0.1:{listen}"
    processes: dict[str, subprocess.Popen[bytes]] = {}
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)

    def start(name: str, *command: str) -> None:
        with (logs / f"{name}.log").open("wb") as out:
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", "dingbridge", *command],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    try:
        start("sim", "sim", "--port", str(sim_port))
        for index, port in enumerate(ports):
            start(f"server{index}", "serve", "--port", str(port))
        wait_up(f"{sim_url}/_sim/settings", processes["sim"])
        for index, port in enumerate(ports):
            wait_up(f"http://127.0.0.1:{port}/healthz", processes[f"server{index}"])
        direct = [f"http://127.0.0.1:{port}" for port in ports]
        balanced, via = direct[0], list(direct)
        if nginx_in_front:
            prefix = folder / "nginx"
            prefix.mkdir(exist_ok=True)
            (prefix / "nginx.conf").write_text(nginx_conf(listen, per_instance, ports))
            processes["nginx"] = subprocess.Popen(
                [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            balanced = f"http://127.0.0.1:{listen}"
            via = [f"http://127.0.0.1:{port}" for port in per_instance]
            wait_up(f"{balanced}/healthz", processes["nginx"])
            for url in via:
                wait_up(f"{url}/healthz", processes["nginx"])
        yield Cluster(
            sim_url,
            balanced,
            via,
            direct,
            settings,
            env,
            {name: process.pid for name, process in processes.items()},
        )
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
