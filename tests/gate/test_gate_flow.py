"""The forward-auth gate in-process: the check nginx asks, the sign-in step, the callback on
the app's host; who passes, who is refused, what the app is told."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from dingbridge.gate import gate_sessions
from dingbridge.gate.identity_headers import (
    APP_COOKIE_HEADER,
    IDENTITY_HEADERS,
    decoded,
)
from dingbridge.gate.return_urls import decode_rd
from dingbridge.oidc.subjects import load_subject
from dingbridge.sim.defaults import DEMO_CORP_ID
from tests.gate.gate_world import (
    APP_URL,
    AppHost,
    CountingKV,
    add_app,
    add_department,
    binding_id,
    join,
    leave,
    member_id,
    set_email,
    sign_in_path,
    sign_in_with_next,
    signed_in_browser,
)
from tests.signin.signin_world import Browser, World, admin_browser


async def through_the_gate(
    world: World, browser: Browser, host: AppHost, path: str = "/wiki/page?x=1"
) -> str:
    """Unauthenticated check → sign-in step → callback: the URL the browser returns to."""
    refused = await host.check(path)
    assert refused.status == 401
    to_app = await browser.get(sign_in_path(refused))
    assert to_app.status == 303, to_app.text[:300]
    back = await host.callback(to_app.header("location") or "")
    assert back.status == 303, back.text[:300]
    return back.header("location") or ""


async def test_a_signed_in_member_comes_back_to_the_same_url_with_the_headers(
    world: World,
) -> None:
    app_id = await add_app(world)
    zhang = await member_id(world, "+8613800000001")
    await set_email(world, zhang, "zhang.wei@example.com")
    for name, dept_id in (("研发部", 2), ("市场, 销售", 3)):
        await join(world, zhang, await add_department(world, name, dept_id))
    browser = await signed_in_browser(world)
    host = AppHost(world, app_id)

    assert await through_the_gate(world, browser, host) == "http://apps.test:8080/wiki/page?x=1"
    passed = await host.check("/wiki/page?x=1")
    assert passed.status == 200
    identity = decoded(dict(passed.headers))
    assert identity["X-Auth-Request-Preferred-Username"] == "张伟"
    assert identity["X-Auth-Request-Email"] == "zhang.wei@example.com"
    assert identity["X-Auth-Request-Groups"] == ["市场, 销售", "研发部"]
    assert identity["X-Dingbridge-Member"] == str(zhang)
    assert identity["X-Dingbridge-Corp-Id"] == DEMO_CORP_ID
    assert identity["X-Dingbridge-Userid"] == "user001"
    user = identity["X-Auth-Request-User"]
    assert isinstance(user, str) and len(user) == 32
    assert user not in (str(zhang), "user001", "+8613800000001")
    # one user to every app of the space: the OpenID provider's sub is the same value
    subject = await load_subject(world.context.db, 10001, zhang)
    assert subject is not None and subject.sub == user
    # header-safe: every value is ASCII (the Chinese ones percent-encoded)
    for name in IDENTITY_HEADERS:
        assert (passed.header(name.lower()) or "").isascii()
    assert passed.header("x-auth-request-preferred-username") == "%E5%BC%A0%E4%BC%9F"


async def test_not_signed_in_the_sign_in_is_the_space_s_own_then_back_to_the_app(
    world: World,
) -> None:
    app_id = await add_app(world)
    await signed_in_browser(world)  # bound once, on another phone
    host = AppHost(world, app_id)
    refused = await host.check("/wiki/a/b?c=d&e=%E4%B8%AD")
    assert refused.status == 401
    state = host.jar.cookies[gate_sessions.state_cookie(app_id)]
    query = parse_qs(urlsplit(sign_in_path(refused)).query)
    assert decode_rd(query["rd"][0]) == "http://apps.test:8080/wiki/a/b?c=d&e=%E4%B8%AD"
    assert query["state"] == [state]
    # a second refusal keeps the state the browser has (concurrent requests agree)
    again = await host.check("/wiki/other")
    assert again.status == 401 and not again.all_headers("set-cookie")
    assert parse_qs(urlsplit(sign_in_path(again)).query)["state"] == [state]

    phone = world.new_browser()
    to_entry = await phone.get(sign_in_path(refused))
    assert to_entry.status == 303
    entry_url = to_entry.header("location") or ""
    next_path = unquote(parse_qs(urlsplit(entry_url).query)["next"][0])
    entry = await phone.get(entry_url)
    assert entry.status == 200 and 'id="signin"' in entry.text
    landed = await sign_in_with_next(world, phone, "user001", next_path)
    to_gate = await phone.get(landed.header("location") or "")
    to_app = to_gate.header("location") or ""
    assert to_app.startswith("http://apps.test:8080/_dingbridge/callback?ticket=")
    back = await host.callback(to_app)
    assert back.header("location") == "http://apps.test:8080/wiki/a/b?c=d&e=%E4%B8%AD"
    assert gate_sessions.state_cookie(app_id) not in host.jar.cookies
    assert (await host.check("/wiki/a/b")).status == 200


async def test_one_kv_read_per_check(world: World, counting_kv: CountingKV) -> None:
    app_id = await add_app(world)
    host = AppHost(world, app_id)
    await through_the_gate(world, await signed_in_browser(world), host)
    counting_kv.calls.clear()
    for _ in range(5):
        assert (await host.check()).status == 200
    assert counting_kv.calls == ["get"] * 5
    counting_kv.calls.clear()
    assert (await AppHost(world, app_id).check()).status == 401  # no cookie: no KV at all
    assert counting_kv.calls == []


async def test_a_member_outside_the_app_s_departments_gets_a_403_page(world: World) -> None:
    dept = await add_department(world, "财务部", 9)
    app_id = await add_app(world, access="departments", departments=[dept])
    browser = await signed_in_browser(world)
    host = AppHost(world, app_id)
    refused = await host.check()
    page = await browser.get(sign_in_path(refused))
    assert page.status == 403
    assert "无权使用此应用" in page.text and "内部维基" in page.text and "张伟" in page.text
    assert "示例空间" in page.text and "管理员" in page.text  # whom to ask
    await browser.get("/lang/en")
    page = await browser.get(sign_in_path(refused))
    assert "No access to this app" in page.text
    assert "Ask the administrator of 示例空间" in page.text
    # granted: through
    await join(world, await member_id(world, "+8613800000001"), dept)
    await through_the_gate(world, browser, host)
    assert (await host.check()).status == 200


async def test_an_access_change_reaches_the_gate_within_the_recheck_interval(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gate session answers from its entry for REVALIDATE_AFTER seconds (one KV read), then
    re-checks: a member taken out of the app's departments stops passing."""
    clock = [1_000_000.0]
    monkeypatch.setattr(gate_sessions, "now", lambda: clock[0])
    dept = await add_department(world, "研发部", 2)
    app_id = await add_app(world, access="departments", departments=[dept])
    zhang = await member_id(world, "+8613800000001")
    await join(world, zhang, dept)
    browser = await signed_in_browser(world)
    host = AppHost(world, app_id)
    await through_the_gate(world, browser, host)
    await leave(world, zhang, dept)
    assert (await host.check()).status == 200  # within the interval: the entry's verdict
    clock[0] += gate_sessions.REVALIDATE_AFTER
    refused = await host.check()
    assert refused.status == 403
    assert sign_in_path(refused).startswith(f"/10001/gate/{app_id}?")


