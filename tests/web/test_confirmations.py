"""Deleting a member, disabling a space and unbinding act only after a confirmation page that
says what will be lost; a bare POST (one click) changes nothing."""

from __future__ import annotations

from dingbridge.storage.models import Binding
from tests.web.conftest import AsgiClient, Server, csrf_of


async def _space_with_member(admin: AsgiClient) -> str:
    token = await csrf_of(admin)
    await admin.post("/admin/spaces", form={"csrf_token": token, "name": "销售部"})
    added = await admin.post(
        "/admin/spaces/10001/members",
        form={"csrf_token": token, "name": "张伟", "mobile": "13800000001", "status": "active"},
    )
    assert added.status == 303
    page = (await admin.get("/admin/spaces/10001/members")).text
    return page.split('href="/admin/spaces/10001/members/')[1].split('"')[0]


async def test_one_click_on_delete_only_asks(admin: AsgiClient) -> None:
    member = await _space_with_member(admin)
    url = f"/admin/spaces/10001/members/{member}"
    token = await csrf_of(admin, url)
    asked = await admin.post(f"{url}/delete", form={"csrf_token": token})
    assert asked.status == 303 and asked.header("location") == f"{url}/delete"
    assert (await admin.get(url)).status == 200  # still there
    confirm = await admin.get(f"{url}/delete")
    assert "张伟" in confirm.text and "13800000001" in confirm.text
    assert "没有钉钉绑定" in confirm.text and 'name="confirm" value="1"' in confirm.text
    done = await admin.post(f"{url}/delete", form={"csrf_token": token, "confirm": "1"})
    assert done.status == 303 and (await admin.get(url)).status == 404


async def test_the_member_page_links_to_the_question_not_the_action(admin: AsgiClient) -> None:
    member = await _space_with_member(admin)
    page = (await admin.get(f"/admin/spaces/10001/members/{member}")).text
    assert f'action="/admin/spaces/10001/members/{member}/delete"' not in page
    assert f'href="/admin/spaces/10001/members/{member}/delete"' in page


async def test_disabling_a_space_says_who_loses_access(server: Server, admin: AsgiClient) -> None:
    await _space_with_member(admin)
    token = await csrf_of(admin, "/admin/spaces/10001")
    asked = await admin.post(
        "/admin/spaces/10001/enabled", form={"csrf_token": token, "enabled": "0"}
    )
    assert asked.header("location") == "/admin/spaces/10001/disable"
    assert (await server.new_client().get("/10001/")).status == 200  # still open
    confirm = (await admin.get("/admin/spaces/10001/disable")).text
    assert "1 名启用中的成员" in confirm and "都会保留" in confirm
    await admin.post(
        "/admin/spaces/10001/enabled", form={"csrf_token": token, "enabled": "0", "confirm": "1"}
    )
    assert (await server.new_client().get("/10001/")).status == 404
    # enabling again needs no confirmation
    await admin.post("/admin/spaces/10001/enabled", form={"csrf_token": token, "enabled": "1"})
    assert (await server.new_client().get("/10001/")).status == 200


async def test_unbinding_names_the_member_and_the_dingtalk_user(
    server: Server, admin: AsgiClient
) -> None:
    member = int(await _space_with_member(admin))
    async with server.app.state.context.db.transaction() as session:
        binding = Binding(space_id=10001, corp_id="dingx", userid="user001", member_id=member)
        session.add(binding)
        await session.flush()
        binding_id = binding.id
    url = f"/admin/spaces/10001/signin/bindings/{binding_id}/delete"
    token = await csrf_of(admin, "/admin/spaces/10001/signin")
    asked = await admin.post(url, form={"csrf_token": token})
    assert asked.header("location") == url
    assert "user001" in (await admin.get("/admin/spaces/10001/signin")).text
    confirm = (await admin.get(url)).text
    assert "张伟" in confirm and "user001" in confirm and "成员记录保留" in confirm
    confirm_en = await admin.get("/lang/en")
    assert confirm_en.status in (200, 303)
    assert "Unbind 张伟 from DingTalk?" in (await admin.get(url)).text
    await admin.post(url, form={"csrf_token": token, "confirm": "1"})
    assert f"binding-{binding_id}" not in (await admin.get("/admin/spaces/10001/signin")).text
