"""The built-in demo fixture and the names other code and tests rely on.

``dingbridge sim --dump-fixture`` prints :func:`default_fixture` as JSON.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

DEMO_CORP_ID = "ding5f2a7c31e08b4d96"
DEMO_CORP_NAME = "示例科技有限公司"
OTHER_CORP_ID = "ding0c7e11aa94f2b3d8"
OTHER_CORP_NAME = "另一家贸易公司"

# Redirect URLs every demo app accepts (the simulator supports ``*`` wildcards).
DEMO_REDIRECT_URLS = ["http://127.0.0.1:*/*", "http://localhost:*/*"]


@dataclass(frozen=True)
class DemoApp:
    app_key: str
    app_secret: str
    agent_id: int
    corp_id: str


FULL_APP = DemoApp("dingfullaccess0001ab", "sim-secret-full-0001", 3001001, DEMO_CORP_ID)
NO_MOBILE_APP = DemoApp("dingnomobilefield02c", "sim-secret-nomobile-02", 3001002, DEMO_CORP_ID)
WHITELIST_APP = DemoApp("dingwhitelistonly03d", "sim-secret-whitelist-03", 3001003, DEMO_CORP_ID)
OTHER_CORP_APP = DemoApp("dingothercorpapp04e", "sim-secret-other-04", 3002001, OTHER_CORP_ID)

EVERY_PERMISSION = [
    "qyapi_base",
    "qyapi_get_member",
    "qyapi_get_department_list",
    "qyapi_get_department_member",
    "qyapi_get_member_by_mobile",
    "fieldMobile",
    "fieldEmail",
    "open_app_api_base",
    "Contact.User.Read",
    "Contact.User.mobile",
]

# Demo corp departments: 1 is the root (the corp itself).
DEPT_ROOT = 1
DEPT_RND = 563210001
DEPT_FRONTEND = 563210002
DEPT_BACKEND = 563210003
DEPT_MARKETING = 563210004
DEPT_HR = 563210005

_DEMO_DEPARTMENTS = [
    (DEPT_ROOT, DEMO_CORP_NAME, None),
    (DEPT_RND, "研发部", DEPT_ROOT),
    (DEPT_FRONTEND, "前端组", DEPT_RND),
    (DEPT_BACKEND, "后端组", DEPT_RND),
    (DEPT_MARKETING, "市场部", DEPT_ROOT),
    (DEPT_HR, "人事行政部", DEPT_ROOT),
]

# (userid, name, departments, title, has email)
_DEMO_USERS: list[tuple[str, str, list[int], str, bool]] = [
    ("user001", "张伟", [DEPT_ROOT], "总经理", True),
    ("user002", "王秀英", [DEPT_RND], "研发总监", True),
    ("user003", "李娜", [DEPT_FRONTEND], "前端工程师", True),
    ("user004", "刘洋", [DEPT_FRONTEND], "前端工程师", False),
    ("user005", "陈静", [DEPT_BACKEND], "后端工程师", True),
    ("user006", "杨磊", [DEPT_BACKEND], "后端工程师", False),
    ("user007", "赵敏", [DEPT_BACKEND, DEPT_FRONTEND], "全栈工程师", False),
    ("user008", "黄强", [DEPT_BACKEND], "运维工程师", True),
    ("user009", "周杰", [DEPT_MARKETING], "市场总监", True),
    ("user010", "吴婷", [DEPT_MARKETING], "市场专员", False),
    ("user011", "徐明", [DEPT_MARKETING], "市场专员", False),
    ("user012", "孙丽", [DEPT_HR], "人事经理", True),
    ("user013", "马超", [DEPT_HR], "行政专员", False),
    ("user014", "朱琳", [DEPT_FRONTEND], "UI 设计师", True),
    ("user015", "胡斌", [DEPT_BACKEND], "测试工程师", False),
    ("user016", "郭芳", [DEPT_MARKETING], "品牌经理", False),
    ("user017", "何勇", [DEPT_RND], "产品经理", True),
    ("user018", "高洁", [DEPT_HR], "招聘专员", False),
    ("user019", "林峰", [DEPT_BACKEND], "架构师", False),
    ("user020", "罗霞", [DEPT_ROOT], "财务主管", True),
    ("user021", "郑浩", [DEPT_MARKETING], "销售代表", False),
    ("user022", "梁雪", [DEPT_HR], "前台", False),  # left the company: inactive
]
INACTIVE_USERID = "user022"

_PINYIN = {
    "user001": "zhangwei",
    "user002": "wangxiuying",
    "user003": "lina",
    "user005": "chenjing",
    "user008": "huangqiang",
    "user009": "zhoujie",
    "user012": "sunli",
    "user014": "zhulin",
    "user017": "heyong",
    "user020": "luoxia",
}


def demo_unionid(userid: str) -> str:
    """A stable, realistic-looking unionid (DingTalk's often end in ``iEiE``)."""
    digest = hashlib.sha256(f"dingbridge-sim:{userid}".encode()).hexdigest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    number = int(digest, 16)
    chars = []
    for _ in range(22):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars) + "iEiE"


