"""Browser URLs we build and the signatures we compute (pure functions, no network)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from dingbridge.dingtalk import DingTalkClient, Endpoints, HandlerTransport
from dingbridge.dingtalk.api.jsapi import jsapi_signature
from dingbridge.dingtalk.api.oauth import sns_signature
from tests.dingtalk.conftest import APP_KEY, APP_SECRET, ScriptedDingTalk


def test_authorize_url_has_the_documented_parameters(client: DingTalkClient) -> None:
    client.oauth._endpoints = Endpoints()  # direct: the real login host
    url = client.oauth.authorize_url("https://app.example.com/cb?x=1", state="s1")
    parts = urlsplit(url)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://login.dingtalk.com/oauth2/auth"
    )
    q = parse_qs(parts.query)
    assert q == {
        "redirect_uri": ["https://app.example.com/cb?x=1"],
        "response_type": ["code"],
        "client_id": [APP_KEY],
        "scope": ["openid"],
        "state": ["s1"],
        "prompt": ["consent"],
    }
    assert "redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Fx%3D1" in parts.query


def test_authorize_url_optional_parameters(client: DingTalkClient) -> None:
    url = client.oauth.authorize_url(
        "http://127.0.0.1:8000/cb",
        state="s",
        scope="openid corpid",
        org_type="management",
        corp_id="dingcorp",
        exclusive_login=True,
        exclusive_corp_id="dingexcl",
    )
    assert "scope=openid%20corpid" in url  # space encoded, not "+"
    q = parse_qs(urlsplit(url).query)
    assert q["org_type"] == ["management"]
    assert q["corpId"] == ["dingcorp"]
    assert q["exclusiveLogin"] == ["true"]
    assert q["exclusiveCorpId"] == ["dingexcl"]


def test_browser_urls_never_carry_the_secret(client: DingTalkClient) -> None:
    for url in (
        client.oauth.authorize_url("http://127.0.0.1/cb", state="s"),
        client.oauth.qrconnect_url("http://127.0.0.1/cb", state="s"),
    ):
        assert APP_SECRET not in unquote(url)


def test_qrconnect_url(client: DingTalkClient) -> None:
    client.oauth._endpoints = Endpoints.from_forward_address("http://10.0.0.1:888/")
    url = client.oauth.qrconnect_url("https://app.example.com/cb", state="st")
    parts = urlsplit(url)
    assert url.startswith("https://oapi.dingtalk.com/connect/qrconnect?")  # not the forwarder
    assert parse_qs(parts.query) == {
        "appid": [APP_KEY],
        "response_type": ["code"],
        "scope": ["snsapi_login"],
        "state": ["st"],
        "redirect_uri": ["https://app.example.com/cb"],
    }


def test_login_url_follows_api_version(client: DingTalkClient) -> None:
    assert "/oauth2/auth?" in client.oauth.login_url("http://127.0.0.1/cb", state="s")
    v1 = client.oauth.login_url("http://127.0.0.1/cb", state="s", api_version="v1")
    assert "/connect/qrconnect?" in v1


def test_sns_signature_is_hmac_sha256_base64_fully_percent_encoded() -> None:
    ts = "1546084445901"
    raw = base64.b64encode(
        hmac.new(b"testappSecret", ts.encode(), hashlib.sha256).digest()
    ).decode()
    sig = sns_signature("testappSecret", ts)
    assert unquote(sig) == raw
    for ch in "+/=":
        assert ch not in sig
    # independent value, from:
    # printf 1546084445901 | openssl dgst -sha256 -hmac testappSecret -binary | base64
    assert sig == "HCbG3xNE3vzhO%2Bu7qCUL1jS5hsu2n5r2cFhnTrtyDAE%3D"


async def test_sns_call_sends_signed_query_unchanged(fake: ScriptedDingTalk) -> None:
    fake.on(
        "/sns/getuserinfo_bycode",
        {
            "errcode": 0,
            "errmsg": "ok",
            "user_info": {
                "nick": "张伟",
                "unionid": "u-1",
                "openid": "o-1",
                "main_org_auth_high_level": True,
            },
        },
    )
    transport = HandlerTransport(fake)
    client = DingTalkClient(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        endpoints=Endpoints.single_base("http://dt.test"),
        transport=transport,
    )
    user = await client.oauth.sns_userinfo_by_code("tmp-code", timestamp_ms=1546084445901)
    assert user.unionid == "u-1" and user.nick == "张伟"
    req = transport.requests[-1]
    query = urlsplit(req.url).query
    assert query == (
        f"accessKey={APP_KEY}&timestamp=1546084445901"
        f"&signature={sns_signature(APP_SECRET, '1546084445901')}"
    )
    assert req.json() == {"tmp_auth_code": "tmp-code"}
    assert fake.token_fetches == 0  # SNS calls are signed, not token-authenticated


def test_jsapi_signature_sha1_default_and_sha256() -> None:
    plain = "jsapi_ticket=T&noncestr=N&timestamp=1&url=http://a/b?c=d"
    assert (
        jsapi_signature("T", "N", "1", "http://a/b?c=d") == hashlib.sha1(plain.encode()).hexdigest()
    )
    assert jsapi_signature("T", "N", "1", "http://a/b?c=d", algorithm="sha256") == (
        hashlib.sha256(plain.encode()).hexdigest()
    )
    with pytest.raises(ValueError, match="sha1"):
        jsapi_signature("T", "N", "1", "u", algorithm="md5")  # type: ignore[arg-type]
