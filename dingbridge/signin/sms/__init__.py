"""SMS senders for verification codes, behind one small interface.

``SmsSender.send(mobile, code, template_params=...)`` delivers one code or raises
:class:`SmsSendError`, whose ``user_message`` is safe to show (zh-CN) and whose ``reason`` lets
the web layer translate it. Implementations, each built by :func:`create_sender` from a settings
dict (``{"kind": "aliyun", ...}``):

- ``console``: development and demos only; keeps an in-memory outbox for ``/_dev/outbox.json``.
- ``aliyun``: Aliyun SMS (阿里云短信) through the official ``alibabacloud_dysmsapi20170525`` SDK.
- ``tencent``: Tencent Cloud SMS (腾讯云短信) through the official ``tencentcloud-sdk-python-sms``.
- ``webhook``: POSTs JSON to your own HTTP endpoint, signed with HMAC-SHA256.

The cloud SDKs are optional (``pip install 'dingbridge[sms]'``) and imported only when used.
Access keys and codes are never logged; mobiles are logged masked (``138****0001``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "SmsConfigError",
    "SmsSendError",
    "SmsSender",
    "create_sender",
    "format_code_text",
    "mask_mobile",
    "scrub",
    "space_label",
]

SendFailure = Literal["rate_limited", "rejected", "unavailable", "misconfigured"]

USER_MESSAGES: dict[str, str] = {
    "rate_limited": "该手机号接收短信过于频繁，请稍后再试。",
    "rejected": "短信未能发送到该手机号，请确认号码后重试或联系管理员。",
    "unavailable": "短信服务暂时不可用，请稍后再试。",
    "misconfigured": "短信服务配置有误，请联系管理员。",
}

CODE_TEXT = "【{sign}】您的验证码为 {code}，{minutes} 分钟内有效。如非本人操作，请忽略。"
# With the app space named, so a code for one space is not mistaken for another's.
SPACE_CODE_TEXT = (
    "【{sign}】您的验证码为 {code}，用于登录应用空间“{space}”，{minutes} 分钟内有效。"
    "如非本人操作，请忽略。"
)
DEFAULT_SIGN = "dingbridge"


class SmsSendError(Exception):
    """A code could not be sent. ``str(error)`` is the user-safe message.

    ``reason``: ``rate_limited`` (the provider throttles this number), ``rejected`` (the number
    or the message was refused), ``unavailable`` (network, timeout, provider down),
    ``misconfigured`` (keys, sign or template wrong: the admin must act).
    ``provider_code``: the provider's error code, for the log (e.g.
    ``isv.BUSINESS_LIMIT_CONTROL``). ``detail``: a log-safe description (no keys, no code).
    """

    def __init__(
        self,
        reason: SendFailure,
        *,
        provider_code: str | None = None,
        detail: str = "",
        user_message: str | None = None,
    ) -> None:
        self.reason: SendFailure = reason
        self.provider_code = provider_code
        self.detail = detail
        self.user_message = user_message or USER_MESSAGES[reason]
        super().__init__(self.user_message)


class SmsConfigError(ValueError):
    """The sender settings are invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid SMS sender settings: " + "; ".join(problems))


@runtime_checkable
class SmsSender(Protocol):
    """Delivers verification codes. ``template_params`` holds ``code``, ``minutes`` and
    ``space`` (the app space the code is for: ``销售部（10001）``).

    The built-in senders also have a ``kind`` attribute (``"aliyun"``…) used in log lines.
    """

    async def send(
        self, mobile: str, code: str, *, template_params: Mapping[str, str] | None = None
    ) -> None: ...


def format_code_text(sign: str, code: str, minutes: int | str = 5, space: str = "") -> str:
    """The zh-CN message text: ``【sign】您的验证码为 123456，用于登录应用空间“销售部（10001）”，
    5 分钟内有效。…`` (without the space when ``space`` is empty)."""
    if space:
        return SPACE_CODE_TEXT.format(sign=sign, code=code, minutes=minutes, space=space)
    return CODE_TEXT.format(sign=sign, code=code, minutes=minutes)


