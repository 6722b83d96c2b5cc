"""Verification codes (CodeService), on MemoryKV and RedisKV."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import pytest

from dingbridge.signin.codes import CodePolicy, CodeService
from dingbridge.signin.sms import SmsSender, SmsSendError
from dingbridge.signin.sms.console import ConsoleSender
from tests.kv.backends import Backend

KEY = b"k" * 32
MOBILE = "13800000001"
IP = "198.51.100.7"


class FlakySender:
    """Fails while ``failing`` is set, otherwise records what it sent."""

    kind = "flaky"

    def __init__(self) -> None:
        self.failing: Exception | None = None
        self.sent: list[tuple[str, str]] = []

    async def send(
        self, mobile: str, code: str, *, template_params: Mapping[str, str] | None = None
    ) -> None:
        if self.failing is not None:
            raise self.failing
        self.sent.append((mobile, code))


def make(
    backend: Backend, sender: SmsSender | None = None, policy: CodePolicy | None = None
) -> tuple[CodeService, ConsoleSender]:
    console = ConsoleSender(development=True, clock=backend.clock)
    service = CodeService(
        backend.kv,
        sender or console,
        KEY,
        clock=backend.clock,
        policy=policy,
    )
    return service, console


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_sent_code_is_six_digits_in_the_message(kv_backend: Backend) -> None:
    service, outbox = make(kv_backend)
    result = await service.send(10001, MOBILE, IP)
    assert result.ok
    assert result.expires_in == 300
    code = outbox.last_code_for(MOBILE)
    assert code is not None
    assert code.isdigit()
    assert len(code) == 6
    assert outbox.messages[-1].text == (
        f"【dingbridge】您的验证码为 {code}，5 分钟内有效。如非本人操作，请忽略。"
    )


async def test_correct_code_works_exactly_once(kv_backend: Backend) -> None:
    service, outbox = make(kv_backend)
    await service.send(10001, MOBILE, IP)
    code = outbox.last_code_for(MOBILE)
    assert code is not None
    assert (await service.verify(10001, MOBILE, code)).ok
    assert (await service.verify(10001, MOBILE, code)).status == "none"


async def test_full_width_digits_and_spaces_are_accepted(kv_backend: Backend) -> None:
    service, outbox = make(kv_backend)
    await service.send(10001, MOBILE, IP)
    code = outbox.last_code_for(MOBILE)
    assert code is not None
    typed = " " + "".join(chr(ord(d) - ord("0") + ord("０")) for d in code) + " "
    assert (await service.verify(10001, MOBILE, typed)).ok


async def test_code_is_bound_to_space_and_mobile(kv_backend: Backend) -> None:
    service, outbox = make(kv_backend)
    await service.send(10001, MOBILE, IP)
    code = outbox.last_code_for(MOBILE)
    assert code is not None
    assert (await service.verify(10002, MOBILE, code)).status == "none"
    assert (await service.verify(10001, "13800000002", code)).status == "none"
    assert (await service.verify(10001, MOBILE, code)).ok


async def test_no_code_sent_means_none(kv_backend: Backend) -> None:
    service, _ = make(kv_backend)
    assert (await service.verify(10001, MOBILE, "123456")).status == "none"


async def test_wrong_tries_count_down_then_the_code_is_dead(kv_backend: Backend) -> None:
    service, outbox = make(kv_backend)
    await service.send(10001, MOBILE, IP)
    code = outbox.last_code_for(MOBILE)
    assert code is not None
    results = [await service.verify(10001, MOBILE, wrong(code)) for _ in range(5)]
    assert [(r.status, r.tries_left) for r in results] == [
        ("wrong", 4),
        ("wrong", 3),
        ("wrong", 2),
        ("wrong", 1),
        ("dead", 0),
    ]
    assert (await service.verify(10001, MOBILE, code)).status == "dead"


async def test_parallel_guesses_cannot_exceed_the_tries(kv_backend: Backend) -> None:
    service, outbox = make(kv_backend)
    await service.send(10001, MOBILE, IP)
    code = outbox.last_code_for(MOBILE)
    assert code is not None
    guesses = [*[f"{n:06d}" for n in range(30) if f"{n:06d}" != code][:20], code]
    results = await asyncio.gather(*(service.verify(10001, MOBILE, g) for g in guesses))
    checked = [r for r in results if r.status != "dead"]
    assert len(checked) <= 5
    assert sum(r.status == "wrong" for r in results) <= 4


async def test_a_new_code_after_a_dead_one_works(kv_backend: Backend) -> None:
    service, outbox = make(kv_backend, policy=CodePolicy(resend_cooldown=0.4))
    await service.send(10001, MOBILE, IP)
    old = outbox.last_code_for(MOBILE)
    assert old is not None
    for _ in range(5):
        await service.verify(10001, MOBILE, wrong(old))
    await kv_backend.pass_time(0.6)
    assert (await service.send(10001, MOBILE, IP)).ok
    new = outbox.last_code_for(MOBILE)
    assert new is not None
    assert (await service.verify(10001, MOBILE, new)).ok


async def test_code_expires_after_five_minutes(kv_backend: Backend) -> None:
    service, outbox = make(kv_backend)
    await service.send(10001, MOBILE, IP)
    code = outbox.last_code_for(MOBILE)
    assert code is not None
    kv_backend.clock.advance(301)
    assert (await service.verify(10001, MOBILE, code)).status == "expired"


async def test_resend_waits_for_the_cooldown(kv_backend: Backend) -> None:
    policy = CodePolicy(resend_cooldown=0.4)
    service, outbox = make(kv_backend, policy=policy)
    assert (await service.send(10001, MOBILE, IP)).ok
    again = await service.send(10001, MOBILE, IP)
    assert again.status == "cooldown"
    assert 0 < again.retry_after <= 0.401
    assert len(outbox.messages) == 1
    assert (await service.send(10002, MOBILE, IP)).ok  # cool-down is per space
    await kv_backend.pass_time(0.6)
    assert (await service.send(10001, MOBILE, IP)).ok


async def test_new_code_replaces_the_old_one(kv_backend: Backend) -> None:
    service, outbox = make(kv_backend, policy=CodePolicy(resend_cooldown=0))
    await service.send(10001, MOBILE, IP)
    old = outbox.last_code_for(MOBILE)
    await service.send(10001, MOBILE, IP)
    new = outbox.last_code_for(MOBILE)
    assert old is not None
    assert new is not None
    if old != new:
        assert (await service.verify(10001, MOBILE, old)).status == "wrong"
    assert (await service.verify(10001, MOBILE, new)).ok


async def test_daily_cap_per_mobile(kv_backend: Backend) -> None:
    policy = CodePolicy(resend_cooldown=0, daily_per_mobile=3, daily_per_ip=100)
    service, outbox = make(kv_backend, policy=policy)
    results = [await service.send(10001, MOBILE, f"10.0.0.{i}") for i in range(4)]
    assert [r.status for r in results] == ["sent", "sent", "sent", "mobile_limit"]
    assert results[-1].retry_after > 0
    assert len(outbox.messages) == 3
    assert (await service.send(10001, "13800000002", IP)).ok
    kv_backend.clock.advance(24 * 3600 + 1)
    if kv_backend.name == "memory":  # Redis keeps its own time: the day cannot pass here
        assert (await service.send(10001, MOBILE, IP)).ok


async def test_daily_cap_per_ip(kv_backend: Backend) -> None:
    policy = CodePolicy(resend_cooldown=0, daily_per_mobile=100, daily_per_ip=2)
    service, _ = make(kv_backend, policy=policy)
    statuses = [(await service.send(10001, f"1380000000{i}", IP)).status for i in range(3)]
    assert statuses == ["sent", "sent", "ip_limit"]
    assert (await service.send(10001, "13800000009", "198.51.100.8")).ok


async def test_a_refused_send_does_not_start_a_cooldown(kv_backend: Backend) -> None:
    policy = CodePolicy(daily_per_mobile=100, daily_per_ip=1)
    service, _ = make(kv_backend, policy=policy)
    await service.send(10001, "13800000005", IP)
    assert (await service.send(10001, MOBILE, IP)).status == "ip_limit"
    assert (await service.send(10001, MOBILE, "198.51.100.8")).ok


async def test_sender_failure_consumes_nothing(
    kv_backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    sender = FlakySender()
    policy = CodePolicy(daily_per_mobile=2, resend_cooldown=0.4)
    service, _ = make(kv_backend, sender=sender, policy=policy)
    assert (await service.send(10001, MOBILE, IP)).ok
    first = sender.sent[-1][1]
    await kv_backend.pass_time(0.6)
    sender.failing = SmsSendError("unavailable", provider_code="isp.SYSTEM_ERROR", detail="down")
    caplog.set_level(logging.INFO)
    with pytest.raises(SmsSendError) as raised:
        await service.send(10001, MOBILE, IP)
    assert str(raised.value) == "短信服务暂时不可用，请稍后再试。"
    assert "138****0001" in caplog.text
    assert MOBILE not in caplog.text
    assert "isp.SYSTEM_ERROR" in caplog.text
    # The earlier code still works; no cool-down started; the daily cap (2) was not spent.
    assert (await service.verify(10001, MOBILE, first)).ok
    sender.failing = None
    assert (await service.send(10001, MOBILE, IP)).ok
    assert (await service.verify(10001, MOBILE, sender.sent[-1][1])).ok


async def test_previous_code_survives_a_failed_resend(kv_backend: Backend) -> None:
    sender = FlakySender()
    service, _ = make(kv_backend, sender=sender, policy=CodePolicy(resend_cooldown=0))
    await service.send(10001, MOBILE, IP)
    code = sender.sent[-1][1]
    sender.failing = SmsSendError("rate_limited", provider_code="isv.BUSINESS_LIMIT_CONTROL")
    with pytest.raises(SmsSendError, match="过于频繁"):
        await service.send(10001, MOBILE, IP)
    assert (await service.verify(10001, MOBILE, code)).ok


async def test_unexpected_sender_crash_is_a_clear_send_error(
    kv_backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    sender = FlakySender()
    service, _ = make(kv_backend, sender=sender)
    sender.failing = RuntimeError(f"boom while sending to {MOBILE}")
    with pytest.raises(SmsSendError) as raised:
        await service.send(10001, MOBILE, IP)
    assert raised.value.reason == "unavailable"
    assert "RuntimeError" in caplog.text
    assert MOBILE not in caplog.text
    sender.failing = None
    assert (await service.send(10001, MOBILE, IP)).ok  # no cool-down left behind


async def test_codes_and_mobiles_are_not_stored_or_logged_in_clear(
    kv_backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sender = FlakySender()
    service, _ = make(kv_backend, sender=sender)
    await service.send(10001, MOBILE, IP)
    code = sender.sent[-1][1]
    await service.verify(10001, MOBILE, wrong(code))
    await service.verify(10001, MOBILE, code)
    assert code not in caplog.text
    assert MOBILE not in caplog.text
    await service.send(10002, MOBILE, IP)
    code2 = sender.sent[-1][1]
    raw = b""
    if kv_backend.name == "memory":
        raw = b"".join(
            k.encode() + v
            for k, (v, _) in kv_backend.kv._data.items()  # type: ignore[attr-defined]
        )
    else:
        client = kv_backend.kv._client  # type: ignore[attr-defined]
        prefix = kv_backend.kv.prefix  # type: ignore[attr-defined]
        async for key in client.scan_iter(match=prefix + "*"):
            value = await client.get(key)
            raw += key + (value or b"")
    assert raw
    assert code2.encode() not in raw
    assert MOBILE.encode() not in raw
    assert IP.encode() not in raw


@pytest.mark.parametrize("mobile", ["", "138-0000-0001", "abc", "1" * 30])
async def test_bad_mobile_is_refused_before_sending(kv_backend: Backend, mobile: str) -> None:
    service, outbox = make(kv_backend)
    with pytest.raises(ValueError, match="mobile"):
        await service.send(10001, mobile, IP)
    assert outbox.messages == []


def test_short_key_and_bad_policy_are_refused() -> None:
    from dingbridge.kv.memory import MemoryKV

    with pytest.raises(ValueError, match="16 bytes"):
        CodeService(MemoryKV(), FlakySender(), b"short")
    with pytest.raises(ValueError):
        CodePolicy(max_tries=0)
