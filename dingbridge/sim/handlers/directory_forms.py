"""The console's directory-change forms (离职, 改手机号, 调部门, 入职) and its event log."""

from __future__ import annotations

import time
from html import escape

from dingbridge.sim.html_pages import table
from dingbridge.sim.records import Corp
from dingbridge.sim.state import SimState


def _options(corp: Corp) -> str:
    return "".join(
        f'<option value="{escape(u.userid)}">{escape(u.name)}（{escape(u.userid)}）</option>'
        for u in corp.users.values()
    )


def directory_forms(corp: Corp) -> str:
    base = f"/_sim/corps/{escape(corp.corp_id)}"
    users = _options(corp)
    depts = "，".join(f"{d.dept_id} {escape(d.name)}" for d in corp.departments.values())
    select = f'<select name="userid" required>{users}</select>'
    # Each form posts to its user's URL: a tiny inline script fills the action from the select.
    return (
        "<h3>通讯录变更（会向订阅的应用推送事件）</h3>"
        f'<p class="muted">部门：{depts}</p>'
        '<div class="users">'
        f'<form method="post" data-action="{base}/users/{{userid}}/leave">{select}'
        '<input name="reason" placeholder="离职原因"><button>此人离职</button></form>'
        f'<form method="post" data-action="{base}/users/{{userid}}/mobile">{select}'
        '<input name="mobile" placeholder="新手机号" required><button>修改手机号</button></form>'
        f'<form method="post" data-action="{base}/users/{{userid}}/departments">{select}'
        '<input name="dept_ids" placeholder="部门ID，逗号分隔" required>'
        "<button>调整部门</button></form>"
        f'<form method="post" action="{base}/users">'
        '<input name="name" placeholder="姓名" required>'
        '<input name="mobile" placeholder="手机号" required>'
        '<input name="dept_ids" placeholder="部门ID（默认 1）"><button>新员工入职</button></form>'
        "</div>"
        "<script>for(const f of document.querySelectorAll('form[data-action]')){"
        "f.addEventListener('submit',()=>{f.action=f.dataset.action.replace('{userid}',"
        "encodeURIComponent(f.elements.userid.value));});}</script>"
    )


def event_log(state: SimState) -> str:
    hub = state.events
    live = "，".join(f"{k}：{len(v)} 个连接" for k, v in hub.connections.items() if v)
    pushing = "，".join(f"{k} → {s.url}" for k, s in hub.http.items())
    return (
        "<h2>事件推送（最近 100 次）</h2>"
        f'<p class="muted">Stream 连接：{escape(live or "无")}；HTTP 推送：'
        f"{escape(pushing or '无')}</p>"
        + table(
            ["时间", "事件", "事件ID", "应用", "方式", "结果"],
            [
                [
                    time.strftime("%H:%M:%S", time.localtime(d.time)),
                    d.event_type,
                    d.event_id,
                    d.app_key,
                    d.channel,
                    d.outcome,
                ]
                for d in reversed(hub.deliveries[-100:])
            ],
        )
    )
