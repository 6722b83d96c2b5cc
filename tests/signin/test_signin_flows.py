"""Sign-in flows in-process: in-client 免登 + SMS binding, returning users, PC OAuth (V2 and
V1), refusals, sessions, and what they cost in DingTalk calls (the simulator's request log)."""

from __future__ import annotations

from dingbridge.signin.codes import CodePolicy
from dingbridge.sim.defaults import DEMO_CORP_ID, OTHER_CORP_ID
from tests.signin.signin_world import World


async def test_in_client_first_visit_binds_then_lands_on_the_home(world: World) -> None:
    browser = world.new_browser()
    entry = await browser.get("/10001/")
    assert entry.status == 200 and 'id="signin"' in entry.text
    bind_page = await world.in_client(browser, "user001")
    assert bind_page.url.endswith("/10001/bind") and "13800000001" not in bind_page.text
    home = await world.bind(browser, "13800000001")
    assert home.status == 200, home.text
    assert 'id="space-home"' in home.text and "张伟" in home.text and "138****0001" in home.text
    assert "user001" in home.text and "示例科技有限公司" in home.text
    # the binding is recorded and audited
    async with world.context.db.session() as session:
        from dingbridge.spaces.audit import recent

        actions = [e.action for e in await recent(session)]
    assert "binding.create" in actions


async def test_first_binding_costs_at_most_three_dingtalk_calls(world: World) -> None:
    browser = world.new_browser()
    await world.in_client(browser, "user001")
    await world.bind(browser, "13800000001")
    calls = world.dingtalk_calls()
    assert 1 <= len(calls) <= 3, calls
    assert "/topapi/v2/user/getuserinfo" in calls


async def test_returning_in_client_sign_in_is_one_dingtalk_call(world: World) -> None:
    first = world.new_browser()
    await world.in_client(first, "user001")
    await world.bind(first, "13800000001")
    world.sim.request_log.clear()
    again = world.new_browser()  # a new phone, no cookie
    home = await world.in_client(again, "user001")
    assert 'id="space-home"' in home.text and "张伟" in home.text
    assert world.dingtalk_calls() == ["/topapi/v2/user/getuserinfo"]


async def test_second_visit_with_the_cookie_is_the_home_at_once(world: World) -> None:
    browser = world.new_browser()
    await world.in_client(browser, "user001")
    await world.bind(browser, "13800000001")
    world.sim.request_log.clear()
    home = await browser.get("/10001/")
    assert home.status == 200 and 'id="space-home"' in home.text
    assert world.dingtalk_calls() == []


async def test_pc_browser_oauth_v2_signs_in_a_bound_user(world: World) -> None:
    phone = world.new_browser()
    await world.in_client(phone, "user002")
    await world.bind(phone, "13800000002")
    pc = world.new_browser()
    entry = await pc.get("/10001/")
    assert 'id="dingtalk-login"' in entry.text
    home = await world.browser_signin(pc, "user002")
    assert home.status == 200 and "王秀英" in home.text and 'id="space-home"' in home.text


async def test_pc_browser_first_visit_binds_too(world: World) -> None:
    pc = world.new_browser()
    bind_page = await world.browser_signin(pc, "user003")
    assert bind_page.url.endswith("/10001/bind")
    home = await world.bind(pc, "13800000003")
    assert "李娜" in home.text and 'id="space-home"' in home.text


async def test_v1_space_in_client_and_pc_browser(world: World) -> None:
    phone = world.new_browser()
    await world.in_client(phone, "user004", space_id=10002)
    home = await world.bind(phone, "13800000004", space_id=10002)
    assert "刘洋" in home.text and 'id="space-home"' in home.text
    world.sim.request_log.clear()
    pc = world.new_browser()
    to_dingtalk = await pc.get("/10002/signin/dingtalk")
    assert "/connect/qrconnect?" in (to_dingtalk.header("location") or "")
    home = await world.browser_signin(pc, "user004", space_id=10002)
    assert "刘洋" in home.text and 'id="space-home"' in home.text
    assert "/sns/getuserinfo_bycode" in world.dingtalk_calls()


