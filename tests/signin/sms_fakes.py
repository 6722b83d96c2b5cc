"""Local fakes of the SMS providers (aiohttp apps on 127.0.0.1), for the sender tests.

Each fake checks what a real provider would: the action, the parameters, and the request
signature (recomputed from the shared secret), then answers in the provider's JSON shape. A
``mode`` switches the answer to a provider error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

from aiohttp import web

from dingbridge.signin.sms.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature


@dataclass
class FakeProvider:
    secret_id: str
    secret: str
    mode: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)
    base: str = ""  # "127.0.0.1:PORT", set when running

    @property
    def url(self) -> str:
        return f"http://{self.base}/"


def _auth_fields(header: str, scheme: str) -> dict[str, str]:
    if not header.startswith(scheme + " "):
        return {}
    fields = {}
    for part in header[len(scheme) + 1 :].split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    return fields


def _rfc3986(value: str) -> str:
    return quote(value, safe="-_.~")


def aliyun_signature_ok(request: web.Request, body: bytes, fake: FakeProvider) -> bool:
    """Recompute Aliyun's ACS3-HMAC-SHA256 signature (V3 request signing)."""
    fields = _auth_fields(request.headers.get("Authorization", ""), "ACS3-HMAC-SHA256")
    if fields.get("Credential") != fake.secret_id or "Signature" not in fields:
        return False
    signed = fields["SignedHeaders"].split(";")
    query = sorted(parse_qsl(request.query_string, keep_blank_values=True))
    canonical = "\n".join(
        [
            request.method,
            request.path,
            "&".join(f"{_rfc3986(k)}={_rfc3986(v)}" for k, v in query),
            "".join(f"{h}:{request.headers.get(h, '').strip()}\n" for h in signed),
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    expected = hmac.new(fake.secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["Signature"])


def tencent_signature_ok(request: web.Request, body: bytes, fake: FakeProvider) -> bool:
    """Recompute Tencent Cloud's TC3-HMAC-SHA256 signature."""
    fields = _auth_fields(request.headers.get("Authorization", ""), "TC3-HMAC-SHA256")
    credential = fields.get("Credential", "").split("/")
    if len(credential) != 4 or credential[0] != fake.secret_id:
        return False
    _, date, service, _ = credential
    signed = fields["SignedHeaders"].split(";")
    canonical = "\n".join(
        [
            request.method,
            "/",
            "",
            "".join(f"{h}:{request.headers.get(h, '').strip().lower()}\n" for h in signed),
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    timestamp = request.headers.get("X-TC-Timestamp", "")
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(
        ["TC3-HMAC-SHA256", timestamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )

    def mac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = mac(mac(mac(("TC3" + fake.secret).encode(), date), service), "tc3_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("Signature", ""))


def aliyun_app(fake: FakeProvider) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        fake.requests.append({"headers": dict(request.headers), "params": params})
        request_id = f"FAKE-{len(fake.requests)}"
        if request.headers.get("x-acs-action") != "SendSms":
            return web.json_response({"Code": "InvalidAction.NotFound"}, status=404)
        if not aliyun_signature_ok(request, body, fake):
            answer = {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature is not matched with our calculation.",
                "RequestId": request_id,
            }
            return web.json_response(answer, status=400)
        missing = [p for p in ("PhoneNumbers", "SignName", "TemplateCode") if not params.get(p)]
        if missing:
            answer = {"Code": "MissingParameter", "Message": f"{missing[0]} is mandatory"}
            return web.json_response(answer, status=400)
        if fake.mode == "limit":
            answer = {
                "Code": "isv.BUSINESS_LIMIT_CONTROL",
                "Message": "触发小时级流控Permits:5",
                "RequestId": request_id,
            }
            return web.json_response(answer)
        if fake.mode == "server_error":
            return web.json_response({"Code": "InternalError", "RequestId": request_id}, status=500)
        return web.json_response(
            {"Code": "OK", "Message": "OK", "BizId": "900000000000^0", "RequestId": request_id}
        )

    app = web.Application()
    app.router.add_route("*", "/", handle)
    return app


def _tc_json(answer: dict[str, Any]) -> web.Response:
    # Tencent Cloud answers with exactly "application/json" (the SDK checks it verbatim).
    body = json.dumps({"Response": answer}).encode()
    return web.Response(body=body, headers={"Content-Type": "application/json"})


def tencent_app(fake: FakeProvider) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        payload = json.loads(body or b"{}")
        fake.requests.append({"headers": dict(request.headers), "params": payload})
        request_id = f"fake-{len(fake.requests)}"

        def error(code: str, message: str) -> web.Response:
            return _tc_json({"Error": {"Code": code, "Message": message}, "RequestId": request_id})

        if request.headers.get("X-TC-Action") != "SendSms":
            return error("InvalidAction", "action not found")
        if request.headers.get("X-TC-Version") != "2021-01-11":
            return error("InvalidParameterValue", "version")
        if not tencent_signature_ok(request, body, fake):
            return error(
                "AuthFailure.SignatureFailure", "The provided credentials could not be validated."
            )
        if fake.mode == "auth":
            return error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        numbers = payload.get("PhoneNumberSet") or []
        code, message = "Ok", "send success"
        if fake.mode == "limit":
            code = "LimitExceeded.PhoneNumberThirtySecondLimit"
            message = "single number sent too many messages within 30 seconds"
        statuses = [
            {
                "SerialNo": f"2028:{i}",
                "PhoneNumber": number,
                "Fee": 1,
                "SessionContext": "",
                "Code": code,
                "Message": message,
                "IsoCode": "CN",
            }
            for i, number in enumerate(numbers)
        ]
        return _tc_json({"SendStatusSet": statuses, "RequestId": request_id})

    app = web.Application()
    app.router.add_post("/", handle)
    return app


@dataclass
class WebhookReceiver:
    secret: str
    status: int = 200
    delay: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    url: str = ""


def webhook_app(receiver: WebhookReceiver) -> web.Application:
    import asyncio

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not hmac.compare_digest(signature(receiver.secret, timestamp, body), given):
            receiver.bad_signatures += 1
            return web.Response(status=401)
        if receiver.delay:
            await asyncio.sleep(receiver.delay)
        receiver.received.append(json.loads(body))
        return web.Response(status=receiver.status, text="ok")

    app = web.Application()
    app.router.add_post("/sms", handle)
    return app


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Run ``app`` on 127.0.0.1 at a free port; yields ``"127.0.0.1:PORT"``."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()
