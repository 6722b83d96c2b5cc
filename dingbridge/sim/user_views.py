"""How users look in each API's answer, field permissions applied."""

from __future__ import annotations

import hashlib
from typing import Any

from dingbridge.sim.records import App, User


def _has(app: App, permission: str) -> bool:
    return permission in app.permissions


def _contact_fields(user: User, app: App) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if _has(app, "fieldMobile") and user.mobile:
        fields.update(state_code=user.state_code, mobile=user.mobile)
    return fields


def _email_fields(user: User, app: App) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if _has(app, "fieldEmail"):
        if user.email:
            fields["email"] = user.email
        if user.org_email:
            fields["org_email"] = user.org_email
    return fields


def _common(user: User, app: App) -> dict[str, Any]:
    return {
        "userid": user.userid,
        "unionid": user.unionid,
        "name": user.name,
        **_contact_fields(user, app),
        "hide_mobile": False,
        "telephone": "",
        "job_number": user.job_number,
        "title": user.title,
        **_email_fields(user, app),
        "dept_id_list": list(user.dept_ids),
        "active": user.active,
        "admin": user.sys_level in (1, 2),
        "boss": user.sys_level == 100,
        "senior": False,
        "real_authed": user.active,
        "exclusive_account": False,
    }


def dept_order(user: User, dept_id: int) -> int:
    digest = hashlib.sha256(f"{user.userid}:{dept_id}".encode()).digest()
    return 176220178909140000 + int.from_bytes(digest[:2], "big")


def user_detail(user: User, app: App) -> dict[str, Any]:
    """``topapi/v2/user/get`` ``result``."""
    detail = _common(user, app)
    detail["dept_order_list"] = [
        {"dept_id": d, "order": dept_order(user, d)} for d in user.dept_ids
    ]
    detail["leader_in_dept"] = [
        {"dept_id": d, "leader": d in user.leader_dept_ids} for d in user.dept_ids
    ]
    roles = {1: "主管理员", 2: "子管理员", 100: "老板"}
    if user.sys_level in roles:
        detail["role_list"] = [
            {"group_name": "默认", "id": 3935025514, "name": roles[user.sys_level]}
        ]
    return detail


def user_list_item(user: User, app: App, dept_id: int) -> dict[str, Any]:
    """One item of ``topapi/v2/user/list`` ``result.list``."""
    item = _common(user, app)
    item["dept_order"] = dept_order(user, dept_id)
    item["leader"] = dept_id in user.leader_dept_ids
    return item


def open_id(user: User, app: App) -> str:
    """A per-app id for the user, as OAuth/SNS return it."""
    return hashlib.sha256(f"{app.app_key}:{user.unionid}".encode()).hexdigest()[:24]


def contact_me(user: User, app: App) -> dict[str, Any]:
    """``GET /v1.0/contact/users/me``: camelCase, no userid, absent fields omitted."""
    body: dict[str, Any] = {
        "nick": user.name,
        "unionId": user.unionid,
        "openId": open_id(user, app),
    }
    if _has(app, "Contact.User.mobile") and user.mobile:
        body.update(mobile=user.mobile, stateCode=user.state_code)
    if user.email:
        body["email"] = user.email
    body["visitor"] = False
    return body
