"""Errors raised with values (a space, member or app that is not there) read in the page's
language: they are catalog messages, not English f-strings."""

from __future__ import annotations

from tests.web.conftest import AsgiClient, csrf_of


async def test_a_missing_space_or_member_is_named_in_chinese(admin: AsgiClient) -> None:
    space = await admin.get("/admin/spaces/10099")
    assert space.status == 404 and "应用空间 10099 不存在。" in space.text
    await admin.post("/admin/spaces", form={"csrf_token": await csrf_of(admin), "name": "销售部"})
    member = await admin.get("/admin/spaces/10001/members/77")
    assert member.status == 404 and "成员 77 不在应用空间 10001 中。" in member.text
    assert "does not exist" not in space.text and "is not in space" not in member.text
    admin.cookies["dingbridge_lang"] = "en"
    english = await admin.get("/admin/spaces/10099")
    assert "Space 10099 does not exist." in english.text


async def test_the_json_api_keeps_the_english_text(admin: AsgiClient) -> None:
    answer = await admin.get("/api/v1/spaces/10099")
    assert answer.status == 404
    assert answer.json()["message"] == "Space 10099 does not exist."
