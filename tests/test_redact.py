"""dingbridge.redact: secret values never survive, everything else is kept."""

from __future__ import annotations

import pytest

from dingbridge.redact import (
    REDACTED,
    is_secret_name,
    redact_headers,
    redact_json,
    redact_query,
    redact_target,
    redact_text,
)


@pytest.mark.parametrize(
    "name",
    [
        "appsecret",
        "AppSecret",
        "access_token",
        "accessToken",
        "code",
        "authCode",
        "auth_code",
        "tmp_auth_code",
        "x-acs-dingtalk-access-token",
        "X-Acs-Dingtalk-Access-Token",
        "corpsecret",
        "suiteTicket",
        "jsapi_ticket",
        "signature",
        "password",
        "refresh_token",
        "client_secret",
        "Authorization",
        "Cookie",
        "Set-Cookie",
        "X-Dingbridge-Token",
        "sms_code",
        "sessionId",
        "sign",
        "clientSecret",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "appkey",
        "appKey",
        "corpid",
        "errcode",
        "errmsg",
        "sub_code",
        "userid",
        "unionid",
        "agent_id",
        "timestamp",
        "nonceStr",
        "mobile",
        "name",
        "dept_id",
        "grant_type",
        "expires_in",
    ],
)
def test_public_names(name: str) -> None:
    assert not is_secret_name(name)


def test_query_values_are_redacted_names_and_order_kept() -> None:
    query = "appkey=dingA&appsecret=S1&access_token=T1&code=C1&authCode=A1&tmp_auth_code=M1&x=1"
    assert redact_query(query) == (
        "appkey=dingA&appsecret=***&access_token=***&code=***&authCode=***&tmp_auth_code=***&x=1"
    )
    assert redact_query(b"access%5Ftoken=T2&flag&empty=") == "access%5Ftoken=***&flag&empty="
    assert redact_query("") == ""


def test_target_keeps_path_and_redacts_query() -> None:
    assert redact_target("/gettoken?appkey=k&appsecret=s") == "/gettoken?appkey=k&appsecret=***"
    assert redact_target(b"/v1.0/contact/users/me") == "/v1.0/contact/users/me"
    assert redact_target("https://oapi.dingtalk.com/sns?signature=x#f") == (
        "https://oapi.dingtalk.com/sns?signature=***#f"
    )


def test_headers_bytes_or_text_or_mapping() -> None:
    pairs = [(b"X-Acs-Dingtalk-Access-Token", b"T"), (b"Content-Type", b"application/json")]
    assert redact_headers(pairs) == [
        ("X-Acs-Dingtalk-Access-Token", REDACTED),
        ("Content-Type", "application/json"),
    ]
    assert redact_headers({"Authorization": "Bearer x"}) == [("Authorization", REDACTED)]


def test_json_is_redacted_deeply_without_touching_the_input() -> None:
    data = {
        "errcode": 0,
        "access_token": "T",
        "result": {"userid": "u1", "code": "C", "items": [{"ticket": "K", "n": 1}]},
        "accessToken": {"nested": "object stays a structure"},
    }
    out = redact_json(data)
    assert out == {
        "errcode": 0,
        "access_token": REDACTED,
        "result": {"userid": "u1", "code": REDACTED, "items": [{"ticket": REDACTED, "n": 1}]},
        "accessToken": {"nested": "object stays a structure"},
    }
    assert data["access_token"] == "T"


def test_free_text_styles() -> None:
    text = (
        'calling /gettoken?appkey=k&appsecret=SEC1 failed; body {"access_token": "TOK1", '
        "\"errcode\": 0, 'code': 'COD1'}\nx-acs-dingtalk-access-token: TOK2\n"
        "headers Authorization: Bearer TOK3, password=PW1 userid=user001"
    )
    out = redact_text(text)
    for secret in ("SEC1", "TOK1", "COD1", "TOK2", "TOK3", "PW1"):
        assert secret not in out
    for kept in ("appkey=k", '"errcode": 0', "userid=user001", "/gettoken"):
        assert kept in out
