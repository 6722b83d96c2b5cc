"""The webhook sender: POST the code as JSON to your own HTTP endpoint.

Body: ``{"mobile": "...", "code": "123456", "text": "【sign】您的验证码为 …", "minutes": 5}``.
Headers: ``X-Dingbridge-Timestamp`` (Unix seconds) and ``X-Dingbridge-Signature:
sha256=<hex>``, the HMAC-SHA256 with the shared secret of ``<timestamp>.<raw body>``; the
receiver recomputes it (see :func:`signature`) and should refuse stale timestamps. Any 2xx
answer is success; anything else, a timeout or a connection error is an :class:`SmsSendError`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import aiohttp

from dingbridge.signin.sms import (
    DEFAULT_SIGN,
    SendFailure,
    SmsConfigError,
    SmsSendError,
    format_code_text,
    mask_mobile,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Dingbridge-Signature"
TIMESTAMP_HEADER = "X-Dingbridge-Timestamp"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, ``timestamp + "." + body``)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def _status_failure(status: int) -> SendFailure:
    if status == 429:
        return "rate_limited"
    if status in (401, 403, 404, 405):
        return "misconfigured"
    if 400 <= status < 500:
        return "rejected"
    return "unavailable"


class WebhookSender:
    kind = "webhook"
    OPTIONS: tuple[str, ...] = ("url", "secret")
    OPTIONAL: tuple[str, ...] = ("sign", "timeout")

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        sign: str = DEFAULT_SIGN,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(url)
        problems = []
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append("webhook url must be an http:// or https:// URL")
        if len(secret) < 16:
            problems.append("webhook secret must be at least 16 characters")
        if problems:
            raise SmsConfigError(problems)
        self.url = url
        self._secret = secret
        self.sign = sign
        self.timeout = float(timeout)
        self._clock = clock
        # Logged instead of the URL, whose query string may carry a token.
        self.target = f"{parts.scheme}://{parts.netloc}{parts.path}"

    def __repr__(self) -> str:
        return f"WebhookSender(target={self.target!r})"

    async def send(
        self, mobile: str, code: str, *, template_params: Mapping[str, str] | None = None
    ) -> None:
        params = template_params or {}
        minutes, space = params.get("minutes", "5"), params.get("space", "")
        payload = {
            "mobile": mobile,
            "code": code,
            "text": format_code_text(self.sign, code, minutes, space),
            "minutes": int(minutes),
        }
        if space:
            payload["space"] = space
        body = json.dumps(payload, ensure_ascii=False).encode()
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._secret, timestamp, body),
        }
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        masked = mask_mobile(mobile)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout, trust_env=False) as session,
                session.post(self.url, data=body, headers=headers, allow_redirects=False) as resp,
            ):
                status = resp.status
        except TimeoutError:
            logger.warning("webhook SMS to %s: %s timed out", masked, self.target)
            raise SmsSendError("unavailable", detail="timeout") from None
        except aiohttp.ClientError as exc:
            logger.warning(
                "webhook SMS to %s: %s unreachable (%s)", masked, self.target, type(exc).__name__
            )
            raise SmsSendError("unavailable", detail=type(exc).__name__) from None
        if not 200 <= status < 300:
            logger.warning("webhook SMS to %s: %s answered HTTP %d", masked, self.target, status)
            raise SmsSendError(
                _status_failure(status), provider_code=f"HTTP {status}", detail=f"HTTP {status}"
            )
        logger.info("webhook SMS sent to %s via %s", masked, self.target)
