"""One exception family for everything that can go wrong talking to DingTalk.

Exception tree::

    DingTalkError                 any failed DingTalk call; keeps errcode/sub_code/errmsg/request_id
    │                             (oapi) or code/message/requestid (api) and the HTTP status
    ├── TransportError            no DingTalk answer at all: connection refused, timeout, TLS,
    │                             dropped connection (``.kind`` says which)
    ├── UnexpectedResponse        an answer that is not DingTalk JSON (e.g. a proxy's HTML page)
    ├── InvalidCredentials        40096, 40089, invalidClientIdOrSecret: wrong AppKey/AppSecret
    ├── IpNotWhitelisted          60020, Forbidden.AccessDenied.IpNotInWhiteList (``.ip``)
    ├── PermissionDenied          60011, Forbidden.AccessDenied.AccessTokenPermissionDenied
    │                             (``.permission``: the console's name of what is missing)
    ├── TokenInvalid              40014, 40001, 42001, 41001, 88/40000, InvalidAuthentication ...
    ├── AuthCodeInvalid           40078, 40102, 42008, invalidCode: code expired or already used
    ├── RateLimited               90018, 90002, 9000x, Qps*/Qpm*, monthly quota, IP ban body
    ├── UserNotFound              60121, 33012, 40104, invalidParameter.user.notFound
    └── ServerBusy                -1, HTTP 5xx, systemBusy/unknownError

Every error has ``explanation`` (zh-CN) and ``explanation_en``: what an admin should do.
Error strings never contain the AppSecret, tokens or codes: they are built only from
DingTalk's answer and the endpoint path (never the query string).

errcode 88 is a gateway wrapper on ``/topapi/*``: the effective code is ``sub_code``
(``effective_code`` gives it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dingbridge.dingtalk.error_hints import CODE_HINTS
from dingbridge.dingtalk.permissions import permission_for_path, permission_label

__all__ = [
    "AuthCodeInvalid",
    "DingTalkError",
    "InvalidCredentials",
    "IpNotWhitelisted",
    "PermissionDenied",
    "RateLimited",
    "ServerBusy",
    "TokenInvalid",
    "TransportError",
    "UnexpectedResponse",
    "UserNotFound",
    "error_from_api",
    "error_from_oapi",
]


class DingTalkError(Exception):
    """A DingTalk call failed. Fields absent from the answer are ``None``."""

    explanation_zh_default = "钉钉接口返回错误，请根据错误码排查。"
    explanation_en_default = "DingTalk returned an error; look up the error code."

    def __init__(
        self,
        message: str | None = None,
        *,
        path: str = "",
        status: int | None = None,
        errcode: int | None = None,
        sub_code: str | None = None,
        sub_msg: str | None = None,
        errmsg: str | None = None,
        code: str | None = None,
        request_id: str | None = None,
        required_scopes: tuple[str, ...] = (),
    ) -> None:
        self.path = path
        self.status = status
        self.errcode = errcode
        self.sub_code = sub_code
        self.sub_msg = sub_msg
        self.errmsg = errmsg
        self.code = code
        self.request_id = request_id
        self.required_scopes = required_scopes
        super().__init__(message or self._default_message())

    # api-generation spellings
    @property
    def message(self) -> str | None:
        return self.errmsg

    @property
    def requestid(self) -> str | None:
        return self.request_id

    @property
    def effective_code(self) -> str | None:
        """sub_code when errcode is the 88 wrapper, else errcode or the api ``code``."""
        if self.errcode == 88 and self.sub_code:
            return self.sub_code
        if self.errcode is not None:
            return str(self.errcode)
        return self.code

    @property
    def explanation(self) -> str:
        hint = CODE_HINTS.get(self.effective_code or "") if type(self) is DingTalkError else None
        return hint[0] if hint else self.explanation_zh_default

    @property
    def explanation_en(self) -> str:
        hint = CODE_HINTS.get(self.effective_code or "") if type(self) is DingTalkError else None
        return hint[1] if hint else self.explanation_en_default

    def _default_message(self) -> str:
        parts = [f"DingTalk {self.path or 'call'} failed"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.errcode is not None:
            parts.append(f"errcode={self.errcode}")
        if self.sub_code:
            parts.append(f"sub_code={self.sub_code}")
        if self.code:
            parts.append(f"code={self.code}")
        text = self.sub_msg or self.errmsg
        if text:
            parts.append(text)
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return ": ".join(parts[:1]) + (" (" + ", ".join(parts[1:]) + ")" if parts[1:] else "")


class TransportError(DingTalkError):
    """No answer from DingTalk (or the forwarder): ``kind`` is connect, timeout, tls, dropped."""

    def __init__(
        self, message: str, *, kind: str, path: str = "", reason: str | None = None
    ) -> None:
        self.kind = kind
        # For kind "connect", when the transport can tell: "refused" (nothing listens on that
        # port), "dns" (the host name does not resolve) or "unreachable" (no route, reset).
        self.reason = reason
        super().__init__(message, path=path)

    @property
    def explanation(self) -> str:
        return {
            "timeout": "调用钉钉接口超时：检查本服务器到钉钉（或转发地址）的网络。",
            "tls": "与钉钉（或转发地址）的 TLS 握手失败：检查证书和系统时间。",
        }.get(self.kind, "无法连接钉钉（或转发地址）：检查网络、防火墙和转发地址设置。")

    @property
    def explanation_en(self) -> str:
        return {
            "timeout": "The DingTalk call timed out: check the network path to DingTalk "
            "(or the forward address).",
            "tls": "TLS to DingTalk (or the forward address) failed: check certificates "
            "and the system clock.",
        }.get(
            self.kind,
            "Could not reach DingTalk (or the forward address): check the network, "
            "firewall and the forward address setting.",
        )


class UnexpectedResponse(DingTalkError):
    explanation_zh_default = "收到的不是钉钉的 JSON 应答：检查转发地址是否指向钉钉 API 转发服务。"
    explanation_en_default = (
        "The answer is not DingTalk JSON: check that the forward address points at a "
        "DingTalk API forwarder."
    )


class InvalidCredentials(DingTalkError):
    explanation_zh_default = (
        "AppKey 或 AppSecret 不正确：在钉钉开发者后台 应用 → 凭证与基础信息 复制正确的值。"
    )
    explanation_en_default = (
        "Wrong AppKey or AppSecret: copy both from the app's 凭证与基础信息 page "
        "in the DingTalk developer console."
    )


_IP_RE = re.compile(r"request ip=\s*([0-9a-fA-F:.]+)")


class IpNotWhitelisted(DingTalkError):
    """The egress IP DingTalk saw is not in the app's 服务器出口IP list (``ip`` when named)."""

    @property
    def ip(self) -> str | None:
        for text in (self.errmsg, self.sub_msg):
            match = _IP_RE.search(text or "")
            if match:
                return match.group(1).rstrip(".")
        return None

    @property
    def explanation(self) -> str:
        if self.ip:
            return (
                f"钉钉看到此调用来自 IP {self.ip}：请把它加入应用的 服务器出口IP"
                "（开发配置 → 安全设置）。"
            )
        return (
            "调用方 IP 不在白名单中：请把本服务器（或转发服务器）的出口 IP "
            "加入应用的 服务器出口IP。"
        )

    @property
    def explanation_en(self) -> str:
        if self.ip:
            return (
                f"DingTalk saw this call come from IP {self.ip}; add it to the app's "
                "服务器出口IP (开发配置 → 安全设置)."
            )
        return (
            "The calling IP is not whitelisted; add this server's (or the forwarder's) "
            "egress IP to the app's 服务器出口IP."
        )


