"""Work notifications: send, progress, result, flow control, and the control API's view."""

from __future__ import annotations

import json
from typing import Any

from dingbridge.sim.defaults import DEPT_RND, FULL_APP, INACTIVE_USERID
from tests.sim.asgi_call import call
from tests.sim.conftest import app_token, topapi

SEND = "/topapi/message/corpconversation/asyncsend_v2"
RESULT = "/topapi/message/corpconversation/getsendresult"
PROGRESS = "/topapi/message/corpconversation/getsendprogress"


def text(content: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": content}}


async def test_send_then_read_progress_and_result(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    sent = await topapi(
        sim_app,
        SEND,
        token,
        {
            "agent_id": FULL_APP.agent_id,
            "userid_list": "user001,user002,ghost",
            "msg": text("请提交日报。"),
        },
    )
    assert sent["errcode"] == 0 and isinstance(sent["task_id"], int) and sent["request_id"]
    query = {"agent_id": FULL_APP.agent_id, "task_id": sent["task_id"]}
    progress = await topapi(sim_app, PROGRESS, token, query)
    assert progress["progress"] == {"progress_in_percent": 100, "status": 2}
    result = (await topapi(sim_app, RESULT, token, query))["send_result"]
    assert sorted(result["unread_user_id_list"]) == ["user001", "user002"]
    assert result["invalid_user_id_list"] == ["ghost"] and result["forbidden_list"] == []
    messages = (await call(sim_app, "GET", "/_sim/messages")).json()["messages"]
    assert messages[-1]["msg"]["text"]["content"] == "请提交日报。"


async def test_same_content_twice_a_day_is_forbidden_for_that_user(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    body = {"agent_id": FULL_APP.agent_id, "userid_list": "user003", "msg": text("同一条")}
    await topapi(sim_app, SEND, token, body)
    second = await topapi(sim_app, SEND, token, body)
    assert second["errcode"] == 0  # still accepted: the user just does not receive it
    query = {"agent_id": FULL_APP.agent_id, "task_id": second["task_id"]}
    result = (await topapi(sim_app, RESULT, token, query))["send_result"]
    assert result["forbidden_list"] == [{"code": "143106", "count": 1, "userid": "user003"}]
    assert result["unread_user_id_list"] == []


async def test_department_recipients_include_sub_departments(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    sent = await topapi(
        sim_app,
        SEND,
        token,
        {"agent_id": FULL_APP.agent_id, "dept_id_list": f"{DEPT_RND},77", "msg": text("研发周会")},
    )
    query = {"agent_id": FULL_APP.agent_id, "task_id": sent["task_id"]}
    result = (await topapi(sim_app, RESULT, token, query))["send_result"]
    assert {"user002", "user003", "user005", "user017"} <= set(result["unread_user_id_list"])
    assert result["invalid_dept_id_list"] == [77]


async def test_form_encoded_send_and_inactive_user(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    answer = await call(
        sim_app,
        "POST",
        SEND,
        query={"access_token": token},
        form={
            "agent_id": str(FULL_APP.agent_id),
            "userid_list": INACTIVE_USERID,
            "msg": json.dumps(text("表单")),
        },
    )
    sent = answer.json()
    query = {"agent_id": FULL_APP.agent_id, "task_id": sent["task_id"]}
    result = (await topapi(sim_app, RESULT, token, query))["send_result"]
    assert result["failed_user_id_list"] == [INACTIVE_USERID]


async def test_send_errors(sim_app: Any, sim_state: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    cases: list[tuple[dict[str, Any], int]] = [
        ({"userid_list": "user001", "msg": text("x")}, 41011),
        ({"agent_id": 1, "userid_list": "user001", "msg": text("x")}, 40056),
        (
            {"agent_id": FULL_APP.agent_id, "userid_list": "user001", "msg": {"msgtype": "fax"}},
            40008,
        ),
        ({"agent_id": FULL_APP.agent_id, "userid_list": "user001", "msg": text("")}, 44004),
        ({"agent_id": FULL_APP.agent_id, "msg": text("nobody")}, 40035),
    ]
    for body, errcode in cases:
        assert (await topapi(sim_app, SEND, token, body))["errcode"] == errcode, body
    unknown = await topapi(sim_app, RESULT, token, {"agent_id": FULL_APP.agent_id, "task_id": 1})
    assert unknown["errcode"] == 40035
    sent = await topapi(
        sim_app,
        SEND,
        token,
        {"agent_id": FULL_APP.agent_id, "userid_list": "user001", "msg": text("旧")},
    )
    sim_state.clock.advance(86401)
    token = await app_token(sim_app, FULL_APP)
    query = {"agent_id": FULL_APP.agent_id, "task_id": sent["task_id"]}
    assert (await topapi(sim_app, PROGRESS, token, query))["errcode"] == 40035
