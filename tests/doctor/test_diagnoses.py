"""Each setup mistake of the issue's list, diagnosed against the simulator in-process, with
the fix an admin can act on. Later checks are skipped when an earlier one makes them moot."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dingbridge.dingtalk import ASGITransport, Response
from dingbridge.doctor import CHECK_ORDER, Status, run_checks
from dingbridge.sim.defaults import (
    FULL_APP,
    NO_MOBILE_APP,
    OTHER_CORP_ID,
    WHITELIST_APP,
)
from dingbridge.sim.faults import parse_fault
from tests.doctor.conftest import NO_MEMBER_APP, by_id, config_for


def statuses(results: list[Any]) -> dict[str, str]:
    return {r.id: r.status.value for r in results}


async def test_full_app_passes_every_dingtalk_check(sim_transport: ASGITransport) -> None:
    results = await run_checks(config_for(FULL_APP, sim_transport))
    assert [r.id for r in results] == list(CHECK_ORDER)
    assert statuses(results) == {
        "config": "pass",
        "network": "pass",
        "credentials": "pass",
        "ip_whitelist": "pass",
        "permissions": "pass",
        "agent_id": "pass",
        "corp_id": "pass",
        "home_url": "skip",  # no external URL given
        "api_version": "pass",
    }
    home = by_id(results)["home_url"]
    assert home.cause is not None and "--external-url" in home.cause.en


async def test_wrong_app_secret_is_named(sim_transport: ASGITransport) -> None:
    results = by_id(await run_checks(config_for(FULL_APP, sim_transport, app_secret="wrong")))
    credentials = results["credentials"]
    assert credentials.status is Status.FAIL
    assert credentials.data["wrong"] == "app_secret"
    assert credentials.cause is not None and credentials.fix is not None
    assert "Wrong AppSecret" in credentials.cause.en
    assert "AppSecret 不对" in credentials.cause.zh
    assert "凭证与基础信息" in credentials.fix.zh and "AppSecret" in credentials.fix.en
    for later in ("ip_whitelist", "permissions", "agent_id", "corp_id"):
        assert results[later].status is Status.SKIP


async def test_wrong_app_key_is_named(sim_transport: ASGITransport) -> None:
    config = config_for(FULL_APP, sim_transport, app_key="dingnosuchapp0000000")
    credentials = by_id(await run_checks(config))["credentials"]
    assert credentials.status is Status.FAIL
    assert credentials.data["wrong"] == "app_key"
    assert credentials.cause is not None and credentials.fix is not None
    assert "Wrong AppKey" in credentials.cause.en
    assert "AppKey (Client ID)" in credentials.fix.en and "凭证与基础信息" in credentials.fix.zh


async def test_ip_not_whitelisted_names_the_ip(sim_transport: ASGITransport) -> None:
    results = by_id(await run_checks(config_for(WHITELIST_APP, sim_transport)))
    ip = results["ip_whitelist"]
    assert ip.status is Status.FAIL
    assert ip.data["egress_ip"] == "127.0.0.1"
    assert ip.cause is not None and ip.fix is not None
    assert "127.0.0.1" in ip.cause.en and "127.0.0.1" in ip.fix.en
    assert "开发配置 → 安全设置 → 服务器出口IP" in ip.fix.zh
    assert "forward address" in ip.fix.en
    assert results["credentials"].status is Status.SKIP
    assert results["permissions"].status is Status.SKIP


async def test_whitelisted_source_address_passes(sim_app: Any) -> None:
    transport = ASGITransport(sim_app, client=("127.0.0.2", 40000))
    results = await run_checks(config_for(WHITELIST_APP, transport))
    assert all(r.status is not Status.FAIL for r in results), statuses(results)


async def test_missing_member_read_permission(sim_transport: ASGITransport) -> None:
    permissions = by_id(await run_checks(config_for(NO_MEMBER_APP, sim_transport)))["permissions"]
    assert permissions.status is Status.FAIL
    assert permissions.data["missing"] == ["qyapi_get_member"]
    assert permissions.cause is not None and permissions.fix is not None
    assert "成员信息读权限（qyapi_get_member）" in permissions.cause.zh
    assert "权限管理 → 搜索 qyapi_get_member → 开通" in permissions.fix.zh
    assert "权限管理 → search qyapi_get_member → 开通" in permissions.fix.en


async def test_missing_mobile_field_permission(sim_transport: ASGITransport) -> None:
    permissions = by_id(await run_checks(config_for(NO_MOBILE_APP, sim_transport)))["permissions"]
    assert permissions.status is Status.FAIL
    assert permissions.data["missing"] == ["企业员工手机号信息"]
    assert permissions.fix is not None
    assert "权限管理 → 搜索 企业员工手机号信息 → 开通" in permissions.fix.zh


async def test_agent_id_of_another_app(sim_transport: ASGITransport) -> None:
    config = config_for(FULL_APP, sim_transport, agent_id=str(NO_MOBILE_APP.agent_id))
    results = by_id(await run_checks(config))
    agent = results["agent_id"]
    assert agent.status is Status.FAIL
    assert agent.cause is not None and agent.fix is not None
    assert "3001002" in agent.cause.en and FULL_APP.app_key in agent.cause.en
    assert "AgentId" in agent.fix.zh and "凭证与基础信息" in agent.fix.zh
    assert results["corp_id"].status is Status.PASS


async def test_no_message_is_sent_by_the_agent_check(
    sim_transport: ASGITransport, sim_state: Any
) -> None:
    await run_checks(config_for(FULL_APP, sim_transport))
    assert sim_state.messages == []


async def test_corp_id_of_another_corp(sim_transport: ASGITransport) -> None:
    results = by_id(await run_checks(config_for(FULL_APP, sim_transport, corp_id=OTHER_CORP_ID)))
    corp = results["corp_id"]
    assert corp.status is Status.FAIL
    assert corp.cause is not None and corp.fix is not None
    assert "does not match the app's corp" in corp.cause.en
    assert "developer console home page (not the app page)" in corp.fix.en
    assert "首页（不是应用页）" in corp.fix.zh


async def test_corp_id_dingtalk_does_not_know(sim_transport: ASGITransport) -> None:
    config = config_for(FULL_APP, sim_transport, corp_id="ding000000000000fake")
    corp = by_id(await run_checks(config))["corp_id"]
    assert corp.status is Status.FAIL
    assert "unknownError" in corp.detail


async def test_forward_address_missing_its_prefix(sim_transport: ASGITransport) -> None:
    config = config_for(FULL_APP, sim_transport, forward_url="http://203.0.113.5:888/dingtalk/")
    results = by_id(await run_checks(config))
    problem = results["config"]
    assert problem.status is Status.FAIL
    assert problem.cause is not None
    assert "/api-dingtalk-com/" in problem.cause.en
    assert "http://<forwarder>:888/api-dingtalk-com/" in problem.cause.en
    assert "末尾的 /api-dingtalk-com/ 不能省略" in problem.cause.zh
    for later in CHECK_ORDER[1:7]:
        assert results[later].status is Status.SKIP


async def test_every_settings_problem_is_listed_at_once(sim_transport: ASGITransport) -> None:
    config = config_for(
        FULL_APP,
        sim_transport,
        corp_id="corp123",
        agent_id="30a1",
        app_secret="",
        api_version="v3",
    )
    problem = by_id(await run_checks(config))["config"]
    assert problem.status is Status.FAIL
    assert len(problem.data["problems"]) == 4
    assert problem.cause is not None
    text = problem.cause.en
    assert "企业ID 'corp123'" in text and "AgentId '30a1'" in text
    assert "AppSecret (Client Secret) is not set" in text and "'v3'" in text


async def test_v1_warns_that_new_apps_need_v2(sim_transport: ASGITransport) -> None:
    results = by_id(await run_checks(config_for(FULL_APP, sim_transport, api_version="v1")))
    assert results["credentials"].status is Status.PASS
    assert "/gettoken" in results["credentials"].detail
    version = results["api_version"]
    assert version.status is Status.WARN
    assert version.fix is not None and "V2" in version.fix.en
    assert not any(r.failed for r in results.values())


async def test_dingtalk_timing_out(sim_transport: ASGITransport, sim_state: Any) -> None:
    sim_state.faults.add(parse_fault({"path": "*", "kind": "hang"}))
    config = config_for(FULL_APP, sim_transport, timeout=0.3)
    results = by_id(await run_checks(config))
    network = results["network"]
    assert network.status is Status.FAIL
    assert network.cause is not None and network.fix is not None
    assert "DingTalk unreachable or timing out" in network.cause.en
    assert "钉钉无应答（超时）" in network.cause.zh
    assert "https://oapi.dingtalk.com" in network.fix.en
    for later in CHECK_ORDER[2:7]:
        assert results[later].status is Status.SKIP


class RefusesAppTokenOnContactUsers:
    """The simulator, except that /v1.0/contact/users/* takes only a user's token (as the
    facts file documents it): the doctor must not claim Contact.User.Read either way."""

    def __init__(self, inner: ASGITransport) -> None:
        self.inner = inner

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Any,
        body: bytes | None,
        timeout: float,  # noqa: ASYNC109 - the transport contract passes a per-call timeout
    ) -> Response:
        if "/v1.0/contact/users/" in url:
            refusal = {"code": "InvalidAuthentication", "message": "不合法的access_token"}
            return Response(400, {}, json.dumps(refusal).encode())
        return await self.inner.request(method, url, headers=headers, body=body, timeout=timeout)

    async def aclose(self) -> None:
        return None


async def test_unverifiable_permission_is_reported_as_such(sim_transport: ASGITransport) -> None:
    transport = RefusesAppTokenOnContactUsers(sim_transport)
    permissions = by_id(await run_checks(config_for(FULL_APP, transport)))["permissions"]
    assert permissions.status is Status.PASS
    assert permissions.data["unverified"] == ["Contact.User.Read"]


@pytest.mark.parametrize(
    ("changes", "wrong", "words"),
    [
        ({"app_secret": "wrong"}, "app_secret", "Wrong AppSecret"),
        ({"app_key": "dingnosuchapp0000000"}, "app_key", "Wrong AppKey"),
    ],
)
async def test_v1_credentials_are_told_apart_too(
    sim_transport: ASGITransport, changes: dict[str, str], wrong: str, words: str
) -> None:
    config = config_for(FULL_APP, sim_transport, api_version="v1", **changes)
    credentials = by_id(await run_checks(config))["credentials"]
    assert credentials.status is Status.FAIL
    assert "40096" in credentials.detail  # /gettoken's answer is the same for both
    assert credentials.data["wrong"] == wrong
    assert credentials.cause is not None and words in credentials.cause.en


@pytest.mark.parametrize("changes", [{"app_secret": "wrong"}, {"app_key": "dingnosuchapp0000000"}])
async def test_when_dingtalk_gives_no_hint_both_mistakes_get_one_honest_message(
    sim_transport: ASGITransport, sim_state: Any, changes: dict[str, str]
) -> None:
    sim_state.faults.add(
        parse_fault({"path": "/sns/getuserinfo_bycode", "kind": "error", "errcode": -1})
    )
    credentials = by_id(await run_checks(config_for(FULL_APP, sim_transport, **changes)))[
        "credentials"
    ]
    assert credentials.status is Status.FAIL
    assert credentials.data["wrong"] == "app_key_or_secret"
    assert credentials.cause is not None and credentials.fix is not None
    assert credentials.cause.en == "AppKey or AppSecret wrong."
    assert "Copy both again from the app's 凭证与基础信息 page" in credentials.fix.en
