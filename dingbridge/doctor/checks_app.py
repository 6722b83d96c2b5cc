"""Checks 3 (凭证有效), 4 (出口IP白名单), 6 (AgentId 属于此应用), 7 (CorpId 属于此应用的企业)
and 9 (接口版本一致). How each is detected, and which rest on assumptions: docs/doctor.md."""

from __future__ import annotations

from dingbridge.dingtalk import (
    AuthCodeInvalid,
    DingTalkError,
    InvalidCredentials,
    IpNotWhitelisted,
    PermissionDenied,
    ServerBusy,
    TokenInvalid,
    TransportError,
)
from dingbridge.doctor.probe import Probe, describe, unreachable_text
from dingbridge.doctor.results import CheckResult, Status, Text

__all__ = [
    "PROBE_CODE",
    "check_agent_id",
    "check_api_version",
    "check_corp_id",
    "check_credentials",
    "check_ip_whitelist",
]

PROBE_CODE = "dingbridge-doctor-probe"  # a code DingTalk never issued: answers 40078
_CREDENTIALS_PAGE = Text(
    "钉钉开发者后台 → 应用 → 凭证与基础信息",
    "the app's 凭证与基础信息 page in the developer console",
)


def _failure(check_id: str, exc: DingTalkError, probe: Probe) -> CheckResult:
    """A call failed for a reason the check is not about: say so honestly."""
    if isinstance(exc, TransportError):
        cause, fix = unreachable_text(probe.config, exc)
    else:
        cause = Text(
            f"钉钉返回了意外的错误：{exc.explanation}",
            f"DingTalk answered with an unexpected error: {exc.explanation_en}",
        )
        fix = Text(
            "稍后再检查一次；问题持续时按错误码排查。",
            "Check again later; if it stays, look up the code.",
        )
    status = Status.WARN if isinstance(exc, ServerBusy | TransportError) else Status.FAIL
    return CheckResult(check_id, status, cause=cause, fix=fix, detail=describe(exc))


async def _which_credential(probe: Probe) -> str | None:
    """Tell a wrong AppKey from a wrong AppSecret by the SNS signature endpoint.

    ``sns/getuserinfo_bycode`` names the app by ``accessKey`` (the AppKey) and proves the
    AppSecret by an HMAC signature. An unknown key answers errcode 88 "不合法的access_token"
    (seen live); a known key with a bad signature answers a 8530xx signature error.
    Returns "app_key", "app_secret" or None (cannot tell)."""
    try:
        await probe.client.oauth.sns_userinfo_by_code(PROBE_CODE)
    except TokenInvalid as exc:
        return "app_key" if exc.errcode == 88 else None
    except DingTalkError as exc:
        if exc.errcode in (853001, 853003):
            return "app_secret"
        probe.notes.append(f"sns probe: {describe(exc)}")
        return None
    return None


async def check_credentials(probe: Probe) -> CheckResult:
    """Check 3: fetch an app token the way the space's API version does."""
    version = probe.client.api_version
    path = "/gettoken" if version == "v1" else "/v1.0/oauth2/accessToken"
    try:
        probe.token = await probe.client.tokens.app_token()
    except IpNotWhitelisted as exc:
        probe.token_error = exc
        probe.egress_ip = exc.ip
        return CheckResult.skipped(
            "credentials",
            Text(
                "钉钉在检查凭证之前就拒绝了本服务器的出口 IP（见下一项）。",
                "DingTalk refused this server's egress IP before checking the credentials "
                "(see the next check).",
            ),
            detail=describe(exc),
        )
    except InvalidCredentials as exc:
        probe.token_error = exc
        which = await _which_credential(probe)
        if which == "app_key":
            cause = Text(
                f"AppKey {probe.config.app_key!r} 不存在：钉钉不认识这个应用。",
                f"Wrong AppKey: DingTalk knows no app {probe.config.app_key!r}.",
            )
            fix = Text(
                f"从 {_CREDENTIALS_PAGE.zh} 重新复制 AppKey (Client ID)。",
                f"Copy the AppKey (Client ID) again from {_CREDENTIALS_PAGE.en}.",
            )
        elif which == "app_secret":
            cause = Text(
                "AppSecret 不对：AppKey 正确，但 AppSecret 与它不匹配。",
                "Wrong AppSecret: the AppKey is right but the AppSecret does not match it.",
            )
            fix = Text(
                f"从 {_CREDENTIALS_PAGE.zh} 重新复制 AppSecret (Client Secret)"
                "（若曾重置过，用最新的）。",
                f"Copy the AppSecret (Client Secret) again from {_CREDENTIALS_PAGE.en} (the "
                "latest one, if it was reset).",
            )
        else:
            cause = Text("AppKey 或 AppSecret 不对。", "AppKey or AppSecret wrong.")
            fix = Text(
                f"从 {_CREDENTIALS_PAGE.zh} 重新复制这两项。",
                f"Copy both again from {_CREDENTIALS_PAGE.en}.",
            )
        return CheckResult(
            "credentials",
            Status.FAIL,
            cause=cause,
            fix=fix,
            detail=describe(exc),
            data={"wrong": which or "app_key_or_secret"},
        )
    except DingTalkError as exc:
        probe.token_error = exc
        return _failure("credentials", exc, probe)
    return CheckResult.passed("credentials", detail=f"app token from {path}")