@pytest.mark.parametrize("how", ["console_disable", "api_patch", "console_delete", "unbind"])
async def test_a_member_disabled_deleted_or_unbound_loses_the_app_at_once(
    world: World, counting_kv: CountingKV, how: str
) -> None:
    """No re-check interval: the member's gate sessions end with their dingbridge sessions,
    and the check still costs one KV read."""
    app_id = await add_app(world)
    zhang = await member_id(world, "+8613800000001")
    browser = await signed_in_browser(world)
    host = AppHost(world, app_id)
    await through_the_gate(world, browser, host)
    other = await signed_in_browser(world, "user002", "13800000002")
    other_host = AppHost(world, app_id)
    await through_the_gate(world, other, other_host)
    assert (await host.check()).status == 200

    admin = await admin_browser(world)
    if how == "console_disable":
        page = await admin.get("/admin/spaces/10001/members")
        answer = await admin.post(
            f"/admin/spaces/10001/members/{zhang}/status",
            {"csrf_token": page.csrf(), "status": "disabled"},
        )
    elif how == "api_patch":
        page = await admin.get("/admin/spaces")
        token = page.text.split('<meta name="csrf-token" content="', 1)[1].split('"', 1)[0]
        answer = await admin.request(
            "PATCH",
            f"/api/v1/spaces/10001/members/{zhang}",
            json_body={"status": "disabled"},
            headers={"x-csrf-token": token},
        )
    elif how == "console_delete":
        page = await admin.get(f"/admin/spaces/10001/members/{zhang}/delete")
        answer = await admin.post(
            f"/admin/spaces/10001/members/{zhang}/delete",
            {"csrf_token": page.csrf(), "confirm": "1"},
        )
    else:
        binding = await binding_id(world, zhang)
        page = await admin.get("/admin/spaces/10001/signin")
        answer = await admin.post(
            f"/admin/spaces/10001/signin/bindings/{binding}/delete",
            {"csrf_token": page.csrf(), "confirm": "1"},
        )
    assert answer.status in (200, 204, 303), answer.text[:300]

    counting_kv.calls.clear()
    assert (await host.check()).status == 401  # at once, not at the next re-check
    assert counting_kv.calls == ["get"]
    assert 'id="space-home"' not in (await browser.get("/10001/", follow=True)).text
    assert (await other_host.check()).status == 200  # the others keep theirs


