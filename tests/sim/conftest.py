"""Fixtures for the simulator tests (sim_state, sim_app, sim_server live in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

from dingbridge.sim.defaults import FULL_APP, DemoApp
from tests.sim.asgi_call import Answer, call


async def app_token(app: Any, demo: DemoApp, peer: str = "127.0.0.1") -> str:
    answer = await call(
        app,
        "GET",
        "/gettoken",
        query={"appkey": demo.app_key, "appsecret": demo.app_secret},
        peer=peer,
    )
    body = answer.json()
    assert body["errcode"] == 0, body
    return str(body["access_token"])


async def topapi(
    app: Any, path: str, token: str, body: dict[str, Any], peer: str = "127.0.0.1"
) -> dict[str, Any]:
    answer = await call(app, "POST", path, query={"access_token": token}, json=body, peer=peer)
    assert answer.status == 200
    result: dict[str, Any] = answer.json()
    return result


async def user_token(app: Any, code: str, demo: DemoApp = FULL_APP) -> Answer:
    """``POST /v1.0/oauth2/userAccessToken`` exchanging an OAuth ``code``."""
    return await _user_access_token(app, demo, code=code, grantType="authorization_code")


async def refresh_user_token(app: Any, refresh_token: str, demo: DemoApp = FULL_APP) -> Answer:
    """``POST /v1.0/oauth2/userAccessToken`` with a refresh token."""
    return await _user_access_token(
        app, demo, refreshToken=refresh_token, grantType="refresh_token"
    )


async def _user_access_token(app: Any, demo: DemoApp, **grant: str) -> Answer:
    body = {"clientId": demo.app_key, "clientSecret": demo.app_secret, **grant}
    return await call(app, "POST", "/v1.0/oauth2/userAccessToken", json=body)


async def users_me(app: Any, user_access_token: str) -> Answer:
    """``GET /v1.0/contact/users/me`` with a user access token."""
    return await call(
        app,
        "GET",
        "/v1.0/contact/users/me",
        headers={"x-acs-dingtalk-access-token": user_access_token},
    )
