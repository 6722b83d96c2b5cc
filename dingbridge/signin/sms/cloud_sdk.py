"""What the Aliyun and Tencent senders share: one send through a blocking cloud SDK.

The SDK call runs in a worker thread. Its answer becomes one log line (mobile masked, code and
keys scrubbed) and, unless the provider said ok, an :class:`SmsSendError` classified by the
provider's own error code.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from dingbridge.signin.sms import SendFailure, SmsConfigError, SmsSendError, mask_mobile, scrub

__all__ = ["SdkAnswer", "sdk_missing", "send_with_sdk"]

SdkAnswer = tuple[str, str, str]
"""What a provider said about one number: (result code, message, request id)."""

_DETAIL_LIMIT = 300


def sdk_missing(provider: str, sdk: str, package: str) -> SmsConfigError:
    """The error for a sender whose optional cloud SDK is not installed."""
    return SmsConfigError(
        [f"the {provider} SMS sender needs the {sdk}: pip install 'dingbridge[sms]' ({package})"]
    )


async def send_with_sdk(
    send_sync: Callable[[], SdkAnswer],
    *,
    provider: str,
    ok_code: str,
    mobile: str,
    secrets: tuple[str, ...],
    classify: Callable[[str], SendFailure],
    describe_exception: Callable[[Exception], tuple[str, str]],
    log: logging.Logger,
) -> None:
    """Run ``send_sync`` in a thread; raise :class:`SmsSendError` unless it answers ``ok_code``.

    ``describe_exception`` turns what the SDK raised into (error code, message); ``secrets``
    (the code, the provider key) are scrubbed from every message before it is logged or kept.
    """
    try:
        result, message, request_id = await asyncio.to_thread(send_sync)
    except Exception as exc:  # the SDKs raise their own exception types and transport errors
        error_code, raw = describe_exception(exc)
        detail = scrub(raw, *secrets)[:_DETAIL_LIMIT]
        log.warning("%s SMS to %s failed: %s %s", provider, mask_mobile(mobile), error_code, detail)
        raise SmsSendError(classify(error_code), provider_code=error_code, detail=detail) from None
    if result != ok_code:
        detail = scrub(message, *secrets)[:_DETAIL_LIMIT]
        log.warning(
            "%s SMS to %s refused: %s %s (RequestId %s)",
            provider,
            mask_mobile(mobile),
            result,
            detail,
            request_id,
        )
        raise SmsSendError(classify(result), provider_code=result, detail=detail)
    log.info("%s SMS sent to %s (RequestId %s)", provider, mask_mobile(mobile), request_id)