async def test_signing_out_of_dingbridge_ends_that_browser_s_gate_session_at_once(
    world: World,
) -> None:
    app_id = await add_app(world)
    browser = await signed_in_browser(world)
    host = AppHost(world, app_id)
    await through_the_gate(world, browser, host)
    phone = await signed_in_browser(world)  # the same member on another phone
    phone_host = AppHost(world, app_id)
    await through_the_gate(world, phone, phone_host)
    home = await browser.get("/10001/")
    await browser.post("/10001/logout", {"token": home.token()})
    assert (await host.check()).status == 401
    assert (await phone_host.check()).status == 200  # the other session is not signed out


async def test_forged_identity_headers_do_not_authenticate_nor_come_back(world: World) -> None:
    app_id = await add_app(world)
    host = AppHost(world, app_id)
    forged = {
        "x-auth-request-user": "admin",
        "x-dingbridge-member": "1",
        "x-auth-request-preferred-username": "boss",
    }
    assert (await host.check(**forged)).status == 401
    await through_the_gate(world, await signed_in_browser(world), host)
    passed = await host.check(**forged)
    assert passed.status == 200
    assert passed.header("x-auth-request-preferred-username") == "%E5%BC%A0%E4%BC%9F"
    assert passed.header("x-auth-request-user") != "admin"
    # a gate cookie of the wrong name or a made-up value is no session
    host.jar.cookies = {gate_sessions.gate_cookie(app_id): "made-up"}
    assert (await host.check()).status == 401


async def test_the_app_is_given_the_browser_s_cookies_without_dingbridge_s(world: World) -> None:
    app_id = await add_app(world)
    host = AppHost(world, app_id)
    await through_the_gate(world, await signed_in_browser(world), host)
    host.jar.cookies.update(
        {"theme": "dark", "dingbridge_session": "leaked", "_dingbridge_gate_99": "x", "b": "2"}
    )
    passed = await host.check()
    assert passed.header(APP_COOKIE_HEADER.lower()) == "theme=dark; b=2"


async def test_a_gate_cookie_of_one_app_does_not_open_another(world: World) -> None:
    wiki = await add_app(world)
    crm = await add_app(world, url="http://apps.test:8080/crm/", title="CRM")
    host = AppHost(world, wiki)
    await through_the_gate(world, await signed_in_browser(world), host)
    value = host.jar.cookies[gate_sessions.gate_cookie(wiki)]
    other = AppHost(world, crm)
    other.jar.cookies[gate_sessions.gate_cookie(crm)] = value
    assert (await other.check("/crm/")).status == 401