async def test_a_wrong_code_five_times_kills_it_and_a_new_one_works(world: World) -> None:
    browser = world.new_browser()
    await world.in_client(browser, "user001")
    page = await browser.get("/10001/bind")
    sent = await browser.post("/10001/bind/send", {"token": page.token(), "mobile": "13800000001"})
    real = world.outbox.last_code_for("13800000001")
    assert real is not None
    wrong = "000000" if real != "000000" else "111111"
    answers = [
        await browser.post("/10001/bind/verify", {"token": sent.token(), "code": wrong})
        for _ in range(5)
    ]
    assert [a.status for a in answers] == [400] * 5
    assert "4" in answers[0].text  # tries left
    dead = await browser.post("/10001/bind/verify", {"token": sent.token(), "code": real})
    assert dead.status == 400 and 'id="space-home"' not in dead.text
    assert "no longer works" in dead.text or "已失效" in dead.text
    # within the cool-down no new code is sent; once it is over, a new code works
    again = await browser.post("/10001/bind/change", {"token": sent.token()}, follow=True)
    resent = await browser.post(
        "/10001/bind/send", {"token": again.token(), "mobile": "13800000001"}
    )
    assert resent.status == 429 and world.outbox.last_code_for("13800000001") == real
    world.context.signin.codes.policy = CodePolicy(resend_cooldown=0)  # the minute has passed
    home = await world.bind(browser, "13800000001")
    assert 'id="space-home"' in home.text


async def test_an_unknown_mobile_gets_the_same_answer_and_is_refused(world: World) -> None:
    browser = world.new_browser()
    await world.in_client(browser, "user005")
    page = await browser.get("/10001/bind")
    sent = await browser.post("/10001/bind/send", {"token": page.token(), "mobile": "13912345678"})
    assert sent.status == 200 and 'id="notice"' in sent.text
    known = world.new_browser()
    await world.in_client(known, "user001")
    page2 = await known.get("/10001/bind")
    sent2 = await known.post("/10001/bind/send", {"token": page2.token(), "mobile": "13800000001"})
    notice = sent.text.split('id="notice">')[1].split("<")[0]
    assert notice == sent2.text.split('id="notice">')[1].split("<")[0]
    assert world.outbox.last_code_for("13912345678") is None
    for code in ("123456", "654321", "000000", "999999", "111111"):
        refused = await browser.post("/10001/bind/verify", {"token": sent.token(), "code": code})
        assert refused.status == 400 and 'id="space-home"' not in refused.text
    async with world.context.db.session() as session:
        from dingbridge.signin.binding_flow import list_bindings

        assert await list_bindings(session, 10001) == []


async def test_a_user_of_another_corp_is_refused(world: World) -> None:
    from dingbridge.sim.credentials import Kind
    from dingbridge.sim.defaults import FULL_APP

    # in-client: a code of the other corp is not accepted for this space's corp
    browser = world.new_browser()
    code = world.sim.issue_authcode(OTHER_CORP_ID, "other001")
    refused = await browser.post("/10001/signin/code", json_body={"code": code, "next": "/10001/"})
    assert refused.status >= 400 and refused.json()["error"] in ("code_invalid", "other_corp")
    # browser OAuth: DingTalk says the user picked another organisation
    to_dingtalk = await browser.get("/10001/signin/dingtalk")
    state = (to_dingtalk.header("location") or "").split("state=")[1].split("&")[0]
    oauth_code = world.sim.credentials.issue(
        Kind.OAUTH_CODE, OTHER_CORP_ID, "other001", FULL_APP.app_key
    ).value
    page = await browser.get(f"/10001/?authCode={oauth_code}&state={state}")
    assert page.status == 403 and 'data-reason="other_corp"' in page.text
    assert "dingbridge_session" not in browser.cookies
    assert DEMO_CORP_ID != OTHER_CORP_ID


