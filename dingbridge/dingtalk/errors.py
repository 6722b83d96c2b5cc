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

Every error has ``hint``, what an admin should do, as a catalog message
(:class:`dingbridge.i18n.Message`: English, and Chinese from the catalogs); ``explanation``
(zh-CN) and ``explanation_en`` are that hint in each language.
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
from dingbridge.i18n import Message

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

    hint_default = Message("DingTalk returned an error; look up the error code.")

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
    def hint(self) -> Message:
        """What an admin should do, in the reader's language (``hint.in_language(...)``)."""
        hint = CODE_HINTS.get(self.effective_code or "") if type(self) is DingTalkError else None
        return hint or self.hint_default

    @property
    def explanation(self) -> str:
        return self.hint.in_language("zh_CN")

    @property
    def explanation_en(self) -> str:
        return self.hint.in_language("en")

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
    def hint(self) -> Message:
        if self.kind == "timeout":
            return Message(
                "The DingTalk call timed out: check the network path to DingTalk "
                "(or the forward address)."
            )
        if self.kind == "tls":
            return Message(
                "TLS to DingTalk (or the forward address) failed: check certificates "
                "and the system clock."
            )
        return Message(
            "Could not reach DingTalk (or the forward address): check the network, "
            "firewall and the forward address setting."
        )


class UnexpectedResponse(DingTalkError):
    hint_default = Message(
        "The answer is not DingTalk JSON: check that the forward address points at a "
        "DingTalk API forwarder."
    )


class InvalidCredentials(DingTalkError):
    hint_default = Message(
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
    def hint(self) -> Message:
        if self.ip:
            return Message(
                "DingTalk saw this call come from IP %(ip)s; add it to the app's "
                "服务器出口IP (开发配置 → 安全设置).",
                ip=self.ip,
            )
        return Message(
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
    def hint(self) -> Message:
        return Message(
            "The app lacks the permission %(permission)s: open 权限管理 for the app in the "
            "developer console, search for it and click 开通.",
            permission=self.permission,
        )


class TokenInvalid(DingTalkError):
    hint_default = Message(
        "The access token is invalid or expired; it is refreshed once automatically. If it "
        "keeps failing, check the token belongs to this app and corp."
    )


class AuthCodeInvalid(DingTalkError):
    hint_default = Message(
        "The auth code expired or was already used (codes live 5 minutes, single use); "
        "sign in again."
    )


class RateLimited(DingTalkError):
    @property
    def hint(self) -> Message:
        if self.effective_code in ("90020", "Forbidden.AccessDenied.ApiCountLimitForOrg"):
            return Message(
                "The organisation's monthly API quota (5000 calls, standard edition) is used "
                "up; upgrade or wait for next month."
            )
        if self.code == "ip-ban":
            return Message(
                "DingTalk blocked the egress IP for 5 minutes for too many calls; slow down."
            )
        return Message(
            "Rate limited (20 calls/s per app per API): wait a second and retry; cache "
            "tokens and results."
        )


class UserNotFound(DingTalkError):
    hint_default = Message(
        "User not found: check the person belongs to this corp and is within the app's "
        "contacts scope."
    )


class ServerBusy(DingTalkError):
    hint_default = Message("DingTalk is busy or failed internally; retry later.")


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