@pytest.mark.parametrize(
    "rd",
    [
        "http://apps.test:8080/crm/",  # another app on the same host
        "http://evil.test/wiki/",
        "http://apps.test:9090/wiki/",
        "https://apps.test:8080/wiki/",
        "//evil.test/wiki/",
        "/\\evil.test/wiki/",
        "javascript:alert(1)//apps.test:8080/wiki/",
        "http://apps.test:8080@evil.test/wiki/",
        "http://apps.test:8080/wiki/../admin/",
        "http://apps.test:8080/wiki/%2e%2e/admin/",
        "http://apps.test:8080/wiki/\nSet-Cookie:x=1",
        "",
    ],
)
async def test_the_sign_in_returns_to_that_app_only(world: World, rd: str) -> None:
    app_id = await add_app(world)
    await add_app(world, url="http://apps.test:8080/crm/", title="CRM")
    browser = await signed_in_browser(world)
    host = AppHost(world, app_id)
    refused = await host.check(**{"x-original-url": rd})
    to_app = await browser.get(sign_in_path(refused))
    back = await host.callback(to_app.header("location") or "")
    assert back.header("location") == APP_URL


async def test_tickets_work_once_and_only_in_the_browser_that_started(world: World) -> None:
    app_id = await add_app(world)
    browser = await signed_in_browser(world)
    host = AppHost(world, app_id)
    refused = await host.check()
    to_app = (await browser.get(sign_in_path(refused))).header("location") or ""
    # another browser (no state cookie) cannot use it: no login CSRF
    stranger = AppHost(world, app_id)
    stolen = await stranger.callback(to_app)
    assert stolen.status == 400 and gate_sessions.gate_cookie(app_id) not in stranger.jar.cookies
    # and it was spent by that try
    assert (await host.callback(to_app)).status == 400
    # a fresh one works once
    to_app = (await browser.get(sign_in_path(refused))).header("location") or ""
    assert (await host.callback(to_app)).status == 303
    assert (await host.callback(to_app)).status == 400


async def test_sign_out_of_the_app(world: World) -> None:
    app_id = await add_app(world)
    host = AppHost(world, app_id)
    await through_the_gate(world, await signed_in_browser(world), host)
    value = host.jar.cookies[gate_sessions.gate_cookie(app_id)]
    out = await host.jar.get("/_dingbridge/sign_out?rd=/wiki/")
    assert out.status == 303 and out.header("location") == "/wiki/"
    host.jar.cookies[gate_sessions.gate_cookie(app_id)] = value  # replayed: ended server-side
    assert (await host.check()).status == 401


async def test_redirect_mode_for_traefik_and_caddy(world: World) -> None:
    app_id = await add_app(world)
    host = AppHost(world, app_id)
    answer = await host.jar.get(
        f"/_dingbridge/auth/10001/{app_id}?redirect=1",
        headers={
            "x-forwarded-proto": "http",
            "x-forwarded-host": "apps.test:8080",
            "x-forwarded-uri": "/wiki/x",
        },
    )
    assert answer.status == 302
    location = answer.header("location") or ""
    rd = decode_rd(parse_qs(urlsplit(location).query)["rd"][0])
    assert rd == "http://apps.test:8080/wiki/x"


async def test_not_a_forward_auth_app_is_not_found(world: World) -> None:
    link = await add_app(world, kind="link")
    browser = await signed_in_browser(world)
    page = await browser.get(f"/10001/gate/{link}")
    assert page.status == 404
    assert (await browser.get("/10001/gate/9999")).status == 404


async def test_tickets_and_gate_cookies_stay_out_of_the_logs(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    app_id = await add_app(world)
    browser = await signed_in_browser(world)
    host = AppHost(world, app_id)
    refused = await host.check()
    to_app = (await browser.get(sign_in_path(refused))).header("location") or ""
    ticket = parse_qs(urlsplit(to_app).query)["ticket"][0]
    await host.callback(to_app)
    await host.check()
    gate_cookie = host.jar.cookies[gate_sessions.gate_cookie(app_id)]
    assert ticket not in caplog.text and gate_cookie not in caplog.text
