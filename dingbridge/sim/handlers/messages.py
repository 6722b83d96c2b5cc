"""Work notifications: send, progress, result, with flow control."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.routing import Route

from dingbridge.sim.endpoints import Call, oapi_endpoint
from dingbridge.sim.errors import OapiError
from dingbridge.sim.records import Corp
from dingbridge.sim.state import SentMessage

MSG_TYPES = {"text", "image", "voice", "file", "link", "markdown", "action_card", "oa"}
DAILY_CAP = 500
TASK_RETENTION = 86400


def _agent(call: Call) -> int:
    assert call.app is not None
    if call.params.get("agent_id") in (None, ""):
        raise OapiError(41011, "缺少agentid")
    agent_id = call.int_param("agent_id")
    if agent_id != call.app.agent_id:
        raise OapiError(40056, "不合法的agentid")
    return agent_id


def _msg(call: Call) -> dict[str, Any]:
    msg = call.params.get("msg")
    if isinstance(msg, str):  # form encoding carries msg as a JSON string
        try:
            msg = json.loads(msg)
        except ValueError as exc:
            raise OapiError(40035, "不合法的参数") from exc
    if not isinstance(msg, dict) or msg.get("msgtype") not in MSG_TYPES:
        raise OapiError(40008, "不合法的消息类型")
    if msg["msgtype"] == "text" and not (msg.get("text") or {}).get("content"):
        raise OapiError(44004, "文本消息的内容为空")
    return msg


def _split(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


def _descendants(corp: Corp, dept_id: int) -> set[int]:
    found, todo = {dept_id}, [dept_id]
    while todo:
        for child in corp.children_of(todo.pop()):
            found.add(child.dept_id)
            todo.append(child.dept_id)
    return found


def _recipients(call: Call, message: SentMessage) -> list[str]:
    corp = call.corp
    userids = _split(call.params.get("userid_list"))
    dept_ids = _split(call.params.get("dept_id_list"))
    to_all = str(call.params.get("to_all_user", "false")).lower() == "true"
    if not (userids or dept_ids or to_all):
        raise OapiError(40035, "不合法的参数")
    if len(userids) > 100 or len(dept_ids) > 20:
        raise OapiError(41029, "接收者超过上限")
    chosen: list[str] = list(corp.users) if to_all else []
    for userid in userids:
        (chosen if userid in corp.users else message.invalid_userids).append(userid)
    for raw in dept_ids:
        if not raw.isdigit() or int(raw) not in corp.departments:
            message.invalid_dept_ids.append(int(raw) if raw.isdigit() else -1)
            continue
        depts = _descendants(corp, int(raw))
        chosen += [u.userid for u in corp.users.values() if depts & set(u.dept_ids)]
    return list(dict.fromkeys(chosen))


@oapi_endpoint("message.corpconversation.asyncsend_v2", "qyapi_base")
async def asyncsend_v2(call: Call) -> dict[str, Any]:
    assert call.app is not None
    state, agent_id, msg = call.state, _agent(call), _msg(call)
    message = SentMessage(
        state.next_task_id(),
        state.clock.now(),
        call.corp.corp_id,
        call.app.app_key,
        agent_id,
        [],
        msg,
    )
    day = int(state.clock.now() // 86400)
    digest = hashlib.sha256(json.dumps(msg, sort_keys=True).encode()).hexdigest()
    for userid in _recipients(call, message):
        key = (call.app.app_key, userid, day)
        count = state.notify_counts.get(key, 0)
        if not call.corp.users[userid].active:
            message.failed_userids.append(userid)
        elif count >= DAILY_CAP:
            message.forbidden.append({"code": "143105", "count": count, "userid": userid})
        elif (*key, digest) in state.notify_seen:
            message.forbidden.append({"code": "143106", "count": 1, "userid": userid})
        else:
            state.notify_counts[key] = count + 1
            state.notify_seen.add((*key, digest))
            message.userids.append(userid)
    state.messages.append(message)
    return {"task_id": message.task_id}


def _task(call: Call) -> SentMessage:
    agent_id = _agent(call)
    task_id = call.int_param("task_id")
    cutoff = call.state.clock.now() - TASK_RETENTION
    for message in call.state.messages:
        if message.task_id == task_id and message.agent_id == agent_id and message.time > cutoff:
            return message
    raise OapiError(40035, "不合法的参数")


@oapi_endpoint("message.corpconversation.getsendprogress", "qyapi_base")
async def getsendprogress(call: Call) -> dict[str, Any]:
    _task(call)
    return {"progress": {"progress_in_percent": 100, "status": 2}}


@oapi_endpoint("message.corpconversation.getsendresult", "qyapi_base")
async def getsendresult(call: Call) -> dict[str, Any]:
    message = _task(call)
    return {
        "send_result": {
            "read_user_id_list": [],
            "unread_user_id_list": list(message.userids),
            "failed_user_id_list": list(message.failed_userids),
            "invalid_user_id_list": list(message.invalid_userids),
            "invalid_dept_id_list": list(message.invalid_dept_ids),
            "forbidden_list": list(message.forbidden),
            "forbidden_user_id_list": [f["userid"] for f in message.forbidden],
        }
    }


_BASE = "/topapi/message/corpconversation"
ROUTES = [
    Route(f"{_BASE}/asyncsend_v2", asyncsend_v2, methods=["POST"]),
    Route(f"{_BASE}/getsendprogress", getsendprogress, methods=["POST"]),
    Route(f"{_BASE}/getsendresult", getsendresult, methods=["POST"]),
]
