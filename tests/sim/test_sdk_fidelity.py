"""Fidelity: the official DingTalk SDK (alibabacloud_dingtalk), pointed at the simulator by
changing only its endpoint, gets an app token, exchanges an OAuth code and reads users/me."""

from __future__ import annotations

import http.client
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from alibabacloud_dingtalk.contact_1_0 import models as contact_models  # type: ignore[import-untyped]
from alibabacloud_dingtalk.contact_1_0.client import Client as ContactClient  # type: ignore[import-untyped]
from alibabacloud_dingtalk.oauth2_1_0 import models as oauth_models  # type: ignore[import-untyped]
from alibabacloud_dingtalk.oauth2_1_0.client import Client as OAuthClient  # type: ignore[import-untyped]
from alibabacloud_tea_openapi import models as open_api_models  # type: ignore[import-untyped]
from alibabacloud_tea_util import models as util_models  # type: ignore[import-untyped]

from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP, NO_MOBILE_APP, default_fixture


def sdk_config(url: str) -> open_api_models.Config:
    return open_api_models.Config(protocol="http", region_id="central", endpoint=url.split("//")[1])


def oauth_code(url: str, userid: str, client_id: str = FULL_APP.app_key) -> str:
    """Walk the simulator's login page as a browser would (auto-pick ``userid``)."""
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": "http://127.0.0.1:9/callback",
            "response_type": "code",
            "scope": "openid",
            "prompt": "consent",
            "state": "fidelity",
            "userid": userid,
        }
    )
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", f"/oauth2/auth?{query}")
        response = connection.getresponse()
        assert response.status == 302
        location = response.getheader("location") or ""
    finally:
        connection.close()
    params = parse_qs(urlsplit(location).query)
    assert params["state"] == ["fidelity"] and params["code"] == params["authCode"]
    return params["code"][0]


def test_official_sdk_token_code_exchange_and_users_me(sim_server: Any) -> None:
    oauth = OAuthClient(sdk_config(sim_server.url))
    token = oauth.get_access_token(
        oauth_models.GetAccessTokenRequest(app_key=FULL_APP.app_key, app_secret=FULL_APP.app_secret)
    )
    assert token.status_code == 200 and token.body.expire_in == 7200 and token.body.access_token

    user_token = oauth.get_user_token(
        oauth_models.GetUserTokenRequest(
            client_id=FULL_APP.app_key,
            client_secret=FULL_APP.app_secret,
            code=oauth_code(sim_server.url, "user001"),
            grant_type="authorization_code",
        )
    )
    assert user_token.body.corp_id == DEMO_CORP_ID and user_token.body.refresh_token

    contact = ContactClient(sdk_config(sim_server.url))
    headers = contact_models.GetUserHeaders(
        x_acs_dingtalk_access_token=user_token.body.access_token
    )
    me = contact.get_user_with_options("me", headers, util_models.RuntimeOptions())
    assert me.body.nick == "张伟" and me.body.mobile == "13800000001" and me.body.state_code == "86"
    assert me.body.union_id == sim_server.state.user(DEMO_CORP_ID, "user001").unionid

    refreshed = oauth.get_user_token(
        oauth_models.GetUserTokenRequest(
            client_id=FULL_APP.app_key,
            client_secret=FULL_APP.app_secret,
            refresh_token=user_token.body.refresh_token,
            grant_type="refresh_token",
        )
    )
    assert refreshed.body.access_token != user_token.body.access_token

    ticket = oauth.create_jsapi_ticket_with_options(
        oauth_models.CreateJsapiTicketHeaders(x_acs_dingtalk_access_token=token.body.access_token),
        util_models.RuntimeOptions(),
    )
    assert ticket.body.jsapi_ticket and ticket.body.expire_in == 7200
    outcomes = [(e.path, e.outcome) for e in sim_server.state.request_log]
    assert ("/v1.0/contact/users/me", "ok") in outcomes


def test_official_sdk_reads_the_simulators_errors(sim_server: Any) -> None:
    oauth = OAuthClient(sdk_config(sim_server.url))
    with pytest.raises(Exception) as wrong:
        oauth.get_access_token(
            oauth_models.GetAccessTokenRequest(app_key=FULL_APP.app_key, app_secret="wrong")
        )
    assert getattr(wrong.value, "code", None) == "invalidClientIdOrSecret"
    assert "无效的clientId或者clientSecret" in str(getattr(wrong.value, "message", ""))

    fixture = default_fixture()
    fixture["corps"][0]["apps"][1]["permissions"] = ["qyapi_base", "open_app_api_base"]
    sim_server.state.load_fixture(fixture)
    user_token = oauth.get_user_token(
        oauth_models.GetUserTokenRequest(
            client_id=NO_MOBILE_APP.app_key,
            client_secret=NO_MOBILE_APP.app_secret,
            code=oauth_code(sim_server.url, "user002", NO_MOBILE_APP.app_key),
            grant_type="authorization_code",
        )
    )
    contact = ContactClient(sdk_config(sim_server.url))
    headers = contact_models.GetUserHeaders(
        x_acs_dingtalk_access_token=user_token.body.access_token
    )
    with pytest.raises(Exception) as denied:
        contact.get_user_with_options("me", headers, util_models.RuntimeOptions())
    assert (
        getattr(denied.value, "code", None) == "Forbidden.AccessDenied.AccessTokenPermissionDenied"
    )
    assert getattr(denied.value, "data", {})["accessdenieddetail"] == {
        "requiredScopes": ["Contact.User.Read"]
    }