def _ip_failure(probe: Probe, exc: IpNotWhitelisted) -> CheckResult:
    ip = exc.ip
    probe.egress_ip = ip or probe.egress_ip
    seen = ip or "（钉钉未给出）"
    seen_en = ip or "(not named by DingTalk)"
    if probe.config.forwarded:
        cause = Text(
            f"钉钉看到调用来自 IP {seen}（转发服务器的出口 IP），它不在应用的 服务器出口IP 中。",
            f"DingTalk saw the calls come from IP {seen_en} (the forwarder's egress IP), which "
            "is not in the app's 服务器出口IP list.",
        )
        fix = Text(
            f"把 {seen} 加入 开发配置 → 安全设置 → 服务器出口IP，或改用白名单内机器上的转发服务。",
            f"Add {seen_en} to 开发配置 → 安全设置 → 服务器出口IP, or forward through a machine "
            "whose IP is whitelisted.",
        )
    else:
        cause = Text(
            f"钉钉看到本服务器的调用来自 IP {seen}，它不在应用的 服务器出口IP 中。",
            f"DingTalk saw this server's calls come from IP {seen_en}, which is not in the "
            "app's 服务器出口IP list.",
        )
        fix = Text(
            f"把 {seen} 加入 开发配置 → 安全设置 → 服务器出口IP；或通过白名单内的机器转发"
            "（在那台机器上运行 dingbridge forward，并填写 钉钉API转发地址）。",
            f"Add {seen_en} to 开发配置 → 安全设置 → 服务器出口IP (or set a forward address "
            "through the whitelisted machine, running `dingbridge forward` there).",
        )
    data = {"egress_ip": ip} if ip else {}
    return CheckResult(
        "ip_whitelist", Status.FAIL, cause=cause, fix=fix, detail=describe(exc), data=data
    )


async def check_ip_whitelist(probe: Probe) -> CheckResult:
    """Check 4: a harmless oapi call (免登 code lookup with a code that does not exist)."""
    if isinstance(probe.token_error, IpNotWhitelisted):
        return _ip_failure(probe, probe.token_error)
    try:
        await probe.client.users.from_auth_code(PROBE_CODE)
    except IpNotWhitelisted as exc:
        return _ip_failure(probe, exc)
    except (AuthCodeInvalid, PermissionDenied) as exc:
        # DingTalk got past the IP check (the permission is check 5's business).
        return CheckResult.passed("ip_whitelist", detail=describe(exc))
    except DingTalkError as exc:
        return _failure("ip_whitelist", exc, probe)
    return CheckResult.passed("ip_whitelist")


