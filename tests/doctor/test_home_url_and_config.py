"""Check 8 (the space URL answers 200 itself, each redirect explained) and check 1's shape
rules, which must agree with the console's own validation."""

from __future__ import annotations

import pytest

from dingbridge.dingtalk import HandlerTransport, Request, Response, TransportError
from dingbridge.doctor import DoctorConfig, Status
from dingbridge.doctor.checks_reach import check_home_url
from dingbridge.doctor.config import check_config
from dingbridge.spaces.dingtalk_settings import DingTalkInput, validate_input

URL = "http://apps.example.test/10001/"


def answering(status: int, location: str | None = None) -> HandlerTransport:
    headers = {"Location": location} if location else {}
    return HandlerTransport(lambda _request: Response(status, headers, b""))


def config(transport: HandlerTransport | None = None, **values: str) -> DoctorConfig:
    base = {
        "corp_id": "ding5f2a7c31e08b4d96",
        "agent_id": "3001001",
        "app_key": "dingfullaccess0001ab",
        "app_secret": "secret",
    }
    base.update(values)
    return DoctorConfig(**base, space_url=URL, site_transport=transport)  # type: ignore[arg-type]


async def test_home_url_answering_200_passes() -> None:
    transport = answering(200)
    result = await check_home_url(config(transport))
    assert result.status is Status.PASS
    assert transport.requests[0].url == URL and transport.requests[0].method == "GET"


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("https://apps.example.test/10001/", "redirects to https"),
        ("http://apps.example.test/10001", "only the trailing / differs"),
        ("http://apps.example.test/login", "needs the home page and redirect URL to answer"),
    ],
)
async def test_each_redirect_is_explained(location: str, expected: str) -> None:
    result = await check_home_url(config(answering(302, location)))
    assert result.status is Status.FAIL
    assert result.cause is not None and expected in result.cause.en
    assert result.fix is not None


async def test_https_redirect_fix_names_the_external_url() -> None:
    result = await check_home_url(config(answering(301, "https://apps.example.test/10001/")))
    assert result.fix is not None and "--external-url" in result.fix.en


async def test_unreachable_space_url() -> None:
    def refuse(_request: Request) -> Response:
        raise TransportError("cannot connect", kind="connect", reason="refused")

    result = await check_home_url(config(HandlerTransport(refuse)))
    assert result.status is Status.FAIL
    assert result.cause is not None and URL in result.cause.en


CASES = [
    {},
    {"corp_id": "corp-123"},
    {"corp_id": ""},
    {"agent_id": "30 01"},
    {"agent_id": ""},
    {"app_key": "ding key!"},
    {"app_key": ""},
    {"corp_id": "dingX", "agent_id": "x", "app_key": "k k"},
]


@pytest.mark.parametrize("changes", CASES)
def test_config_shapes_agree_with_the_console(changes: dict[str, str]) -> None:
    values = {
        "corp_id": "ding5f2a7c31e08b4d96",
        "agent_id": "3001001",
        "app_key": "dingfullaccess0001ab",
        **changes,
    }
    console = validate_input(
        DingTalkInput(enabled=True, corp_name="", **values), has_stored_secret=True
    )
    doctor = check_config(
        DoctorConfig(
            corp_id=values["corp_id"],
            agent_id=values["agent_id"],
            app_key=values["app_key"],
            app_secret="secret",
        )
    )
    assert (doctor.status is Status.FAIL) == bool(console)
    if console:
        assert len(doctor.data["problems"]) == len(console)


def test_not_turned_on_is_a_warning() -> None:
    result = check_config(
        DoctorConfig("ding5f2a7c31e08b4d96", "3001001", "dingkey01", "s", enabled=False)
    )
    assert result.status is Status.WARN
    assert result.fix is not None and "开通" in result.fix.zh


def refusing(reason: str, kind: str = "connect") -> HandlerTransport:
    def fail(request: Request) -> Response:
        raise TransportError("no answer", kind=kind, path=request.path, reason=reason)

    return HandlerTransport(fail)


@pytest.mark.parametrize(
    ("forward_url", "reason", "kind", "expected"),
    [
        ("", "dns", "connect", "DingTalk's host name does not resolve"),
        ("", None, "tls", "TLS to DingTalk failed"),
        ("http://fwd.example:888/api-dingtalk-com/", "dns", "connect", "does not resolve"),
        ("http://fwd.example:888/api-dingtalk-com/", None, "timeout", "timed out"),
    ],
)
async def test_each_way_of_not_reaching_dingtalk_is_explained(
    forward_url: str, reason: str | None, kind: str, expected: str
) -> None:
    from dingbridge.doctor import run_checks

    transport = refusing(reason or "", kind)
    results = await run_checks(
        DoctorConfig(
            "ding5f2a7c31e08b4d96",
            "3001001",
            "dingfullaccess0001ab",
            "secret",
            forward_url=forward_url or None,
            transport=transport,
        )
    )
    network = next(r for r in results if r.id == "network")
    assert network.status is Status.FAIL
    assert network.cause is not None and expected in network.cause.en


async def test_a_passing_home_url_names_the_in_client_sign_in_address() -> None:
    from io import StringIO

    from rich.console import Console

    from dingbridge.doctor.report import print_reports
    from dingbridge.doctor.space_checks import SpaceReport

    result = await check_home_url(config(answering(200)))
    assert result.data["in_client_origin"] == "http://apps.example.test"
    out = StringIO()
    report = SpaceReport(space_id=10001, space_name="示例", results=[result])
    print_reports([report], Console(file=out, width=120), "zh_CN")
    assert "端内免登地址：http://apps.example.test" in out.getvalue()