class PermissionDenied(DingTalkError):
    """The app lacks an API permission; ``permission`` names it as the console does."""

    @property
    def permission(self) -> str:
        if self.required_scopes:
            return "、".join(permission_label(scope) for scope in self.required_scopes)
        return permission_label(permission_for_path(self.path))

    @property
    def explanation(self) -> str:
        return (
            f"应用缺少接口权限 {self.permission}：在开发者后台 应用 → 权限管理 搜索并开通，"
            "然后重新发布应用版本。"
        )

    @property
    def explanation_en(self) -> str:
        return (
            f"The app lacks the permission {self.permission}: open 权限管理 for the app in the "
            "developer console, search for it and click 开通."
        )


class TokenInvalid(DingTalkError):
    explanation_zh_default = (
        "访问令牌无效或已过期：会自动刷新一次；若仍失败，检查令牌是否来自同一应用和企业。"
    )
    explanation_en_default = (
        "The access token is invalid or expired; it is refreshed once automatically. If it "
        "keeps failing, check the token belongs to this app and corp."
    )


class AuthCodeInvalid(DingTalkError):
    explanation_zh_default = (
        "授权码已过期或已被使用（授权码 5 分钟内有效且只能用一次）：请重新登录。"
    )
    explanation_en_default = (
        "The auth code expired or was already used (codes live 5 minutes, single use); "
        "sign in again."
    )


class RateLimited(DingTalkError):
    @property
    def explanation(self) -> str:
        if self.effective_code in ("90020", "Forbidden.AccessDenied.ApiCountLimitForOrg"):
            return "企业本月接口调用次数已用完（标准版每月 5000 次）：升级版本或等待下月。"
        if self.code == "ip-ban":
            return "出口 IP 调用过于频繁被钉钉封禁 5 分钟：降低调用频率后重试。"
        return "调用频率超限（每应用每接口 20 次/秒）：稍等一秒后重试，并缓存令牌和结果。"

    @property
    def explanation_en(self) -> str:
        if self.effective_code in ("90020", "Forbidden.AccessDenied.ApiCountLimitForOrg"):
            return (
                "The organisation's monthly API quota (5000 calls, standard edition) is used "
                "up; upgrade or wait for next month."
            )
        if self.code == "ip-ban":
            return "DingTalk blocked the egress IP for 5 minutes for too many calls; slow down."
        return (
            "Rate limited (20 calls/s per app per API): wait a second and retry; cache "
            "tokens and results."
        )


