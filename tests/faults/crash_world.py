"""A real ``dingbridge serve`` process to kill: the simulator (a thread of the test) with 200
more users, one space whose policy binds by the DingTalk mobile, a member for each user, an
OpenID Connect app, and a load of users each signing in (a binding on the first visit), asking
the app's authorization and exchanging the code, over HTTP.

Used by ``tests/faults/test_crash_safety.py``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from dingbridge.app import create_app
from dingbridge.settings import Settings
from dingbridge.signin.binding_flow import set_policy
from dingbridge.sim import SimState
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP, default_fixture
from dingbridge.spaces.app_access import hash_client_secret, new_client_id, new_client_secret
from dingbridge.spaces.dingtalk_settings import DingTalkInput, save_dingtalk
from dingbridge.spaces.members import MemberInput, add_member
from dingbridge.spaces.store import create_space
from dingbridge.storage.models import SpaceApp
from tests.faults.private_services import free_port

USERS = 200
APP_CALLBACK = "http://app.test/callback"


def userid(n: int) -> str:
    return f"load{n:04d}"


def mobile(n: int) -> str:
    return f"137{n:08d}"


def load_fixture() -> dict[str, Any]:
    """The built-in world plus USERS users of the demo corp; no QPS limit (the load is ours)."""
    fixture = default_fixture()
    fixture.setdefault("settings", {})["qps_limit"] = 0
    corp = next(c for c in fixture["corps"] if c["corp_id"] == DEMO_CORP_ID)
    for n in range(USERS):
        corp["users"].append(
            {
                "userid": userid(n),
                "unionid": f"loadUnion{n:04d}x",
                "name": f"负载用户{n}",
                "mobile": mobile(n),
                "state_code": "86",
                "email": "",
                "dept_ids": [1],
                "active": True,
            }
        )
    return fixture


@dataclass
class OidcApp:
    client_id: str
    client_secret: str


async def prepare(settings: Settings) -> OidcApp:
    """The database of the server to come: migrated, one space, members, the app."""
    app = create_app(settings, announce=lambda _m: None)
    secret = new_client_secret()
    async with app.router.lifespan_context(app):
        context = app.state.context
        async with context.db.transaction() as session:
            space = await create_space(session, "负载空间", actor="test")
            await save_dingtalk(
                session,
                context.secret_box,
                space.id,
                DingTalkInput(
                    enabled=True,
                    corp_name="示例科技有限公司",
                    corp_id=DEMO_CORP_ID,
                    agent_id=str(FULL_APP.agent_id),
                    app_key=FULL_APP.app_key,
                    app_secret=FULL_APP.app_secret,
                    api_version="v2",
                ),
                actor="test",
            )
            await set_policy(session, space.id, "dingtalk_mobile", actor="test")
            for n in range(USERS):
                await add_member(
                    session, space.id, MemberInput(f"负载用户{n}", mobile(n)), actor="t"
                )
            row = SpaceApp(
                space_id=space.id,
                title="应用",
                url="http://app.test/",
                kind="oidc",
                access="all",
                client_id=new_client_id(),
                client_secret_hash=hash_client_secret(secret),
                public_client=False,
                redirect_uris=[APP_CALLBACK],
                post_logout_redirect_uris=[],
            )
            session.add(row)
            await session.flush()
            client_id = row.client_id or ""
    return OidcApp(client_id, secret)


@dataclass
class Server:
    """``python -m dingbridge serve`` with ``env``; :meth:`kill` is ``kill -9``."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, **self.env, "DINGBRIDGE_PORT": str(self.port)}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dingbridge", "serve"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"serve did not get ready: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Journey:
    """How far one user got: ``signed_in``, ``code`` (the app got a code), ``tokens``."""

    n: int
    stage: str = "start"
    error: str = ""


async def journey(
    server: str, sim: SimState, app: OidcApp, n: int, done: asyncio.Queue[int]
) -> Journey:
    """Sign in inside DingTalk (the first time: a binding by the DingTalk mobile), then the
    app's authorization request and the code exchange. Stops at the first failure."""
    trip = Journey(n)
    try:
        async with httpx.AsyncClient(base_url=server, timeout=30) as browser:
            code = sim.issue_authcode(DEMO_CORP_ID, userid(n))
            answer = await browser.post(
                "/10001/signin/code", json={"code": code, "next": "/10001/"}
            )
            if answer.status_code != 200:
                trip.error = f"signin {answer.status_code} {answer.text[:100]}"
                return trip
            landed = await browser.get(answer.json()["next"], follow_redirects=True)
            if "dingbridge_session" not in browser.cookies or landed.status_code != 200:
                trip.error = f"ticket {landed.status_code} {landed.url}"
                return trip
            trip.stage = "signed_in"
            verifier = secrets.token_urlsafe(48)
            digest = hashlib.sha256(verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            authorize = await browser.get(
                "/10001/oidc/authorize",
                params={
                    "client_id": app.client_id,
                    "redirect_uri": APP_CALLBACK,
                    "response_type": "code",
                    "scope": "openid profile",
                    "state": "s",
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                },
            )
            location = authorize.headers.get("location", "")
            if not location.startswith(APP_CALLBACK):
                trip.error = f"authorize {authorize.status_code} {location[:100]}"
                return trip
            got = parse_qs(urlsplit(location).query)["code"][0]
            trip.stage = "code"
            tokens = await browser.post(
                "/10001/oidc/token",
                data={
                    "grant_type": "authorization_code",
                    "code": got,
                    "redirect_uri": APP_CALLBACK,
                    "code_verifier": verifier,
                },
                auth=(app.client_id, app.client_secret),
            )
            if tokens.status_code != 200 or "access_token" not in tokens.json():
                trip.error = f"token {tokens.status_code} {tokens.text[:100]}"
                return trip
            trip.stage = "tokens"
    except httpx.HTTPError as exc:
        trip.error = f"{type(exc).__name__}"
    finally:
        done.put_nowait(n)
    return trip