def space_label(name: str, space_id: int | str) -> str:
    """How a code's message names its app space: ``销售部（10001）``."""
    return f"{name}（{space_id}）"


def mask_mobile(mobile: str) -> str:
    """Hide the middle digits: ``13800000001`` → ``138****0001``, ``+8613800000001`` →
    ``+86138****0001``. Short or odd inputs keep at most their last 2 characters."""
    digits = mobile.strip()
    prefix = ""
    if digits.startswith("+86") and len(digits) == 14:
        prefix, digits = "+86", digits[3:]
    if len(digits) >= 11:
        return f"{prefix}{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 6:
        return f"{prefix}{digits[:2]}****{digits[-2:]}"
    return "*" * max(0, len(digits) - 2) + digits[-2:]


def scrub(text: str, *secrets: str) -> str:
    """``text`` with every non-empty secret replaced by ``***`` (for log lines)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


_QUERY = re.compile(r"\?[^\s\"]*")


class _RedactQueryStrings(logging.Filter):
    """Drops query strings from HTTP library debug lines (the Aliyun SDK puts the code and
    the mobile in the query string, and urllib3 logs request lines at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg = _QUERY.sub("?<redacted>", message)
            record.args = ()
        return True


class _FirstLineOnly(logging.Filter):
    """Keeps only the first line of SDK debug dumps (the Tencent SDK logs whole requests,
    code included, at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "\n" in message:
            record.msg = message.split("\n", 1)[0] + " <body redacted>"
            record.args = ()
        return True


_REDACTING_FILTERS: dict[str, type[logging.Filter]] = {
    "urllib3.connectionpool": _RedactQueryStrings,
    "tencentcloud_sdk_common": _FirstLineOnly,
}


def redact_http_debug_logs() -> None:
    """Install redacting filters on the SDKs' own debug loggers (idempotent)."""
    for name, kind in _REDACTING_FILTERS.items():
        target = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in target.filters):
            target.addFilter(kind())


def create_sender(config: Mapping[str, Any], *, development: bool = False) -> SmsSender:
    """Build the sender described by ``config`` (``{"kind": ..., <kind's settings>}``).

    Raises :class:`SmsConfigError` listing every problem (unknown kind, missing or unknown
    keys, the console sender outside development mode).
    """
    settings = dict(config)
    kind = settings.pop("kind", None)
    if kind == "console":
        from dingbridge.signin.sms.console import ConsoleSender

        return ConsoleSender(development=development, **_checked(kind, settings, ConsoleSender))
    if kind == "aliyun":
        from dingbridge.signin.sms.aliyun import AliyunSender

        return AliyunSender(**_checked(kind, settings, AliyunSender))
    if kind == "tencent":
        from dingbridge.signin.sms.tencent import TencentSender

        return TencentSender(**_checked(kind, settings, TencentSender))
    if kind == "webhook":
        from dingbridge.signin.sms.webhook import WebhookSender

        return WebhookSender(**_checked(kind, settings, WebhookSender))
    raise SmsConfigError(
        [f"unknown SMS sender kind {kind!r}: use one of console, aliyun, tencent, webhook"]
    )


def _checked(kind: str, settings: dict[str, Any], sender: Any) -> dict[str, Any]:
    """Check keys against the sender's ``OPTIONS`` (required) and ``OPTIONAL`` names."""
    required: tuple[str, ...] = sender.OPTIONS
    optional: tuple[str, ...] = sender.OPTIONAL
    problems = [
        f"{kind} sender needs {name!r}" for name in required if settings.get(name) in (None, "")
    ]
    problems += [
        f"{kind} sender has no setting {name!r} (known: {', '.join(required + optional)})"
        for name in settings
        if name not in required and name not in optional
    ]
    if problems:
        raise SmsConfigError(problems)
    return settings