class UserNotFound(DingTalkError):
    explanation_zh_default = "找不到该用户：确认用户属于本企业且在应用的通讯录授权范围内。"
    explanation_en_default = (
        "User not found: check the person belongs to this corp and is within the app's "
        "contacts scope."
    )


class ServerBusy(DingTalkError):
    explanation_zh_default = "钉钉系统繁忙或服务器错误：稍后重试。"
    explanation_en_default = "DingTalk is busy or failed internally; retry later."


_CODE_CLASSES: dict[str, type[DingTalkError]] = {
    "40096": InvalidCredentials,
    "40089": InvalidCredentials,
    "invalidClientIdOrSecret": InvalidCredentials,
    "invalid.client": InvalidCredentials,
    "60020": IpNotWhitelisted,
    "Forbidden.AccessDenied.IpNotInWhiteList": IpNotWhitelisted,
    "60011": PermissionDenied,
    "Forbidden.AccessDenied.AccessTokenPermissionDenied": PermissionDenied,
    "40014": TokenInvalid,
    "40001": TokenInvalid,
    "42001": TokenInvalid,
    "41001": TokenInvalid,
    "40000": TokenInvalid,
    "InvalidAuthentication": TokenInvalid,
    "AuthenticationFailed.MissingParameter": TokenInvalid,
    "accesstoken.expired": TokenInvalid,
    "40078": AuthCodeInvalid,
    "40102": AuthCodeInvalid,
    "42008": AuthCodeInvalid,
    "invalidCode": AuthCodeInvalid,
    "invalidAuthCode": AuthCodeInvalid,
    "90018": RateLimited,
    "90002": RateLimited,
    "90020": RateLimited,
    "Forbidden.AccessDenied.ApiCountLimitForOrg": RateLimited,
    "60121": UserNotFound,
    "33012": UserNotFound,
    "40104": UserNotFound,
    "invalidParameter.user.notFound": UserNotFound,
    "-1": ServerBusy,
    "systemBusy": ServerBusy,
    "unknownError": ServerBusy,
    "server.error": ServerBusy,
}


def _class_for(code: str | None, status: int | None) -> type[DingTalkError]:
    if code is not None:
        if code in _CODE_CLASSES:
            return _CODE_CLASSES[code]
        if code.startswith(("Forbidden.AccessDenied.Qps", "Forbidden.AccessDenied.Qpm")):
            return RateLimited
        if code.isdigit() and 90001 <= int(code) <= 90014:
            return RateLimited
    if status is not None and status >= 500:
        return ServerBusy
    return DingTalkError


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def error_from_oapi(body: Mapping[str, Any], *, path: str, status: int) -> DingTalkError:
    """Build the error for an oapi answer whose ``errcode`` is not 0 (or an IP-ban body)."""
    if "errcode" not in body and body.get("punish") == "deny":
        return RateLimited(path=path, status=status, code="ip-ban", errmsg="IP blocked")
    raw = body.get("errcode")
    try:
        errcode: int | None = int(raw) if raw is not None else None
    except (TypeError, ValueError):
        errcode = None
    sub_code = _str_or_none(body.get("sub_code"))
    effective = sub_code if errcode == 88 and sub_code else _str_or_none(errcode)
    cls = _class_for(effective, status)
    if cls is DingTalkError and errcode == 88:
        cls = TokenInvalid  # 88 without a known sub_code is an authentication failure
    return cls(
        path=path,
        status=status,
        errcode=errcode,
        sub_code=sub_code,
        sub_msg=_str_or_none(body.get("sub_msg")),
        errmsg=_str_or_none(body.get("errmsg")),
        request_id=_str_or_none(body.get("request_id")),
    )


def _get_any(body: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if name in body:
            return body[name]
    return None


def error_from_api(body: Mapping[str, Any], *, path: str, status: int) -> DingTalkError:
    """Build the error for an api-host (v1.0) answer with HTTP status >= 400."""
    if "errcode" in body:  # the api host answers oapi-style for unknown paths
        return error_from_oapi(body, path=path, status=status)
    if body.get("punish") == "deny":
        return RateLimited(path=path, status=status, code="ip-ban", errmsg="IP blocked")
    code = _str_or_none(_get_any(body, "code", "Code"))
    detail = _get_any(body, "accessdenieddetail", "accessDeniedDetail", "AccessDeniedDetail")
    scopes: tuple[str, ...] = ()
    if isinstance(detail, Mapping):
        raw_scopes = _get_any(detail, "requiredScopes", "RequiredScopes")
        if isinstance(raw_scopes, list):
            scopes = tuple(str(s) for s in raw_scopes)
    return _class_for(code, status)(
        path=path,
        status=status,
        code=code,
        errmsg=_str_or_none(_get_any(body, "message", "Message")),
        request_id=_str_or_none(_get_any(body, "requestid", "requestId", "RequestId")),
        required_scopes=scopes,
    )
