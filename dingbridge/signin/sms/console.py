"""The console sender: no SMS at all, an in-memory outbox a developer can read.

For development mode and ``dingbridge demo`` only: the server lists the outbox at
``/_dev/outbox.json``, so anyone who can reach the server could read the codes. It refuses to be
built unless ``development=True``. The log line names the masked mobile, never the code.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

from dingbridge.signin.sms import DEFAULT_SIGN, SmsConfigError, format_code_text, mask_mobile

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxMessage:
    mobile: str
    text: str
    sent_at: float


class ConsoleSender:
    kind = "console"
    OPTIONS: tuple[str, ...] = ()
    OPTIONAL: tuple[str, ...] = ("sign", "max_messages")

    def __init__(
        self,
        *,
        development: bool = False,
        sign: str = DEFAULT_SIGN,
        max_messages: int = 200,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not development:
            raise SmsConfigError(
                [
                    "the console SMS sender shows codes on /_dev/outbox.json and works only in "
                    "development mode; configure aliyun, tencent or webhook for real use"
                ]
            )
        self.sign = sign
        self._clock = clock
        self._outbox: deque[OutboxMessage] = deque(maxlen=max_messages)

    async def send(
        self, mobile: str, code: str, *, template_params: Mapping[str, str] | None = None
    ) -> None:
        params = template_params or {}
        text = format_code_text(
            self.sign, code, params.get("minutes", "5"), params.get("space", "")
        )
        self._outbox.append(OutboxMessage(mobile, text, self._clock()))
        logger.info("dev SMS to %s put in the outbox (/_dev/outbox.json)", mask_mobile(mobile))

    @property
    def messages(self) -> list[OutboxMessage]:
        """Messages sent, oldest first (at most ``max_messages``)."""
        return list(self._outbox)

    def outbox(self) -> list[dict[str, object]]:
        """The outbox as JSON-ready dicts ``{"mobile", "text", "sent_at"}``, newest first."""
        return [asdict(m) for m in reversed(self._outbox)]

    def last_code_for(self, mobile: str) -> str | None:
        """The code in the newest message to ``mobile`` (for tests and the demo)."""
        for message in reversed(self._outbox):
            if message.mobile == mobile:
                marker = "您的验证码为 "
                start = message.text.find(marker)
                if start >= 0:
                    return message.text[start + len(marker) :].split("，", 1)[0]
        return None

    def clear(self) -> None:
        self._outbox.clear()
