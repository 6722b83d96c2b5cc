"""What the simulator knows about corps, departments, users and apps (loaded from a fixture)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Permission codes as the DingTalk developer console names them, plus
# the two field permissions, which have no published code: we call them fieldMobile (企业员工
# 手机号信息) and fieldEmail (邮箱等个人信息).
PERMISSIONS: dict[str, str] = {
    "qyapi_base": "调用企业API时需要具备的基本权限",
    "qyapi_get_member": "成员信息读权限",
    "qyapi_get_department_list": "通讯录部门信息读权限",
    "qyapi_get_department_member": "通讯录部门成员读权限",
    "qyapi_get_member_by_mobile": "根据手机号获取成员基本信息权限",
    "fieldMobile": "企业员工手机号信息",
    "fieldEmail": "邮箱等个人信息",
    "open_app_api_base": "获取钉钉开放接口用户访问凭证的基础权限",
    "Contact.User.Read": "通讯录个人信息读权限",
    "Contact.User.mobile": "个人手机号信息",
}
ALL_PERMISSIONS: frozenset[str] = frozenset(PERMISSIONS)


@dataclass
class Department:
    dept_id: int
    name: str
    parent_id: int | None


@dataclass
class User:
    userid: str
    unionid: str
    name: str
    mobile: str = ""
    state_code: str = "86"
    email: str = ""
    dept_ids: list[int] = field(default_factory=lambda: [1])
    active: bool = True
    title: str = ""
    job_number: str = ""
    org_email: str = ""
    sys_level: int = 0  # 1 主管理员, 2 子管理员, 100 老板, 0 other
    leader_dept_ids: list[int] = field(default_factory=list)


@dataclass
class App:
    app_key: str
    app_secret: str
    agent_id: int
    corp_id: str
    name: str = ""
    ip_whitelist: list[str] = field(default_factory=list)
    permissions: frozenset[str] = ALL_PERMISSIONS
    redirect_urls: list[str] = field(default_factory=list)

    def allows_ip(self, ip: str) -> bool:
        return any(ip_matches(pattern, ip) for pattern in self.ip_whitelist)

    def allows_redirect(self, url: str) -> bool:
        return any(wildcard_matches(pattern, url) for pattern in self.redirect_urls)


@dataclass
class Corp:
    corp_id: str
    name: str
    departments: dict[int, Department] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    apps: dict[str, App] = field(default_factory=dict)

    def user_by_unionid(self, unionid: str) -> User | None:
        return next((u for u in self.users.values() if u.unionid == unionid), None)

    def user_by_mobile(self, mobile: str) -> User | None:
        return next((u for u in self.users.values() if u.mobile == mobile), None)

    def members_of(self, dept_id: int) -> list[User]:
        return [u for u in self.users.values() if dept_id in u.dept_ids]

    def children_of(self, dept_id: int) -> list[Department]:
        return [d for d in self.departments.values() if d.parent_id == dept_id]


def ip_matches(pattern: str, ip: str) -> bool:
    """``110.82.*.*`` style: each dotted part is either literal or ``*``."""
    pattern_parts = pattern.strip().split(".")
    ip_parts = ip.split(".")
    if len(pattern_parts) != len(ip_parts):
        return False
    return all(p in ("*", i) for p, i in zip(pattern_parts, ip_parts, strict=True))


def wildcard_matches(pattern: str, value: str) -> bool:
    """``*`` matches any run of characters; everything else is literal."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value) is not None
