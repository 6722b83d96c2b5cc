"""``dingbridge demo``: the server, the DingTalk simulator and a forwarder in one process, wired
like the vendor guide's topology, with a demo corp and demo spaces ready to walk every sign-in flow.

- The simulator (port P+1) plays DingTalk: its ``WHITELIST_APP`` accepts API calls only from
  127.0.0.2, the "whitelisted machine".
- The forwarder (port P+2) binds its outgoing connections to 127.0.0.2 and forwards
  ``/api-dingtalk-com/`` and ``/oapi-dingtalk-com/`` to the simulator (the vendor guide's step 1).
- The server (port P, development mode, console SMS sender, SQLite in a temporary folder
  unless ``data_dir`` is given): space 10001 uses ``WHITELIST_APP`` (V2) through the forwarder
  (钉钉API转发地址 ``http://127.0.0.1:P+2/api-dingtalk-com/``); space 10002 is a legacy V1 app
  called directly. The demo corp's users are the spaces' members (except 罗霞 user020, to
  try an unknown person; 林峰 user019 is disabled). DingTalk shows no mobile for 罗霞, so the
  console's directory import (从钉钉通讯录导入) leaves her out too and reports why.

Everything runs on one asyncio loop; Ctrl-C (or cancelling :func:`run_demo`) stops all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import signal
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.app import create_app
from dingbridge.sample_app import SampleAppConfig, create_sample_app
from dingbridge.server_runner import PortInUse, listening_socket
from dingbridge.settings import Settings
from dingbridge.sim import SimState
from dingbridge.sim import create_app as create_sim
from dingbridge.sim.defaults import DEMO_CORP_ID, DEMO_CORP_NAME, FULL_APP, WHITELIST_APP
from dingbridge.storage import migrate
from dingbridge.storage.db import Database
from dingbridge.storage.models import SpaceApp

log = logging.getLogger(__name__)

ADMIN_USERNAME = "admin"
NOT_A_MEMBER = "user020"
DISABLED_MEMBER = "user019"
WHITELISTED_SOURCE = "127.0.0.2"
_ON: Literal["on"] = "on"
_OFF: Literal["off"] = "off"


SAMPLE_APP_TITLE = "示例应用"


@dataclass(frozen=True)
class DemoUrls:
    server: str
    sim: str
    forwarder: str
    admin_password: str
    data_dir: Path
    sample: str = ""
    """The sample app (an OpenID Connect client of space 10001), served on its own port."""

    @property
    def admin(self) -> str:
        return f"{self.server}/admin/"

    @property
    def space(self) -> str:
        return f"{self.server}/10001/"

    @property
    def v1_space(self) -> str:
        return f"{self.server}/10002/"

    @property
    def outbox(self) -> str:
        return f"{self.server}/_dev/outbox"

    def open_in_dingtalk(self, userid: str, space_url: str | None = None) -> str:
        target = quote(space_url or self.space, safe="")
        return f"{self.sim}/_sim/open?userid={userid}&url={target}"

    def banner(self) -> str:
        return "\n".join(
            [
                "",
                "dingbridge demo 已启动 / is running  (Ctrl-C 停止 / to stop)",
                "",
                f"  管理控制台 Admin console:     {self.admin}",
                f"      用户名/密码 user/password: {ADMIN_USERNAME} / {self.admin_password}",
                f"  在钉钉中打开 (张伟 user001):  {self.open_in_dingtalk('user001')}",
                f"  PC 浏览器 PC browser:         {self.space}",
                f"  示例应用 Sample app (OIDC):   {self.sample}/",
                f"      在钉钉中打开 (张伟):       "
                f"{self.open_in_dingtalk('user001', self.sample + '/')}",
                f"  短信发件箱 SMS outbox:        {self.outbox}",
                f"  V1 旧版应用空间 V1 space:      {self.v1_space}",
                f"      在钉钉中打开 (李娜):       "
                f"{self.open_in_dingtalk('user003', self.v1_space)}",
                f"  钉钉模拟器 Simulator:         {self.sim}/_sim/",
                f"  转发服务 Forwarder:           {self.forwarder}/ "
                f"(出口 source {WHITELISTED_SOURCE})",
                "",
                "  也可试试 Try: another user (user002…user018), 罗霞 user020 (not a member),",
                f"  林峰 user019 (disabled), another corp's 王芳 other001. Data: {self.data_dir}",
                "",
            ]
        )


def _demo_password(folder: Path) -> str:
    """The demo admin's password: made at the first run, kept in the data folder so a kept
    ``--data-dir`` prints the right one again."""
    path = folder / "demo-admin-password.txt"
    if path.exists():
        return path.read_text("utf-8").strip()
    folder.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(9)
    path.write_text(password + "\n", "utf-8")
    path.chmod(0o600)
    return password


def _free_port(host: str, preferred: int) -> int:
    """``preferred`` when it can be listened on, else a free port. The probe sets
    ``SO_REUSEADDR`` as the real listener does, so a port whose connections from the last run
    linger in TIME_WAIT counts as free (a quick restart keeps its URLs)."""
    for port in (preferred, 0):
        try:
            probe = listening_socket(host, port)
        except PortInUse:
            continue
        with probe:
            return int(probe.getsockname()[1])
    raise OSError("no free port")


def _socket_near(host: str, preferred: int) -> socket.socket:
    """A listening socket on ``preferred``, or on a free port when that one is taken."""
    try:
        return listening_socket(host, preferred)
    except PortInUse:
        return listening_socket(host, 0)


def demo_sim_state() -> SimState:
    """The simulator's demo world, with 罗霞 (the demo's person who is no member) showing no
    mobile to apps: a directory import cannot make her a member, it lists her as skipped."""
    sim = SimState.default()
    sim.corps[DEMO_CORP_ID].users[NOT_A_MEMBER].mobile = ""
    return sim


async def prepare_database(
    settings: Settings,
    sim: SimState,
    forwarder_url: str,
    admin_password: str,
    sample_url: str = "",
) -> tuple[str, str]:
    """Admin, spaces 10001 (V2 via the forwarder) and 10002 (V1), members from the directory,
    and the sample app as an OIDC client of 10001: its client id and (new) secret."""
    from dingbridge.accounts.admins import create_admin
    from dingbridge.settings import secret_keys
    from dingbridge.signin.binding_flow import set_policy
    from dingbridge.spaces.dingtalk_settings import DingTalkInput, patch_dingtalk, save_dingtalk
    from dingbridge.spaces.event_settings import save_event_settings
    from dingbridge.spaces.secret_box import SecretBox
    from dingbridge.spaces.store import create_space, find_space

    await asyncio.to_thread(migrate.upgrade, settings.effective_database_url)
    box = SecretBox(secret_keys(settings))
    db = Database(settings.effective_database_url)
    try:
        async with db.transaction() as session:
            if await find_space(session, 10001) is not None:
                # A kept data folder: already set up; point 10001 at this run's forwarder.
                await patch_dingtalk(
                    session, box, 10001, {"forward_url": forwarder_url}, actor="demo"
                )
                return await _register_sample_app(session, sample_url)
            await create_admin(session, ADMIN_USERNAME, admin_password, actor="demo")
            spaces = (
                ("示例科技 · 应用空间", WHITELIST_APP, "v2", forwarder_url),
                ("示例科技 · 旧版应用 (V1)", FULL_APP, "v1", ""),
            )
            for name, app, version, forward in spaces:
                space = await create_space(session, name, actor="demo")
                await save_dingtalk(
                    session,
                    box,
                    space.id,
                    DingTalkInput(
                        enabled=True,
                        corp_name=DEMO_CORP_NAME,
                        corp_id=DEMO_CORP_ID,
                        agent_id=str(app.agent_id),
                        app_key=app.app_key,
                        app_secret=app.app_secret,
                        api_version=version,
                        forward_url=forward,
                    ),
                    actor="demo",
                )
                await set_policy(session, space.id, "sms", actor="demo")
                if space.id == 10001:  # people who leave lose access at once (Stream mode)
                    await save_event_settings(session, box, space.id, mode="stream", actor="demo")
                await _import_directory(session, space.id, sim)
                await _add_apps(session, space.id, settings)
            return await _register_sample_app(session, sample_url)
    finally:
        await db.dispose()


async def _register_sample_app(session: AsyncSession, sample_url: str) -> tuple[str, str]:
    """The sample app as an OIDC client of 10001 (with back-channel logout); a fresh secret
    each run (only its hash is stored, so a kept data folder cannot give the old one back)."""
    from sqlalchemy import select

    from dingbridge.spaces.app_access import hash_client_secret, new_client_id, new_client_secret

    app = await session.scalar(
        select(SpaceApp).where(SpaceApp.space_id == 10001, SpaceApp.title == SAMPLE_APP_TITLE)
    )
    if app is None:
        app = SpaceApp(space_id=10001, title=SAMPLE_APP_TITLE, position=0, kind="oidc")
        app.client_id = new_client_id()
        session.add(app)
    secret = new_client_secret()
    app.url = f"{sample_url}/"
    app.client_secret_hash = hash_client_secret(secret)
    app.redirect_uris = [f"{sample_url}/callback"]
    app.post_logout_redirect_uris = [f"{sample_url}/signed-out"]
    app.backchannel_logout_uri = f"{sample_url}/backchannel-logout"
    assert app.client_id is not None
    return app.client_id, secret


async def _import_directory(session: AsyncSession, space_id: int, sim: SimState) -> None:
    from dingbridge.spaces.members import MemberInput, add_member

    for user in sim.corps[DEMO_CORP_ID].users.values():
        if user.userid == NOT_A_MEMBER or not user.mobile:
            continue
        status = "disabled" if user.userid == DISABLED_MEMBER else "active"
        await add_member(
            session,
            space_id,
            MemberInput(name=user.name, mobile=user.mobile, email=user.email, status=status),
            actor="demo",
        )


async def _add_apps(session: AsyncSession, space_id: int, settings: Settings) -> None:
    for position, (title, url) in enumerate(
        [("短信发件箱（开发）", "/_dev/outbox"), ("管理控制台", "/admin/")], start=1
    ):
        session.add(SpaceApp(space_id=space_id, title=title, url=url, position=position))


async def run_demo(
    port: int = 8000,
    *,
    host: str = "127.0.0.1",
    data_dir: Path | None = None,
    echo: Callable[[str], None] = print,
    started: Callable[[DemoUrls], None] | None = None,
) -> None:
    """Run until cancelled (Ctrl-C). ``started`` is called with the URLs once all listen."""
    from dingbridge.forwarder.server import Forwarder
    from dingbridge.forwarder.settings import ForwarderSettings

    # The sockets first: a busy port is reported (PortInUse) before any file is written.
    server_sock = listening_socket(host, port)
    port = int(server_sock.getsockname()[1])
    try:
        sim_sock = _socket_near(host, port + 1)
        forwarder_port = _free_port(host, port + 2)
        sample_sock = _socket_near(host, port + 3)
    except BaseException:
        server_sock.close()
        raise
    sim_port = int(sim_sock.getsockname()[1])
    sample_port = int(sample_sock.getsockname()[1])
    sample_url = f"http://{host}:{sample_port}"
    temporary = data_dir is None
    folder = Path(tempfile.mkdtemp(prefix="dingbridge-demo-")) if data_dir is None else data_dir
    server_url = f"http://{host}:{port}"
    sim_url = f"http://{host}:{sim_port}"
    forwarder_url = f"http://{host}:{forwarder_port}"
    settings = Settings(
        host=host,
        port=port,
        data_dir=folder,
        development=True,
        external_url=server_url,
        dingtalk_api=sim_url,
        dingtalk_oapi=sim_url,
        dingtalk_login=sim_url,
        jsapi_url=f"{sim_url}/_sim/jsapi/dingtalk.open.js",
    )
    sim = demo_sim_state()
    try:
        admin_password = _demo_password(folder)
        client_id, client_secret = await prepare_database(
            settings, sim, f"{forwarder_url}/api-dingtalk-com/", admin_password, sample_url
        )
        sample_app = create_sample_app(
            SampleAppConfig(
                issuer=f"{server_url}/10001",
                client_id=client_id,
                client_secret=client_secret,
                base_url=sample_url,
            )
        )
        forwarder = Forwarder(
            ForwarderSettings(
                listen=f"{host}:{forwarder_port}",
                oapi=sim_url,
                api=sim_url,
                source_address=WHITELISTED_SOURCE,
            )
        )
        await forwarder.start()
        servers = [
            uvicorn.Server(
                uvicorn.Config(
                    app,
                    log_level="warning",
                    access_log=False,
                    lifespan=lifespan,
                    server_header=False,
                    timeout_graceful_shutdown=1,
                )
            )
            for app, lifespan in (
                (create_app(settings, announce=echo), _ON),
                (create_sim(sim), _OFF),
                (sample_app, _OFF),
            )
        ]
        # One Ctrl-C stops everything: the signal handlers are ours, not each server's.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        handled: list[signal.Signals] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
                handled.append(sig)
        tasks = [
            asyncio.create_task(servers[0]._serve(sockets=[server_sock])),
            asyncio.create_task(servers[1]._serve(sockets=[sim_sock])),
            asyncio.create_task(servers[2]._serve(sockets=[sample_sock])),
        ]
        stopper = asyncio.create_task(stop.wait())
        try:
            # uvicorn offers only a `started` flag to wait on
            while not all(s.started for s in servers) and not any(t.done() for t in tasks):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            if all(s.started for s in servers):
                urls = DemoUrls(
                    server_url, sim_url, forwarder_url, admin_password, folder, sample_url
                )
                echo(urls.banner())
                if started is not None:
                    started(urls)
            await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)
            stopper.cancel()
            for server in servers:
                server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
            await forwarder.close()
    finally:
        server_sock.close()
        sim_sock.close()
        sample_sock.close()
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
