"""``GET /_sim/``: corps, apps, users, the request log and the messages sent, in zh-CN."""

from __future__ import annotations

import json
import time
from html import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dingbridge.sim.handlers.directory_forms import directory_forms, event_log
from dingbridge.sim.html_pages import page, table
from dingbridge.sim.state import SimState


def _when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


async def dashboard(request: Request) -> Response:
    state: SimState = request.app.state.sim
    parts = ["<h1>钉钉模拟器</h1>"]
    error = request.query_params.get("error")
    if error:
        parts.append(f'<p class="error">操作失败：{escape(error)}</p>')
    parts.append(
        f'<p class="muted">模拟时钟偏移 {state.clock.offset:.0f} 秒；'
        f"应用令牌有效期 {state.settings.token_lifetime} 秒；每应用每接口限流 "
        f"{state.settings.qps_limit} 次/秒。</p>"
    )
    for corp in state.corps.values():
        parts.append(f"<h2>企业：{escape(corp.name)}（CorpId {escape(corp.corp_id)}）</h2>")
        parts.append("<h3>应用</h3>")
        parts.append(
            table(
                ["应用 AppKey", "AgentId", "名称", "服务器出口IP", "权限"],
                [
                    [
                        a.app_key,
                        str(a.agent_id),
                        a.name,
                        "，".join(a.ip_whitelist),
                        "，".join(sorted(a.permissions)),
                    ]
                    for a in corp.apps.values()
                ],
            )
        )
        depts = {d.dept_id: d.name for d in corp.departments.values()}
        parts.append(directory_forms(corp))
        parts.append("<h3>成员</h3>")
        parts.append(
            table(
                ["UserId", "姓名", "手机号", "邮箱", "部门", "状态"],
                [
                    [
                        u.userid,
                        u.name,
                        u.mobile,
                        u.email,
                        "，".join(depts.get(d, str(d)) for d in u.dept_ids),
                        "已激活" if u.active else "未激活",
                    ]
                    for u in corp.users.values()
                ],
            )
        )
    parts.append("<h2>请求记录（最近 100 条）</h2>")
    parts.append(
        table(
            ["时间", "方法", "路径", "AppKey", "来源IP", "结果"],
            [
                [_when(e.time), e.method, e.path, e.app_key, e.peer, e.outcome]
                for e in reversed(state.request_log[-100:])
            ],
        )
    )
    parts.append(event_log(state))
    parts.append("<h2>已发送的工作通知</h2>")
    parts.append(
        table(
            ["时间", "任务ID", "AgentId", "接收人", "内容"],
            [
                [
                    _when(m.time),
                    str(m.task_id),
                    str(m.agent_id),
                    "，".join(m.userids),
                    json.dumps(m.msg, ensure_ascii=False),
                ]
                for m in reversed(state.messages[-100:])
            ],
        )
    )
    return page("控制台", "".join(parts))


ROUTES = [Route("/_sim/", dashboard, methods=["GET"]), Route("/_sim", dashboard, methods=["GET"])]