async def test_a_disabled_member_is_refused_and_signed_out(world: World) -> None:
    from dingbridge.spaces.members import find_by_mobile, set_member_status

    browser = world.new_browser()
    await world.in_client(browser, "user002")
    await world.bind(browser, "13800000002")
    async with world.context.db.transaction() as session:
        member = await find_by_mobile(session, 10001, "+8613800000002")
        assert member is not None
        await set_member_status(session, 10001, member.id, "disabled", actor="test")
    still = await browser.get("/10001/")
    assert 'id="space-home"' not in still.text
    refused = await world.post_code(
        world.new_browser(), world.sim.issue_authcode(DEMO_CORP_ID, "user002")
    )
    assert refused.status == 403 and refused.json()["error"] == "member_disabled"


async def test_logout_ends_the_session(world: World) -> None:
    browser = world.new_browser()
    await world.in_client(browser, "user001")
    home = await world.bind(browser, "13800000001")
    old_cookie = browser.cookies["dingbridge_session"]
    out = await browser.post("/10001/logout", {"token": home.token()}, follow=True)
    assert 'id="signed-out"' in out.text and "dingbridge_session" not in browser.cookies
    replay = world.new_browser()
    replay.cookies["dingbridge_session"] = old_cookie
    assert 'id="space-home"' not in (await replay.get("/10001/")).text


async def test_a_tampered_state_is_refused(world: World) -> None:
    browser = world.new_browser()
    to_dingtalk = await browser.get("/10001/signin/dingtalk")
    from tests.signin.signin_world import sim_get

    back = await sim_get(world.sim_app, (to_dingtalk.header("location") or "") + "&userid=user001")
    location = (back.header("location") or "").removeprefix("http://127.0.0.1:8000")
    state = location.split("state=")[1].split("&")[0]
    tampered = location.replace(f"state={state}", f"state={state[:-2]}xx")
    page = await browser.get(tampered)
    assert page.status == 400 and 'data-reason="state_invalid"' in page.text
    # the right state from another browser (no state cookie) is refused too
    stranger = world.new_browser()
    page = await stranger.get(location)
    assert page.status == 400 and 'data-reason="state_invalid"' in page.text
    assert "dingbridge_session" not in browser.cookies | stranger.cookies


async def test_a_session_of_10001_is_not_valid_in_10002(world: World) -> None:
    browser = world.new_browser()
    await world.in_client(browser, "user001")
    await world.bind(browser, "13800000001")
    cookie = next(
        c
        for c in browser.set_cookies
        if c.startswith("dingbridge_session=") and "Max-Age=0" not in c
    )
    assert "Path=/10001/" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    other = await browser.get("/10002/")
    assert other.status == 200 and 'id="space-home"' not in other.text


async def test_tickets_work_once_and_next_stays_in_the_space(world: World) -> None:
    browser = world.new_browser()
    await world.in_client(browser, "user001")
    await world.bind(browser, "13800000001")
    answer = await world.new_browser().post(
        "/10001/signin/code",
        json_body={
            "code": world.sim.issue_authcode(DEMO_CORP_ID, "user001"),
            "next": "https://evil.example/",
        },
    )
    target = answer.json()["next"]
    assert "evil" not in target
    first, second = world.new_browser(), world.new_browser()
    landed = await first.get(target)
    assert landed.status == 303 and landed.header("location") == "/10001/"
    replay = await second.get(target)
    assert "dingbridge_session" not in second.cookies and replay.status == 303
    for bad in ("/10002/", "//evil.example/10001/", "/10001/../admin/", "/10001/%2e%2e/admin"):
        answer = await world.new_browser().post(
            "/10001/signin/code",
            json_body={"code": world.sim.issue_authcode(DEMO_CORP_ID, "user001"), "next": bad},
        )
        assert answer.json()["next"].endswith("&next=/10001/")


async def test_sign_in_gives_a_new_session_id(world: World) -> None:
    browser = world.new_browser()
    browser.cookies["dingbridge_session"] = "chosen-by-an-attacker"
    await world.in_client(browser, "user001")
    await world.bind(browser, "13800000001")
    assert browser.cookies["dingbridge_session"] != "chosen-by-an-attacker"
