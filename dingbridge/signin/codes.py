"""SMS verification codes for binding a DingTalk user to a member.

Rules (defaults in :class:`CodePolicy`): 6 random digits from :mod:`secrets`; valid 5 minutes;
single use; dead after 5 wrong tries; one send per (space, mobile) per 60 seconds; at most 10
sends per mobile and 50 per client IP in 24 hours.

Storage is the shared :class:`~dingbridge.kv.KV`, so several server instances agree. Neither the
code nor the mobile is stored in clear: the record holds HMAC-SHA256(server key, code and
context) and the keys hold an HMAC of the mobile; checks use :func:`hmac.compare_digest`. Tries
count with an atomic ``incr`` and a correct code is claimed with ``set_if_absent``, so parallel
guesses cannot exceed the limit and a code cannot be used twice.

A sender failure leaves everything as it was (the previous code, if any, still works; no
cool-down; nothing counted against the caps) and raises the sender's
:class:`~dingbridge.signin.sms.SmsSendError`, whose message is safe to show. The log names the
masked mobile, never the code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from dingbridge.kv import KV, KVError
from dingbridge.ratelimit import RateLimiter
from dingbridge.signin.sms import SmsSender, SmsSendError, mask_mobile, scrub

logger = logging.getLogger(__name__)

DAY = 24 * 3600.0
# The record outlives the code by this much so a late entry reads "expired", not "none".
EXPIRED_GRACE = 3600.0
_MOBILE = re.compile(r"^\+?[0-9]{5,20}$")


@dataclass(frozen=True)
class CodePolicy:
    length: int = 6
    lifetime: float = 300.0
    max_tries: int = 5
    resend_cooldown: float = 60.0
    daily_per_mobile: int = 10
    daily_per_ip: int = 50

    def __post_init__(self) -> None:
        if not 4 <= self.length <= 10:
            raise ValueError("code length must be between 4 and 10 digits")
        if self.lifetime <= 0 or self.resend_cooldown < 0:
            raise ValueError("code lifetime must be positive and the cool-down not negative")
        if min(self.max_tries, self.daily_per_mobile, self.daily_per_ip) < 1:
            raise ValueError("tries and daily caps must be at least 1")

    @property
    def minutes(self) -> int:
        return max(1, round(self.lifetime / 60))


SendStatus = Literal["sent", "cooldown", "mobile_limit", "ip_limit"]
VerifyStatus = Literal["ok", "wrong", "expired", "dead", "none"]


@dataclass(frozen=True)
class SendResult:
    """``sent``: a code is on its way (``expires_in`` seconds of life). Otherwise nothing was
    sent and ``retry_after`` says when to try again: ``cooldown`` (60 s between sends),
    ``mobile_limit`` / ``ip_limit`` (daily caps)."""

    status: SendStatus
    retry_after: float = 0.0
    expires_in: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "sent"


@dataclass(frozen=True)
class VerifyResult:
    """``ok``: correct, and now used up. ``wrong``: ``tries_left`` more tries. ``dead``: too many
    wrong tries, send a new code. ``expired``: too late, send a new code. ``none``: no code
    was sent (or it was already used)."""

    status: VerifyStatus
    tries_left: int = 0
    # ``ok`` only: the used code's record, for :meth:`CodeService.reinstate`.
    used: tuple[str, str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class CodeService:
    """Sends and checks codes. ``key``: the codes key (:class:`dingbridge.keys.SignInKeys`,
    at least 16 bytes)."""

    def __init__(
        self,
        kv: KV,
        sender: SmsSender,
        key: bytes,
        clock: Callable[[], float] = time.time,
        policy: CodePolicy | None = None,
    ) -> None:
        if len(key) < 16:
            raise ValueError("the code key must be at least 16 bytes")
        self._kv = kv
        self._sender = sender
        self._key = key
        self._clock = clock
        self.policy = policy or CodePolicy()
        self._limits = RateLimiter(kv)
        self._sender_kind = str(getattr(sender, "kind", type(sender).__name__))

    # -- keys and hashes ----------------------------------------------------------------
    def _mac(self, *parts: str) -> str:
        message = "\0".join(parts).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _mobile_id(self, mobile: str) -> str:
        return self._mac("mobile", mobile)[:32]

    def _code_hash(self, space: str, mobile: str, nonce: str, code: str) -> str:
        return self._mac("code", space, mobile, nonce, code)

    @staticmethod
    def _check(mobile: str) -> None:
        if not _MOBILE.match(mobile):
            raise ValueError("the mobile number must be digits, optionally with a leading +")

    # -- API ----------------------------------------------------------------------------
    async def send(
        self,
        space_id: int | str,
        mobile: str,
        client_ip: str,
        *,
        deliver: bool = True,
        space_label: str = "",
    ) -> SendResult:
        """Send a fresh code to ``mobile`` for ``space_id`` unless a limit applies; the message
        names the space as ``space_label`` (``销售部（10001）``) when given.

        ``deliver=False`` (a number of no active member): every step and count is the same
        (cool-down, daily caps per mobile and per IP, the record with its expiry and tries)
        but nothing is sent and the stored code is 64 random hex digits no one is told, so
        no answer of :meth:`send` or :meth:`verify` tells whether the number is a member's.

        Raises :class:`SmsSendError` when the sender fails (nothing consumed).
        """
        self._check(mobile)
        space, policy = str(space_id), self.policy
        mid = self._mobile_id(mobile)
        mobile_bucket = f"code-day-mobile:{mid}"
        ip_bucket = f"code-day-ip:{self._mac('ip', client_ip)[:32]}" if client_ip else ""

        cooldown_key = f"code-cool:{space}:{mid}"
        if policy.resend_cooldown > 0 and not await self._kv.set_if_absent(
            cooldown_key, b"1", ttl=policy.resend_cooldown
        ):
            left = await self._kv.ttl(cooldown_key)
            retry_after = policy.resend_cooldown if left is None else left
            return SendResult("cooldown", retry_after=retry_after)
        # Counted first (parallel sends cannot pass a cap together), given back if not sent.
        caps: list[tuple[str, int, SendStatus]] = [
            (mobile_bucket, policy.daily_per_mobile, "mobile_limit")
        ]
        if ip_bucket:
            caps.append((ip_bucket, policy.daily_per_ip, "ip_limit"))
        spent: list[str] = []
        for bucket, cap, status in caps:
            spent.append(bucket)
            counted = await self._limits.hit(bucket, cap, DAY)
            if not counted.allowed:
                await self._kv.delete(cooldown_key)
                await self._give_back(spent)
                return SendResult(status, retry_after=counted.retry_after)

        if deliver:
            code = "".join(secrets.choice("0123456789") for _ in range(policy.length))
            try:
                await self._deliver(space, mobile, code, space_label)
            except SmsSendError:
                await self._give_back(spent)
                raise
        else:
            code = secrets.token_hex(32)
            logger.info(
                "space %s: code asked for %s, not an active member's number: nothing sent",
                space,
                mask_mobile(mobile),
            )

        nonce = secrets.token_hex(16)
        now = self._clock()
        record = {
            "nonce": nonce,
            "hash": self._code_hash(space, mobile, nonce, code),
            "expires_at": now + policy.lifetime,
        }
        await self._kv.set(
            f"code:{space}:{mid}", json.dumps(record).encode(), ttl=policy.lifetime + EXPIRED_GRACE
        )
        return SendResult("sent", retry_after=policy.resend_cooldown, expires_in=policy.lifetime)

    async def _give_back(self, buckets: list[str]) -> None:
        for bucket in buckets:
            await self._limits.give_back(bucket, DAY)

    async def _deliver(self, space: str, mobile: str, code: str, space_label: str) -> None:
        params = {"code": code, "minutes": str(self.policy.minutes)}
        if space_label:
            params["space"] = space_label
        cooldown_key = f"code-cool:{space}:{self._mobile_id(mobile)}"
        try:
            await self._sender.send(mobile, code, template_params=params)
        except SmsSendError as exc:
            await self._kv.delete(cooldown_key)
            logger.error(
                "verification code for %s (space %s) not sent: %s sender, %s %s",
                mask_mobile(mobile),
                space,
                self._sender_kind,
                exc.provider_code or exc.reason,
                scrub(exc.detail, code, mobile),
            )
            raise
        except Exception as exc:
            await self._kv.delete(cooldown_key)
            logger.error(
                "verification code for %s (space %s) not sent: %s sender raised %s: %s",
                mask_mobile(mobile),
                space,
                self._sender_kind,
                type(exc).__name__,
                scrub(str(exc), code, mobile)[:300],
            )
            raise SmsSendError("unavailable", detail=type(exc).__name__) from None
        logger.info("verification code sent to %s for space %s", mask_mobile(mobile), space)

    async def verify(self, space_id: int | str, mobile: str, code: str) -> VerifyResult:
        """Check ``code`` for (``space_id``, ``mobile``); a correct code works once."""
        space, policy = str(space_id), self.policy
        mid = self._mobile_id(mobile)
        record_key = f"code:{space}:{mid}"
        raw = await self._kv.get(record_key)
        if raw is None:
            return VerifyResult("none")
        record = json.loads(raw)
        nonce: str = record["nonce"]
        tries_key = f"code-tries:{nonce}"
        if self._clock() >= record["expires_at"]:
            return VerifyResult("expired")
        remaining_life = policy.lifetime + EXPIRED_GRACE
        tries = await self._kv.incr(tries_key, ttl=remaining_life)
        if tries > policy.max_tries:
            return VerifyResult("dead")
        # NFKC turns full-width digits typed with a Chinese IME (１２３) into ASCII.
        entered = unicodedata.normalize("NFKC", code).strip()
        candidate = self._code_hash(space, mobile, nonce, entered)
        if hmac.compare_digest(candidate, record["hash"]):
            if not await self._kv.set_if_absent(f"code-used:{nonce}", b"1", ttl=remaining_life):
                return VerifyResult("none")
            await self._kv.delete(record_key)
            await self._kv.delete(tries_key)
            logger.info("verification code accepted for %s, space %s", mask_mobile(mobile), space)
            return VerifyResult("ok", used=(record_key, raw.decode(), nonce))
        left = policy.max_tries - tries
        if left == 0:
            logger.warning(
                "verification code for %s, space %s: too many wrong tries",
                mask_mobile(mobile),
                space,
            )
            return VerifyResult("dead")
        return VerifyResult("wrong", tries_left=left)

    async def reinstate(self, result: VerifyResult) -> None:
        """Make an accepted code usable again: what it proved could not be saved (the
        database failed), so the person may type the same code once more instead of waiting
        for the resend cool-down. Best effort: the store may be down too."""
        if result.used is None:
            return
        record_key, raw, nonce = result.used
        left = json.loads(raw)["expires_at"] - self._clock()
        if left <= 0:
            return
        try:
            await self._kv.set(record_key, raw.encode(), ttl=left + EXPIRED_GRACE)
            await self._kv.delete(f"code-used:{nonce}")
        except KVError:
            logger.warning("could not reinstate a verification code: the store is down")