async def check_agent_id(probe: Probe) -> CheckResult:
    """Check 6: a work notification that cannot be delivered (no recipients, no valid message
    type) names the configured agent_id. DingTalk answers 40056 不合法的agentid when the
    AgentId is not this app's; any other refusal means it accepted the agent.
    Assumption: DingTalk checks agent_id before the message and recipients."""
    agent_id = probe.client.agent_id
    if agent_id is None:
        return CheckResult.skipped(
            "agent_id",
            Text(
                "AgentId 未填写或格式不对（见第 1 项）。",
                "The AgentId is missing or malformed (check 1).",
            ),
        )
    body = {"agent_id": agent_id, "userid_list": "", "msg": {"msgtype": "dingbridge_probe"}}
    try:
        await probe.client.caller.oapi(
            "POST",
            "/topapi/message/corpconversation/asyncsend_v2",
            json_body=body,
            idempotent=False,
        )
    except DingTalkError as exc:
        code = exc.effective_code
        if code in ("40056", "41011"):
            return CheckResult(
                "agent_id",
                Status.FAIL,
                cause=Text(
                    f"AgentId {agent_id} 不属于 AppKey {probe.config.app_key} 这个应用"
                    "（可能是另一个应用的 AgentId）。",
                    f"AgentId {agent_id} is not the AgentId of the app {probe.config.app_key} "
                    "(perhaps another app's).",
                ),
                fix=Text(
                    f"在同一个应用的 {_CREDENTIALS_PAGE.zh} 复制 AgentId。",
                    f"Copy the AgentId from the same app's {_CREDENTIALS_PAGE.en}.",
                ),
                detail=describe(exc),
            )
        if isinstance(exc, PermissionDenied | TransportError | ServerBusy | TokenInvalid):
            return _failure("agent_id", exc, probe)
        return CheckResult.passed("agent_id", detail=f"agent accepted ({describe(exc)})")
    return CheckResult(
        "agent_id",
        Status.WARN,
        cause=Text(
            "钉钉接受了一个没有接收人的测试消息；AgentId 属于此应用。",
            "DingTalk accepted a test message without recipients; the AgentId is this app's.",
        ),
        fix=Text("无需处理。", "Nothing to do."),
    )


async def check_corp_id(probe: Probe) -> CheckResult:
    """Check 7: ``POST /v1.0/oauth2/{corpId}/token`` with the configured CorpId gives a token
    only when the app belongs to that corp."""
    corp_id = probe.config.corp_id.strip()
    try:
        await probe.client.tokens.corp_token(corp_id)
    except DingTalkError as exc:
        refused = exc.code in ("unknownError", "unauthorized.client", "invalid.client")
        if not refused:
            return _failure("corp_id", exc, probe)
        return CheckResult(
            "corp_id",
            Status.FAIL,
            cause=Text(
                f"企业ID {corp_id} 不是这个应用所属企业的 ID。",
                f"企业ID {corp_id} does not match the app's corp.",
            ),
            fix=Text(
                "在钉钉开发者后台首页（不是应用页）复制 企业ID（CorpId）。",
                "Copy 企业ID from the developer console home page (not the app page).",
            ),
            detail=describe(exc),
        )
    return CheckResult.passed("corp_id", detail=f"token issued for {corp_id}")


async def check_api_version(probe: Probe) -> CheckResult:
    """Check 9: V1 works only for legacy apps; the vendor guide says new apps must use V2. Nothing
    DingTalk answers tells an app's age, so V1 is a warning, never a failure."""
    if probe.client.api_version == "v2":
        forward = probe.config.forward_url or ""
        if forward.rstrip("/").endswith("oapi-dingtalk-com"):
            return CheckResult(
                "api_version",
                Status.WARN,
                cause=Text(
                    "V2 的转发地址通常以 /api-dingtalk-com/ 结尾；"
                    "现在是 /oapi-dingtalk-com/。"
                    "两者都能用，但请与文档保持一致。",
                    "For V2 the vendor guide writes the forward address with "
                    "/api-dingtalk-com/; this one ends in /oapi-dingtalk-com/. "
                    "Both work here, but keep to the documented form.",
                ),
                fix=Text(
                    "把 钉钉API转发地址 改为 http://转发服务器:888/api-dingtalk-com/。",
                    "Change the forward address to http://<forwarder>:888/api-dingtalk-com/.",
                ),
            )
        return CheckResult.passed("api_version", detail="v2: /v1.0/oauth2/accessToken, oauth2/auth")
    return CheckResult(
        "api_version",
        Status.WARN,
        cause=Text(
            "选择了 V1（旧版接口）。新创建的钉钉应用一律只能选择 V2；V1 只适用于旧应用。",
            "V1 (legacy API) is chosen. Apps created now must use V2; V1 is for legacy apps only.",
        ),
        fix=Text(
            "如果这个钉钉应用是新建的，把 钉钉接口版本 改为 V2。",
            "If this DingTalk app is new, set 钉钉接口版本 to V2.",
        ),
        detail="v1: /gettoken, SNS qrconnect login",
    )
