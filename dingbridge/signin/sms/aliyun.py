"""Aliyun SMS (阿里云短信服务) through the official SDK ``alibabacloud_dysmsapi20170525``.

The SDK is synchronous; each send runs in a worker thread. ``endpoint`` and ``protocol`` are
settings so tests can point the SDK at a local fake. Aliyun answers ``{"Code": "OK", ...}`` on
success and another ``Code`` (e.g. ``isv.BUSINESS_LIMIT_CONTROL``) on refusal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from dingbridge.signin.sms import SendFailure, SmsConfigError, redact_http_debug_logs
from dingbridge.signin.sms.cloud_sdk import SdkAnswer, sdk_missing, send_with_sdk

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "dysmsapi.aliyuncs.com"

# Aliyun error codes → what the user is told. Anything else is "unavailable".
_RATE_LIMITED = {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "Throttling.User"}
_REJECTED = {
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.MOBILE_COUNT_OVER_LIMIT",
    "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.DENY_IP_RANGE",
}
_MISCONFIGURED_PREFIXES = (
    "isv.SMS_SIGNATURE",
    "isv.SMS_TEMPLATE",
    "isv.TEMPLATE",
    "isv.INVALID_PARAMETERS",
    "isv.ACCOUNT",
    "isv.OUT_OF_SERVICE",
    "isv.AMOUNT_NOT_ENOUGH",
    "isp.RAM_PERMISSION_DENY",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "Forbidden",
    "MissingParameter",
)


def classify(code: str) -> SendFailure:
    if code in _RATE_LIMITED:
        return "rate_limited"
    if code in _REJECTED:
        return "rejected"
    if code.startswith(_MISCONFIGURED_PREFIXES):
        return "misconfigured"
    return "unavailable"


def _describe_sdk_exception(exc: Exception) -> tuple[str, str]:
    """(error code, message) of what the Aliyun SDK raised (``code``/``message`` attributes)."""
    error_code = str(getattr(exc, "code", "") or type(exc).__name__)
    return error_code, str(getattr(exc, "message", "") or exc)


def _require_sdk() -> Any:
    try:
        from alibabacloud_dysmsapi20170525 import client  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise sdk_missing("aliyun", "Aliyun SDK", "alibabacloud-dysmsapi20170525") from None
    return client


class AliyunSender:
    kind = "aliyun"
    OPTIONS: tuple[str, ...] = ("access_key_id", "access_key_secret", "sign_name", "template_code")
    OPTIONAL: tuple[str, ...] = (
        "endpoint",
        "protocol",
        "timeout",
        "code_param",
        "minutes_param",
        "space_param",
    )

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template_code: str,
        endpoint: str = DEFAULT_ENDPOINT,
        protocol: str = "https",
        timeout: float = 10.0,
        code_param: str = "code",
        minutes_param: str | None = None,
        space_param: str | None = None,
    ) -> None:
        _require_sdk()
        redact_http_debug_logs()
        if protocol not in ("https", "http"):
            raise SmsConfigError([f"aliyun protocol must be https or http, got {protocol!r}"])
        self._access_key_id = access_key_id
        self._access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.template_code = template_code
        self.endpoint = endpoint
        self.protocol = protocol
        self.timeout = float(timeout)
        self.code_param = code_param
        self.minutes_param = minutes_param
        self.space_param = space_param
        self._client: Any = None

    def __repr__(self) -> str:  # never show the keys
        return f"AliyunSender(endpoint={self.endpoint!r}, sign_name={self.sign_name!r})"

    def _sdk_client(self) -> Any:
        if self._client is None:
            from alibabacloud_dysmsapi20170525.client import Client  # type: ignore[import-untyped]
            from alibabacloud_tea_openapi import utils_models  # type: ignore[import-untyped]

            config = utils_models.Config(
                access_key_id=self._access_key_id,
                access_key_secret=self._access_key_secret,
                endpoint=self.endpoint,
                protocol=self.protocol,
            )
            self._client = Client(config)
        return self._client

    def _send_sync(self, mobile: str, params: dict[str, str]) -> SdkAnswer:
        from alibabacloud_dysmsapi20170525 import models
        from darabonba.runtime import RuntimeOptions  # type: ignore[import-untyped]

        request = models.SendSmsRequest(
            phone_numbers=mobile.removeprefix("+86"),
            sign_name=self.sign_name,
            template_code=self.template_code,
            template_param=json.dumps(params, ensure_ascii=False),
        )
        ms = int(self.timeout * 1000)
        runtime = RuntimeOptions(autoretry=False, connect_timeout=ms, read_timeout=ms)
        response = self._sdk_client().send_sms_with_options(request, runtime)
        body = response.body
        return str(body.code or ""), str(body.message or ""), str(body.request_id or "")

    async def send(
        self, mobile: str, code: str, *, template_params: Mapping[str, str] | None = None
    ) -> None:
        # Aliyun fills the template's ${code} (and ${minutes} when the template has one).
        params = {self.code_param: code}
        if self.minutes_param:
            params[self.minutes_param] = (template_params or {}).get("minutes", "5")
        if self.space_param:  # the app space, when the template names it (${space})
            params[self.space_param] = (template_params or {}).get("space", "")
        await send_with_sdk(
            lambda: self._send_sync(mobile, params),
            provider=self.kind,
            ok_code="OK",
            mobile=mobile,
            secrets=(code, self._access_key_secret),
            classify=classify,
            describe_exception=_describe_sdk_exception,
            log=logger,
        )
