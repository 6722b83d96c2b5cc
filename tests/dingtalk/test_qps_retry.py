"""A 90018 (per-app per-API QPS) is ridden out by waiting and sending again, within a bounded
patience; then the error surfaces as it was. Every attempt first asks the pacer for its turn."""

from __future__ import annotations

import pytest

from dingbridge.dingtalk import (
    DingTalkClient,
    Endpoints,
    HandlerTransport,
    PacingRefused,
    QpsRetry,
    RateLimited,
)
from dingbridge.dingtalk.transport import json_response
from tests.dingtalk.conftest import APP_KEY, APP_SECRET, ScriptedDingTalk

USER = {"errcode": 0, "errmsg": "ok", "result": {"userid": "user001", "name": "张伟"}}
QPS_OAPI = {"errcode": 90018, "errmsg": "接口调用超过限制"}
QPS_API = {"code": "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "message": "qps"}
INFO = {"errcode": 0, "errmsg": "ok", "result": {"userid": "user001", "name": "张伟"}}


class CountingPacer:
    def __init__(self, refuse_after: int | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.refuse_after = refuse_after

    async def before_call(self, app_key: str, path: str) -> None:
        self.calls.append((app_key, path))
        if self.refuse_after is not None and len(self.calls) > self.refuse_after:
            raise PacingRefused(path=path, budget="api", wait=12.0)


def _client(
    fake: ScriptedDingTalk, *, patience: float = 0.2, pacer: CountingPacer | None = None
) -> tuple[DingTalkClient, HandlerTransport]:
    transport = HandlerTransport(fake)
    client = DingTalkClient(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        endpoints=Endpoints.single_base("http://dingtalk.test"),
        transport=transport,
        qps_retry=QpsRetry(patience=patience, first=0.01, longest=0.02),
        pacer=pacer,
    )
    return client, transport


def _calls_to(transport: HandlerTransport, path: str) -> int:
    return sum(1 for request in transport.requests if request.path == path)


async def test_a_90018_is_retried_and_the_user_gets_the_answer() -> None:
    fake = ScriptedDingTalk()
    fake.on("/topapi/v2/user/get", QPS_OAPI, QPS_OAPI, USER)
    pacer = CountingPacer()
    client, transport = _client(fake, pacer=pacer)
    user = await client.users.get("user001")
    assert user.name == "张伟"
    assert _calls_to(transport, "/topapi/v2/user/get") == 3
    # every attempt (the token fetch and the three tries) asked the pacer first
    assert pacer.calls.count((APP_KEY, "/topapi/v2/user/get")) == 3
    assert (APP_KEY, "/v1.0/oauth2/accessToken") in pacer.calls


async def test_an_auth_code_call_refused_for_qps_is_sent_again() -> None:
    """DingTalk refuses a call over the limit before looking at it: the code is not spent, so
    even the non-idempotent code exchange is retried."""
    fake = ScriptedDingTalk()
    fake.on("/topapi/v2/user/getuserinfo", QPS_OAPI, INFO)
    client, transport = _client(fake)
    info = await client.users.getuserinfo("auth-code-1")
    assert info.userid == "user001"
    assert _calls_to(transport, "/topapi/v2/user/getuserinfo") == 2


async def test_an_api_host_qps_answer_is_retried_too() -> None:
    fake = ScriptedDingTalk()
    fake.on("/v1.0/contact/users/me", json_response(QPS_API, 403), {"nick": "张伟"})
    client, transport = _client(fake)
    me = await client.caller.api("GET", "/v1.0/contact/users/me", token="user-token")
    assert me == {"nick": "张伟"}
    assert _calls_to(transport, "/v1.0/contact/users/me") == 2


async def test_past_the_patience_the_90018_surfaces_with_its_explanation() -> None:
    fake = ScriptedDingTalk()
    fake.on("/topapi/v2/user/get", QPS_OAPI)
    client, transport = _client(fake, patience=0.05)
    with pytest.raises(RateLimited) as caught:
        await client.users.get("user001")
    assert caught.value.effective_code == "90018"
    assert "20" in caught.value.explanation_en
    tries = _calls_to(transport, "/topapi/v2/user/get")
    assert 2 <= tries <= 10  # retried, but not for ever


async def test_the_monthly_quota_is_not_retried() -> None:
    fake = ScriptedDingTalk()
    fake.on("/topapi/v2/user/get", {"errcode": 90020, "errmsg": "monthly"}, USER)
    client, transport = _client(fake)
    with pytest.raises(RateLimited):
        await client.users.get("user001")
    assert _calls_to(transport, "/topapi/v2/user/get") == 1


async def test_a_refused_turn_is_not_sent_and_not_retried() -> None:
    fake = ScriptedDingTalk()
    fake.on("/topapi/v2/user/get", USER)
    pacer = CountingPacer(refuse_after=1)  # the token fetch passes, the call does not
    client, transport = _client(fake, pacer=pacer)
    with pytest.raises(PacingRefused) as caught:
        await client.users.get("user001")
    assert caught.value.budget == "api"
    assert "稍后" in caught.value.explanation
    assert _calls_to(transport, "/topapi/v2/user/get") == 0
    assert len(pacer.calls) == 2
