"""Departments, members and work notifications against the in-process simulator."""

from __future__ import annotations

from typing import Any

import pytest

from dingbridge.dingtalk import DingTalkError
from dingbridge.dingtalk.api.messages import markdown_message, text_message
from dingbridge.sim.defaults import DEMO_CORP_ID, DEPT_RND
from tests.dingtalk.conftest import SimClients


async def test_listsub_and_listsubid_agree(sim_client: SimClients, sim_state: Any) -> None:
    client = sim_client()
    subs = await client.contacts.listsub()
    assert subs and all(d.parent_id == 1 for d in subs)
    assert sorted(d.dept_id for d in subs) == sorted(await client.contacts.listsubid())
    assert DEPT_RND in {d.dept_id for d in subs}
    children = await client.contacts.listsub(DEPT_RND)
    assert children and all(d.parent_id == DEPT_RND for d in children)


async def test_unknown_department(sim_client: SimClients) -> None:
    with pytest.raises(DingTalkError) as err:
        await sim_client().contacts.listsub(999)
    assert err.value.errcode == 60003


async def test_listid_and_paged_user_list_match(sim_client: SimClients, sim_state: Any) -> None:
    client = sim_client()
    all_ids: set[str] = set()
    for dept_id in [1, *(d.dept_id for d in await client.contacts.listsub())]:
        ids = await client.contacts.listid(dept_id)
        pages = [page async for page in client.contacts.user_list_pages(dept_id, size=3)]
        paged = [u.userid for page in pages for u in page]
        assert sorted(paged) == sorted(ids)
        assert all(len(page) <= 3 for page in pages)
        all_ids |= set(ids)
    assert "user001" in all_ids


async def test_user_list_paging_walks_every_page(sim_client: SimClients, sim_state: Any) -> None:
    client = sim_client()
    dept = max(
        [1, *(await client.contacts.listsubid())],
        key=lambda d: sum(d in u.dept_ids for u in sim_state.corps[DEMO_CORP_ID].users.values()),
    )
    ids = await client.contacts.listid(dept)
    assert len(ids) >= 3
    pages = [page async for page in client.contacts.user_list_pages(dept, size=2)]
    assert len(pages) == (len(ids) + 1) // 2
    assert pages[0][0].name


def test_page_size_checked_before_any_call(sim_client: SimClients) -> None:
    with pytest.raises(ValueError, match="between 1 and 100"):
        sim_client().contacts.user_list_pages(1, size=101)
    with pytest.raises(ValueError, match="order_field"):
        sim_client().contacts.user_list_pages(1, order_field="name")


async def test_send_then_progress_and_result(sim_client: SimClients, sim_state: Any) -> None:
    client = sim_client()
    task_id = await client.messages.asyncsend_v2(
        text_message("请提交日报。"), userid_list=["user001", "user002"]
    )
    assert task_id > 0
    progress = await client.messages.getsendprogress(task_id)
    assert progress.done and progress.progress_in_percent == 100
    result = await client.messages.getsendresult(task_id)
    assert set(result.read_user_ids + result.unread_user_ids) == {"user001", "user002"}
    assert result.forbidden == ()


async def test_duplicate_content_reported_as_forbidden(sim_client: SimClients) -> None:
    client = sim_client()
    msg = markdown_message("周报", "**请提交周报**")
    await client.messages.asyncsend_v2(msg, userid_list=["user003"])
    task_id = await client.messages.asyncsend_v2(msg, userid_list=["user003"])
    result = await client.messages.getsendresult(task_id)
    assert [(f.userid, f.code) for f in result.forbidden] == [("user003", "143106")]


async def test_send_validates_before_calling(sim_client: SimClients, sim_state: Any) -> None:
    client = sim_client()
    with pytest.raises(ValueError, match="userid_list"):
        await client.messages.asyncsend_v2(text_message("x"))
    with pytest.raises(ValueError, match="at most 100"):
        await client.messages.asyncsend_v2(
            text_message("x"), userid_list=[f"u{i}" for i in range(101)]
        )
    assert not sim_state.request_log


async def test_send_is_not_retried(sim_client: SimClients, sim_state: Any) -> None:
    from dingbridge.dingtalk import ServerBusy
    from dingbridge.sim.faults import parse_fault

    client = sim_client()
    path = "/topapi/message/corpconversation/asyncsend_v2"
    sim_state.faults.add(parse_fault({"path": path, "kind": "error", "errcode": -1, "count": 1}))
    with pytest.raises(ServerBusy):
        await client.messages.asyncsend_v2(text_message("hi"), userid_list=["user001"])
    assert len([e for e in sim_state.request_log if e.path == path]) == 1
