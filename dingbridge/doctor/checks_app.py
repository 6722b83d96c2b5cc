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
from dingbridge.doctor.results import CheckResult, Message, Status

__all__ = [
    "PROBE_CODE",
    "check_agent_id",
    "check_api_version",
    "check_corp_id",
    "check_credentials",
    "check_ip_whitelist",
]

PROBE_CODE = "dingbridge-doctor-probe"  # a code DingTalk never issued: answers 40078
_CREDENTIALS_PAGE = Message("the app's 凭证与基础信息 page in the developer console")


def _failure(check_id: str, exc: DingTalkError, probe: Probe) -> CheckResult:
    """A call failed for a reason the check is not about: say so honestly."""
    if isinstance(exc, TransportError):
        cause, fix = unreachable_text(probe.config, exc)
    else:
        cause = Message("DingTalk answered with an unexpected error: %(hint)s", hint=exc.hint)
        fix = Message("Check again later; if it stays, look up the code.")
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
            Message(
                "DingTalk refused this server's egress IP before checking the credentials "
                "(see the next check)."
            ),
            detail=describe(exc),
        )
    except InvalidCredentials as exc:
        probe.token_error = exc
        which = await _which_credential(probe)
        if which == "app_key":
            cause = Message(
                "Wrong AppKey: DingTalk knows no app %(app_key)s.",
                app_key=repr(probe.config.app_key),
            )
            fix = Message(
                "Copy the AppKey (Client ID) again from %(page)s.", page=_CREDENTIALS_PAGE
            )
        elif which == "app_secret":
            cause = Message(
                "Wrong AppSecret: the AppKey is right but the AppSecret does not match it."
            )
            fix = Message(
                "Copy the AppSecret (Client Secret) again from %(page)s (the latest one, if it "
                "was reset).",
                page=_CREDENTIALS_PAGE,
            )
        else:
            cause = Message("AppKey or AppSecret wrong.")
            fix = Message("Copy both again from %(page)s.", page=_CREDENTIALS_PAGE)
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
    seen = ip or Message("(not named by DingTalk)")
    if probe.config.forwarded:
        cause = Message(
            "DingTalk saw the calls come from IP %(ip)s (the forwarder's egress IP), which "
            "is not in the app's 服务器出口IP list.",
            ip=seen,
        )
        fix = Message(
            "Add %(ip)s to 开发配置 → 安全设置 → 服务器出口IP, or forward through a machine "
            "whose IP is whitelisted.",
            ip=seen,
        )
    else:
        cause = Message(
            "DingTalk saw this server's calls come from IP %(ip)s, which is not in the "
            "app's 服务器出口IP list.",
            ip=seen,
        )
        fix = Message(
            "Add %(ip)s to 开发配置 → 安全设置 → 服务器出口IP (or set a forward address "
            "through the whitelisted machine, running `dingbridge forward` there).",
            ip=seen,
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
            Message("The AgentId is missing or malformed (check 1)."),
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
                cause=Message(
                    "AgentId %(agent_id)s is not the AgentId of the app %(app_key)s "
                    "(perhaps another app's).",
                    agent_id=agent_id,
                    app_key=probe.config.app_key,
                ),
                fix=Message(
                    "Copy the AgentId from the same app's %(page)s.", page=_CREDENTIALS_PAGE
                ),
                detail=describe(exc),
            )
        if isinstance(exc, PermissionDenied | TransportError | ServerBusy | TokenInvalid):
            return _failure("agent_id", exc, probe)
        return CheckResult.passed("agent_id", detail=f"agent accepted ({describe(exc)})")
    return CheckResult(
        "agent_id",
        Status.WARN,
        cause=Message(
            "DingTalk accepted a test message without recipients; the AgentId is this app's."
        ),
        fix=Message("Nothing to do."),
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
            cause=Message("企业ID %(corp_id)s does not match the app's corp.", corp_id=corp_id),
            fix=Message("Copy 企业ID from the developer console home page (not the app page)."),
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
                cause=Message(
                    "For V2 the vendor guide writes the forward address with "
                    "/api-dingtalk-com/; this one ends in /oapi-dingtalk-com/. "
                    "Both work here, but keep to the documented form."
                ),
                fix=Message(
                    "Change the forward address to http://<forwarder>:888/api-dingtalk-com/."
                ),
            )
        return CheckResult.passed("api_version", detail="v2: /v1.0/oauth2/accessToken, oauth2/auth")
    return CheckResult(
        "api_version",
        Status.WARN,
        cause=Message(
            "V1 (legacy API) is chosen. Apps created now must use V2; V1 is for legacy apps only."
        ),
        fix=Message("If this DingTalk app is new, set 钉钉接口版本 to V2."),
        detail="v1: /gettoken, SNS qrconnect login",
    )
