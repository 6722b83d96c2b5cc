"""Open redirects: every place the server sends a browser on to an address it was given keeps
it on the allowed side: ``next=`` (console login, space entry, in-client sign-in, the OAuth
start whose state carries it), the forward-auth return URL (``rd=``), the OIDC
``redirect_uri`` and the post-logout redirect. Each hostile value below is tried at each
place. More: ``tests/oidc/test_security.py::test_a_redirect_uri_must_match_exactly`` (six
look-alike redirect URIs), ``tests/gate/test_gate_flow.py`` (return URLs of another app)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from dingbridge.gate.return_urls import AppUrl, safe_return_url
from dingbridge.sim.defaults import DEMO_CORP_ID
from dingbridge.spaces.app_input import AppInput
from dingbridge.spaces.apps import create_space_app
from dingbridge.web.urls import safe_next
from tests.signin.signin_world import World, admin_browser

HOSTILE = [
    "https://evil.test/",
    "//evil.test/",
    "/\\evil.test/",
    "\\\\evil.test\\",
    "/%2F%2Fevil.test/",
    "/%5Cevil.test",
    "https:evil.test",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    " //evil.test",
    "\t/\t/evil.test",
    "/10001/../admin/",
    "/10001/%2e%2e/admin/",
    "/10001//evil.test/",
    "/10001/\r\nLocation: https://evil.test/",
    "/admin/../10001/",
]


def _stays(location: str, prefix: str) -> bool:
    parts = urlsplit(location)
    return not parts.scheme and not parts.netloc and location.startswith(prefix)


@pytest.mark.parametrize("value", HOSTILE)
def test_safe_next_keeps_any_hostile_value_home(value: str) -> None:
    assert safe_next(value, prefix="/10001/") == "/10001/"
    assert safe_next(value, prefix="/admin/", default="/admin/spaces") == "/admin/spaces"


@pytest.mark.parametrize("value", HOSTILE)
async def test_next_at_every_sign_in(world: World, value: str) -> None:
    admin = await admin_browser(world)  # a signed-in admin goes straight to next
    login = await admin.get(f"/admin/login?next={quote(value)}")
    assert _stays(login.header("location") or "", "/admin/"), login.header("location")
    entry = await world.new_browser().get(f"/10001/?next={quote(value)}")
    assert 'data-next="/10001/"' in entry.text
    browser = world.new_browser()
    code = world.sim.issue_authcode(DEMO_CORP_ID, "user001")
    answer = await browser.post("/10001/signin/code", json_body={"code": code, "next": value})
    target = json.loads(answer.body)["next"]
    assert parse_qs(urlsplit(target).query)["next"] == ["/10001/"]
    start = await browser.get(f"/10001/signin/dingtalk?next={quote(value)}")
    assert start.status == 303  # to DingTalk; the state it carries holds "/10001/"
    assert quote(value, safe="") not in (start.header("location") or "")


@pytest.mark.parametrize("value", [*HOSTILE, "http://apps.test:8080@evil.test/wiki/"])
def test_forward_auth_return_url(value: str) -> None:
    app = AppUrl.parse("http://apps.test:8080/wiki/")
    assert safe_return_url(app, value) == "http://apps.test:8080/wiki/"


@pytest.mark.parametrize("value", HOSTILE)
async def test_oidc_redirect_and_post_logout_uris(world: World, value: str) -> None:
    async with world.context.db.transaction() as session:
        saved = await create_space_app(
            session,
            10001,
            AppInput(
                name="应用",
                url="https://app.test/",
                kind="oidc",
                redirect_uris=("https://app.test/cb",),
                post_logout_redirect_uris=("https://app.test/bye",),
            ),
            actor="test",
        )
    await world.context.signin.spaces.settle()
    client_id = saved.detail.app.client_id
    browser = world.new_browser()
    authorize = await browser.get(
        f"/10001/oidc/authorize?response_type=code&scope=openid&client_id={client_id}"
        f"&redirect_uri={quote(value)}&state=s&code_challenge={'a' * 43}"
        "&code_challenge_method=S256"
    )
    assert authorize.status == 400 and authorize.header("location") is None
    logout = await browser.get(
        f"/10001/oidc/logout?client_id={client_id}&post_logout_redirect_uri={quote(value)}"
    )
    assert logout.header("location") is None or _stays(logout.header("location") or "", "/")
