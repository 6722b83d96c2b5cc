"""Tencent Cloud SMS (腾讯云短信) through the official SDK ``tencentcloud-sdk-python-sms``.

API version 2021-01-11 ``SendSms``. The SDK is synchronous; each send runs in a worker thread.
``endpoint`` and ``protocol`` are settings so tests can point the SDK at a local fake. A request
can fail as a whole (``Response.Error.Code``, raised by the SDK) or per number
(``SendStatusSet[0].Code`` other than ``Ok``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from dingbridge.signin.sms import SendFailure, SmsConfigError, redact_http_debug_logs
from dingbridge.signin.sms.cloud_sdk import SdkAnswer, sdk_missing, send_with_sdk

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "sms.tencentcloudapi.com"
TEMPLATE_VALUES = ("code", "minutes", "space")


def classify(code: str) -> SendFailure:
    if code.startswith("LimitExceeded.") or code == "RequestLimitExceeded":
        return "rate_limited"
    if code.startswith("InvalidParameterValue.IncorrectPhoneNumber") or code in (
        "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
        "FailedOperation.PhoneNumberInBlacklist",
        "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny",
    ):
        return "rejected"
    if code.startswith(
        (
            "AuthFailure",
            "FailedOperation.SignatureIncorrectOrUnapproved",
            "FailedOperation.TemplateIncorrectOrUnapproved",
            "FailedOperation.InsufficientBalanceInSmsPackage",
            "FailedOperation.MissingSignature",
            "FailedOperation.MissingTemplate",
            "InvalidParameterValue.TemplateParameterFormatError",
            "InvalidParameterValue.SdkAppIdNotExist",
            "UnauthorizedOperation",
        )
    ):
        return "misconfigured"
    return "unavailable"


def _describe_sdk_exception(exc: Exception) -> tuple[str, str]:
    """(error code, message) of what the Tencent SDK raised (``TencentCloudSDKException``
    has ``get_code()``/``get_message()``; transport errors have neither)."""
    get_code = getattr(exc, "get_code", None)
    error_code = str(get_code() if callable(get_code) else "") or type(exc).__name__
    get_message = getattr(exc, "get_message", None)
    return error_code, str(get_message() if callable(get_message) else exc)


def _require_sdk() -> None:
    try:
        import tencentcloud.sms.v20210111  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise sdk_missing("tencent", "Tencent Cloud SDK", "tencentcloud-sdk-python-sms") from None


def e164(mobile: str) -> str:
    """Tencent wants E.164: 11-digit mainland numbers get ``+86``."""
    mobile = mobile.strip()
    if mobile.startswith("+"):
        return mobile
    if len(mobile) == 11 and mobile.isdigit():
        return "+86" + mobile
    return "+" + mobile


class TencentSender:
    kind = "tencent"
    OPTIONS: tuple[str, ...] = ("secret_id", "secret_key", "sdk_app_id", "sign_name", "template_id")
    OPTIONAL: tuple[str, ...] = ("region", "endpoint", "protocol", "timeout", "template_values")

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        template_id: str,
        region: str = "ap-guangzhou",
        endpoint: str = DEFAULT_ENDPOINT,
        protocol: str = "https",
        timeout: float = 10.0,
        template_values: Sequence[str] = ("code",),
    ) -> None:
        _require_sdk()
        redact_http_debug_logs()
        problems = []
        if protocol not in ("https", "http"):
            problems.append(f"tencent protocol must be https or http, got {protocol!r}")
        unknown = [v for v in template_values if v not in TEMPLATE_VALUES]
        if unknown or not template_values:
            problems.append(
                f"tencent template_values must list {' and/or '.join(TEMPLATE_VALUES)} "
                f"in the template's {{1}}, {{2}} order, got {list(template_values)!r}"
            )
        if problems:
            raise SmsConfigError(problems)
        self._secret_id = secret_id
        self._secret_key = secret_key
        self.sdk_app_id = str(sdk_app_id)
        self.sign_name = sign_name
        self.template_id = str(template_id)
        self.region = region
        self.endpoint = endpoint
        self.protocol = protocol
        self.timeout = float(timeout)
        self.template_values = tuple(template_values)
        self._client: Any = None

    def __repr__(self) -> str:  # never show the keys
        return f"TencentSender(endpoint={self.endpoint!r}, sign_name={self.sign_name!r})"

    def _sdk_client(self) -> Any:
        if self._client is None:
            from tencentcloud.common import credential  # type: ignore[import-untyped]
            from tencentcloud.common.profile.client_profile import ClientProfile  # type: ignore[import-untyped]
            from tencentcloud.common.profile.http_profile import HttpProfile  # type: ignore[import-untyped]
            from tencentcloud.sms.v20210111 import sms_client

            http = HttpProfile(
                protocol=self.protocol, endpoint=self.endpoint, reqTimeout=int(self.timeout) or 1
            )
            self._client = sms_client.SmsClient(
                credential.Credential(self._secret_id, self._secret_key),
                self.region,
                ClientProfile(httpProfile=http),
            )
        return self._client

    def _send_sync(self, mobile: str, values: list[str]) -> SdkAnswer:
        from tencentcloud.sms.v20210111 import models

        request = models.SendSmsRequest()
        request.PhoneNumberSet = [e164(mobile)]
        request.SmsSdkAppId = self.sdk_app_id
        request.SignName = self.sign_name
        request.TemplateId = self.template_id
        request.TemplateParamSet = values
        response = self._sdk_client().SendSms(request)
        statuses = response.SendStatusSet or []
        if not statuses:
            return "EmptySendStatusSet", "no send status returned", str(response.RequestId or "")
        status = statuses[0]
        return str(status.Code or ""), str(status.Message or ""), str(response.RequestId or "")

    async def send(
        self, mobile: str, code: str, *, template_params: Mapping[str, str] | None = None
    ) -> None:
        given = {"minutes": "5", "space": "", **(template_params or {}), "code": code}
        values = [given[name] for name in self.template_values]
        await send_with_sdk(
            lambda: self._send_sync(mobile, values),
            provider=self.kind,
            ok_code="Ok",
            mobile=mobile,
            secrets=(code, self._secret_key),
            classify=classify,
            describe_exception=_describe_sdk_exception,
            log=logger,
        )