def _app(demo: DemoApp, name: str, whitelist: list[str], permissions: list[str]) -> dict[str, Any]:
    return {
        "app_key": demo.app_key,
        "app_secret": demo.app_secret,
        "agent_id": demo.agent_id,
        "name": name,
        "ip_whitelist": whitelist,
        "permissions": permissions,
        "redirect_urls": list(DEMO_REDIRECT_URLS),
    }


def _demo_users() -> list[dict[str, Any]]:
    users = []
    for number, (userid, name, dept_ids, title, has_email) in enumerate(_DEMO_USERS, start=1):
        user: dict[str, Any] = {
            "userid": userid,
            "unionid": demo_unionid(userid),
            "name": name,
            "mobile": f"138{number:08d}",
            "state_code": "86",
            "email": f"{_PINYIN[userid]}@example.com" if has_email else "",
            "dept_ids": dept_ids,
            "active": userid != INACTIVE_USERID,
            "title": title,
        }
        if userid == "user001":
            user["sys_level"] = 1
            user["leader_dept_ids"] = [DEPT_ROOT]
        if userid == "user002":
            user["leader_dept_ids"] = [DEPT_RND]
        users.append(user)
    return users


def default_fixture() -> dict[str, Any]:
    """The demo world: a corp with departments, 22 users and three apps, plus a second corp."""
    no_mobile = [p for p in EVERY_PERMISSION if p != "fieldMobile"]
    demo_corp = {
        "corp_id": DEMO_CORP_ID,
        "name": DEMO_CORP_NAME,
        "departments": [{"dept_id": d, "name": n, "parent_id": p} for d, n, p in _DEMO_DEPARTMENTS],
        "users": _demo_users(),
        "apps": [
            _app(FULL_APP, "示例登录应用", ["127.*.*.*"], list(EVERY_PERMISSION)),
            _app(NO_MOBILE_APP, "无手机号权限应用", ["127.*.*.*"], no_mobile),
            _app(WHITELIST_APP, "仅白名单应用", ["127.0.0.2"], list(EVERY_PERMISSION)),
        ],
    }
    other_corp = {
        "corp_id": OTHER_CORP_ID,
        "name": OTHER_CORP_NAME,
        "departments": [
            {"dept_id": 1, "name": OTHER_CORP_NAME, "parent_id": None},
            {"dept_id": 772100001, "name": "销售部", "parent_id": 1},
        ],
        "users": [
            {
                "userid": "other001",
                "unionid": demo_unionid("other001"),
                "name": "王芳",
                "mobile": "13900000001",
                "state_code": "86",
                "email": "wangfang@example.net",
                "dept_ids": [1],
                "active": True,
                "title": "经理",
            },
            {
                "userid": "other002",
                "unionid": demo_unionid("other002"),
                "name": "赵磊",
                "mobile": "13900000002",
                "state_code": "86",
                "email": "",
                "dept_ids": [772100001],
                "active": True,
                "title": "销售",
            },
        ],
        "apps": [_app(OTHER_CORP_APP, "另一家公司的应用", ["127.*.*.*"], list(EVERY_PERMISSION))],
    }
    return {"corps": [demo_corp, other_corp]}
