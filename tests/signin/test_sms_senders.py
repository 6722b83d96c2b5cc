"""SMS senders against local fakes of Aliyun, Tencent Cloud and a webhook receiver."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping

import pytest

from dingbridge.signin.sms import (
    SmsConfigError,
    SmsSender,
    SmsSendError,
    create_sender,
    format_code_text,
    mask_mobile,
)
from dingbridge.signin.sms.console import ConsoleSender
from dingbridge.signin.sms.tencent import TencentSender
from dingbridge.signin.sms.webhook import WebhookSender
from tests.signin.sms_fakes import (
    FakeProvider,
    WebhookReceiver,
    aliyun_app,
    serving,
    tencent_app,
    webhook_app,
)

MOBILE = "13800000001"
CODE = "482913"
PARAMS = {"code": CODE, "minutes": "5"}
ALI_KEY_ID, ALI_SECRET = "LTAI5tFakeKeyId0001", "aliyun-fake-secret-0123456789"
TC_ID, TC_KEY = "AKIDfakeSecretId0001", "tencent-fake-secret-key-0123456789"
HOOK_SECRET = "webhook-shared-secret-0123456789"


@pytest.fixture
async def aliyun() -> AsyncIterator[FakeProvider]:
    fake = FakeProvider(ALI_KEY_ID, ALI_SECRET)
    async with serving(aliyun_app(fake)) as base:
        fake.base = base
        yield fake


@pytest.fixture
async def tencent() -> AsyncIterator[FakeProvider]:
    fake = FakeProvider(TC_ID, TC_KEY)
    async with serving(tencent_app(fake)) as base:
        fake.base = base
        yield fake


@pytest.fixture
async def hook() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver(HOOK_SECRET)
    async with serving(webhook_app(receiver)) as base:
        receiver.url = f"http://{base}/sms?token=url-token-123"
        yield receiver


def aliyun_sender(fake: FakeProvider, **overrides: object) -> SmsSender:
    config: dict[str, object] = {
        "kind": "aliyun",
        "access_key_id": ALI_KEY_ID,
        "access_key_secret": ALI_SECRET,
        "sign_name": "示例科技",
        "template_code": "SMS_465000001",
        "endpoint": fake.base,
        "protocol": "http",
        "timeout": 5,
    }
    config.update(overrides)
    return create_sender(config)


def tencent_sender(fake: FakeProvider, **overrides: object) -> SmsSender:
    config: dict[str, object] = {
        "kind": "tencent",
        "secret_id": TC_ID,
        "secret_key": TC_KEY,
        "sdk_app_id": "1400000001",
        "sign_name": "示例科技",
        "template_id": "2000001",
        "endpoint": fake.base,
        "protocol": "http",
        "timeout": 5,
        "template_values": ["code", "minutes"],
    }
    config.update(overrides)
    return create_sender(config)


async def send_refused(
    sender: SmsSender, template_params: Mapping[str, str] | None = None
) -> SmsSendError:
    """Send CODE to MOBILE through ``sender``, which must refuse; return its error."""
    with pytest.raises(SmsSendError) as raised:
        await sender.send(MOBILE, CODE, template_params=template_params)
    return raised.value


# -- console ------------------------------------------------------------------------------


def test_console_sender_refuses_outside_development_mode() -> None:
    with pytest.raises(SmsConfigError, match="development mode"):
        ConsoleSender()
    with pytest.raises(SmsConfigError, match="development mode"):
        create_sender({"kind": "console"})


async def test_console_sender_keeps_an_outbox_without_logging_the_code(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sender = create_sender({"kind": "console", "sign": "示例科技"}, development=True)
    assert isinstance(sender, ConsoleSender)
    await sender.send(MOBILE, CODE, template_params=PARAMS)
    await sender.send("13800000002", "111111", template_params=PARAMS)
    outbox = sender.outbox()
    assert [m["mobile"] for m in outbox] == ["13800000002", MOBILE]
    assert (
        outbox[1]["text"] == "【示例科技】您的验证码为 482913，5 分钟内有效。如非本人操作，请忽略。"
    )
    assert isinstance(outbox[1]["sent_at"], float)
    json.dumps(outbox)  # JSON-ready for /_dev/outbox.json
    assert sender.last_code_for(MOBILE) == CODE
    assert CODE not in caplog.text
    assert "138****0001" in caplog.text


async def test_console_outbox_is_bounded() -> None:
    sender = ConsoleSender(development=True, max_messages=2)
    for i in range(3):
        await sender.send(MOBILE, f"00000{i}")
    assert [m.text.split(" ")[1][:6] for m in sender.messages] == ["000001", "000002"]


# -- aliyun -------------------------------------------------------------------------------


async def test_aliyun_sends_a_signed_request(
    aliyun: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await aliyun_sender(aliyun).send(MOBILE, CODE, template_params=PARAMS)
    [request] = aliyun.requests
    params = request["params"]
    assert params["PhoneNumbers"] == MOBILE
    assert params["SignName"] == "示例科技"
    assert params["TemplateCode"] == "SMS_465000001"
    assert json.loads(params["TemplateParam"]) == {"code": CODE}
    assert ALI_SECRET not in caplog.text
    assert CODE not in caplog.text


async def test_aliyun_strips_the_mainland_prefix_and_can_fill_minutes(
    aliyun: FakeProvider,
) -> None:
    sender = aliyun_sender(aliyun, minutes_param="min", code_param="verify_code")
    await sender.send("+8613800000001", CODE, template_params=PARAMS)
    params = aliyun.requests[0]["params"]
    assert params["PhoneNumbers"] == MOBILE
    assert json.loads(params["TemplateParam"]) == {"verify_code": CODE, "min": "5"}


async def test_aliyun_business_limit_is_a_rate_limit_error(
    aliyun: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    aliyun.mode = "limit"
    error = await send_refused(aliyun_sender(aliyun), PARAMS)
    assert error.reason == "rate_limited"
    assert error.provider_code == "isv.BUSINESS_LIMIT_CONTROL"
    assert str(error) == "该手机号接收短信过于频繁，请稍后再试。"
    assert "isv.BUSINESS_LIMIT_CONTROL" in caplog.text
    assert "138****0001" in caplog.text
    for secret in (CODE, ALI_SECRET, MOBILE):
        assert secret not in caplog.text


async def test_aliyun_wrong_secret_is_a_configuration_error(
    aliyun: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    sender = aliyun_sender(aliyun, access_key_secret="not-the-right-secret")
    error = await send_refused(sender, PARAMS)
    assert error.reason == "misconfigured"
    assert error.provider_code == "SignatureDoesNotMatch"
    assert "not-the-right-secret" not in caplog.text
    assert CODE not in caplog.text


async def test_aliyun_server_error_is_unavailable(aliyun: FakeProvider) -> None:
    aliyun.mode = "server_error"
    error = await send_refused(aliyun_sender(aliyun), PARAMS)
    assert error.reason == "unavailable"


async def test_aliyun_unreachable_endpoint_is_unavailable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = FakeProvider(ALI_KEY_ID, ALI_SECRET, base="127.0.0.1:9")
    error = await send_refused(aliyun_sender(dead, timeout=2), PARAMS)
    assert error.reason == "unavailable"
    assert ALI_SECRET not in caplog.text


def test_aliyun_repr_hides_the_keys(aliyun: FakeProvider) -> None:
    text = repr(aliyun_sender(aliyun))
    assert ALI_SECRET not in text
    assert ALI_KEY_ID not in text


# -- tencent ------------------------------------------------------------------------------


async def test_tencent_sends_a_signed_request(
    tencent: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await tencent_sender(tencent).send(MOBILE, CODE, template_params=PARAMS)
    [request] = tencent.requests
    params = request["params"]
    assert params["PhoneNumberSet"] == ["+8613800000001"]
    assert params["SmsSdkAppId"] == "1400000001"
    assert params["SignName"] == "示例科技"
    assert params["TemplateId"] == "2000001"
    assert params["TemplateParamSet"] == [CODE, "5"]
    assert TC_KEY not in caplog.text
    assert CODE not in caplog.text


async def test_tencent_per_number_limit_is_a_rate_limit_error(
    tencent: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    tencent.mode = "limit"
    error = await send_refused(tencent_sender(tencent), PARAMS)
    assert error.reason == "rate_limited"
    assert error.provider_code == "LimitExceeded.PhoneNumberThirtySecondLimit"
    assert MOBILE not in caplog.text


async def test_tencent_request_error_is_a_configuration_error(
    tencent: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    tencent.mode = "auth"
    error = await send_refused(tencent_sender(tencent), PARAMS)
    assert error.reason == "misconfigured"
    assert error.provider_code == "AuthFailure.SecretIdNotFound"
    assert "AuthFailure.SecretIdNotFound" in caplog.text
    assert TC_KEY not in caplog.text
    assert CODE not in caplog.text


async def test_tencent_wrong_key_fails_the_signature(tencent: FakeProvider) -> None:
    error = await send_refused(tencent_sender(tencent, secret_key="wrong"))
    assert error.provider_code == "AuthFailure.SignatureFailure"


def test_tencent_template_values_are_checked() -> None:
    with pytest.raises(SmsConfigError, match="template_values"):
        TencentSender(
            secret_id="a",
            secret_key="b",
            sdk_app_id="1",
            sign_name="s",
            template_id="1",
            template_values=["code", "name"],
        )


# -- webhook ------------------------------------------------------------------------------


def webhook(hook: WebhookReceiver, **overrides: object) -> SmsSender:
    config: dict[str, object] = {
        "kind": "webhook",
        "url": hook.url,
        "secret": HOOK_SECRET,
        "sign": "示例科技",
        "timeout": 2,
    }
    config.update(overrides)
    return create_sender(config)


async def test_webhook_posts_signed_json(
    hook: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await webhook(hook).send(MOBILE, CODE, template_params=PARAMS)
    assert hook.bad_signatures == 0
    assert hook.received == [
        {
            "mobile": MOBILE,
            "code": CODE,
            "text": format_code_text("示例科技", CODE, 5),
            "minutes": 5,
        }
    ]
    for secret in (CODE, HOOK_SECRET, "url-token-123", MOBILE):
        assert secret not in caplog.text


async def test_webhook_with_the_wrong_secret_is_refused_by_the_receiver(
    hook: WebhookReceiver,
) -> None:
    error = await send_refused(webhook(hook, secret="another-secret-of-16+chars"))
    assert hook.bad_signatures == 1
    assert error.reason == "misconfigured"


@pytest.mark.parametrize(
    ("status", "reason"), [(429, "rate_limited"), (400, "rejected"), (503, "unavailable")]
)
async def test_webhook_non_2xx_is_an_error(hook: WebhookReceiver, status: int, reason: str) -> None:
    hook.status = status
    error = await send_refused(webhook(hook))
    assert error.reason == reason
    assert error.provider_code == f"HTTP {status}"


async def test_webhook_timeout_is_unavailable(hook: WebhookReceiver) -> None:
    hook.delay = 1.0
    error = await send_refused(webhook(hook, timeout=0.2))
    assert error.reason == "unavailable"


async def test_webhook_unreachable_is_unavailable() -> None:
    sender = WebhookSender(url="http://127.0.0.1:9/sms", secret=HOOK_SECRET)
    error = await send_refused(sender)
    assert error.reason == "unavailable"


# -- factory and helpers ------------------------------------------------------------------


def test_factory_lists_every_problem() -> None:
    with pytest.raises(SmsConfigError) as raised:
        create_sender({"kind": "aliyun", "access_key_id": "x", "colour": "red"})
    problems = raised.value.problems
    assert "aliyun sender needs 'access_key_secret'" in problems
    assert "aliyun sender needs 'sign_name'" in problems
    assert "aliyun sender needs 'template_code'" in problems
    assert any("'colour'" in p for p in problems)


def test_factory_refuses_unknown_kinds() -> None:
    with pytest.raises(SmsConfigError, match="unknown SMS sender kind 'carrier-pigeon'"):
        create_sender({"kind": "carrier-pigeon"})


def test_webhook_settings_are_checked() -> None:
    with pytest.raises(SmsConfigError) as raised:
        create_sender({"kind": "webhook", "url": "ftp://x", "secret": "short"})
    assert len(raised.value.problems) == 2


@pytest.mark.parametrize(
    ("mobile", "masked"),
    [
        ("13800000001", "138****0001"),
        ("+8613800000001", "+86138****0001"),
        ("+447700900123", "+44****0123"),
        ("1234567", "12****67"),
        ("123", "*23"),
    ],
)
def test_mask_mobile_hides_the_middle(mobile: str, masked: str) -> None:
    assert mask_mobile(mobile) == masked
