"""Forward-address parsing (钉钉API转发地址) and base URL modes."""

from __future__ import annotations

import pytest

from dingbridge.dingtalk import Endpoints, ForwardAddressError


def test_defaults_are_dingtalk_hosts() -> None:
    e = Endpoints()
    assert e.api == "https://api.dingtalk.com"
    assert e.oapi == "https://oapi.dingtalk.com"
    assert e.login == "https://login.dingtalk.com"


@pytest.mark.parametrize(
    "address",
    [
        "http://203.0.113.5:888/api-dingtalk-com/",
        "http://203.0.113.5:888/api-dingtalk-com",
        "http://203.0.113.5:888/oapi-dingtalk-com/",
        "http://203.0.113.5:888/",
        "http://203.0.113.5:888",
        "  http://203.0.113.5:888/api-dingtalk-com/  ",
    ],
)
def test_forward_address_forms(address: str) -> None:
    e = Endpoints.from_forward_address(address)
    assert e.api_url("/v1.0/oauth2/accessToken") == (
        "http://203.0.113.5:888/api-dingtalk-com/v1.0/oauth2/accessToken"
    )
    assert e.oapi_url("/gettoken") == "http://203.0.113.5:888/oapi-dingtalk-com/gettoken"
    # browsers never go through the forwarder
    assert e.login == "https://login.dingtalk.com"
    assert e.oapi_browser == "https://oapi.dingtalk.com"


def test_forward_address_under_a_subpath_keeps_the_sibling() -> None:
    e = Endpoints.from_forward_address("https://gw.example.com/dt/api-dingtalk-com/")
    assert e.oapi == "https://gw.example.com/dt/oapi-dingtalk-com"


def test_blank_forward_address_means_direct() -> None:
    assert Endpoints.from_forward_address("") == Endpoints()
    assert Endpoints.from_forward_address(None) == Endpoints()


def test_single_base_puts_everything_on_one_url() -> None:
    e = Endpoints.single_base("http://127.0.0.1:9000/")
    assert {e.api, e.oapi, e.login, e.oapi_browser} == {"http://127.0.0.1:9000"}


@pytest.mark.parametrize(
    ("address", "hint"),
    [
        ("http://203.0.113.5:888/dingtalk/", "does not end in /api-dingtalk-com/"),
        ("203.0.113.5:888/api-dingtalk-com/", "must start with http://"),
        ("ftp://203.0.113.5/api-dingtalk-com/", "must start with http://"),
        ("http://203.0.113.5/api-dingtalk-com/?x=1", "query string"),
    ],
)
def test_bad_forward_addresses_explain_the_fix(address: str, hint: str) -> None:
    with pytest.raises(ForwardAddressError, match=hint.replace("?", r"\?")):
        Endpoints.from_forward_address(address)
