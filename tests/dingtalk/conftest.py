"""Fixtures for the DingTalk client tests: a tiny scripted DingTalk behind HandlerTransport."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dingbridge.dingtalk import DingTalkClient, Endpoints, HandlerTransport, Request, Response
from dingbridge.dingtalk.caller import RetryPolicy
from dingbridge.dingtalk.pacing import QpsRetry
from dingbridge.dingtalk.transport import json_response

APP_KEY = "dingunittest00000001"
APP_SECRET = "unit-secret-do-not-log"


class ScriptedDingTalk:
    """Answers token fetches itself; other paths answer from ``routes`` (path → fn or data)."""

    def __init__(self) -> None:
        self.token_fetches = 0
        self.token = "app-token-1"
        self.routes: dict[str, Callable[[Request], Response] | list[Response]] = {}

    def __call__(self, request: Request) -> Response:
        if request.path in ("/gettoken", "/v1.0/oauth2/accessToken"):
            self.token_fetches += 1
            if request.path == "/gettoken":
                return json_response(
                    {"errcode": 0, "access_token": self.token, "errmsg": "ok", "expires_in": 7200}
                )
            return json_response({"accessToken": self.token, "expireIn": 7200})
        route = self.routes.get(request.path)
        if route is None:
            return json_response({"errcode": 22, "errmsg": "Invalid method"})
        if isinstance(route, list):
            return route.pop(0) if len(route) > 1 else route[0]
        return route(request)

    def on(self, path: str, *answers: Response | dict[str, Any]) -> None:
        self.routes[path] = [a if isinstance(a, Response) else json_response(a) for a in answers]


@pytest.fixture
def fake() -> ScriptedDingTalk:
    return ScriptedDingTalk()


@pytest.fixture
def transport(fake: ScriptedDingTalk) -> HandlerTransport:
    return HandlerTransport(fake)


@pytest.fixture
def client(transport: HandlerTransport) -> DingTalkClient:
    return DingTalkClient(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        corp_id="dingcorpunittest",
        agent_id=123,
        endpoints=Endpoints.single_base("http://dingtalk.test"),
        transport=transport,
        retry=RetryPolicy(max_attempts=3, backoff=0.0),
    )


# --- against the simulator (fixtures sim_state / sim_app / sim_server from tests/conftest.py) ---

SIM_BASE = "http://sim.test"


class SimClients:
    """Build clients talking to the in-process simulator as a chosen peer IP."""

    def __init__(self, sim_app: Any) -> None:
        self.sim_app = sim_app
        self.made: list[DingTalkClient] = []

    def __call__(
        self,
        app: Any = None,
        *,
        peer: str = "127.0.0.1",
        api_version: str = "v2",
        app_secret: str | None = None,
        timeout: float = 5.0,
        qps_retry: QpsRetry | None = None,
    ) -> DingTalkClient:
        from dingbridge.dingtalk import ASGITransport
        from dingbridge.sim.defaults import FULL_APP

        app = app or FULL_APP
        client = DingTalkClient(
            app_key=app.app_key,
            app_secret=app_secret or app.app_secret,
            corp_id=app.corp_id,
            agent_id=app.agent_id,
            api_version=api_version,  # type: ignore[arg-type]
            endpoints=Endpoints.single_base(SIM_BASE),
            transport=ASGITransport(self.sim_app, client=(peer, 50000)),
            retry=RetryPolicy(max_attempts=3, backoff=0.0),
            timeout=timeout,
            qps_retry=qps_retry,
        )
        self.made.append(client)
        return client


@pytest.fixture
def sim_client(sim_app: Any) -> SimClients:
    return SimClients(sim_app)


def sim_paths(sim_state: Any, path: str) -> list[Any]:
    """Request-log entries for ``path``."""
    return [e for e in sim_state.request_log if e.path == path]
