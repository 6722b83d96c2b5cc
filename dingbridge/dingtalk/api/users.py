"""Users: 免登 code → userid (both generations), user detail, unionid and mobile lookups.

All oapi, app token in the query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from dingbridge.dingtalk.api.envelope import required_str, result_dict
from dingbridge.dingtalk.caller import Caller

__all__ = ["UnionIdLookup", "UserDetail", "UserInfo", "Users"]


@dataclass(frozen=True)
class UserInfo:
    """Who a 免登 code belongs to. ``unionid`` is None from the V1 endpoint."""

    userid: str
    name: str | None = None
    unionid: str | None = None
    associated_unionid: str | None = None
    device_id: str | None = None
    sys: bool = False
    sys_level: int = 0


@dataclass(frozen=True)
class UserDetail:
    """``topapi/v2/user/get`` (and one ``v2/user/list`` item). Fields the app may not read
    (mobile without 企业员工手机号信息, email without 邮箱等个人信息) are None."""

    userid: str
    name: str
    unionid: str | None = None
    mobile: str | None = None
    state_code: str | None = None
    email: str | None = None
    org_email: str | None = None
    avatar: str | None = None
    title: str | None = None
    job_number: str | None = None
    dept_id_list: tuple[int, ...] = ()
    active: bool = True
    admin: bool = False
    boss: bool = False
    manager_userid: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_result(cls, r: dict[str, Any], path: str = "/topapi/v2/user/get") -> UserDetail:
        def opt(name: str) -> str | None:
            value = r.get(name)
            return None if value in (None, "") else str(value)

        return cls(
            userid=required_str(r, "userid", path),
            name=str(r.get("name", "")),
            unionid=opt("unionid"),
            mobile=opt("mobile"),
            state_code=opt("state_code"),
            email=opt("email"),
            org_email=opt("org_email"),
            avatar=opt("avatar"),
            title=opt("title"),
            job_number=opt("job_number"),
            dept_id_list=tuple(int(d) for d in r.get("dept_id_list") or ()),
            active=bool(r.get("active", True)),
            admin=bool(r.get("admin", False)),
            boss=bool(r.get("boss", False)),
            manager_userid=opt("manager_userid"),
            raw=r,
        )


@dataclass(frozen=True)
class UnionIdLookup:
    userid: str
    contact_type: int = 0  # 0 employee, 1 external contact


class Users:
    def __init__(self, caller: Caller, *, api_version: Literal["v1", "v2"] = "v2") -> None:
        self._caller = caller
        self.api_version = api_version

    async def getuserinfo(self, code: str) -> UserInfo:
        """免登 V2: ``topapi/v2/user/getuserinfo``. Consumes the code: never retried."""
        data = await self._caller.oapi(
            "POST", "/topapi/v2/user/getuserinfo", json_body={"code": code}, idempotent=False
        )
        r = result_dict(data)
        return UserInfo(
            userid=required_str(r, "userid", "/topapi/v2/user/getuserinfo"),
            name=r.get("name"),
            unionid=r.get("unionid"),
            associated_unionid=r.get("associated_unionid") or None,
            device_id=r.get("device_id"),
            sys=bool(r.get("sys", False)),
            sys_level=int(r.get("sys_level", 0) or 0),
        )

    async def getuserinfo_v1(self, code: str) -> UserInfo:
        """免登 V1 (不推荐): ``GET user/getuserinfo``. Flat answer, no unionid. Never retried."""
        data = await self._caller.oapi(
            "GET", "/user/getuserinfo", query={"code": code}, idempotent=False
        )
        return UserInfo(
            userid=required_str(data, "userid", "/user/getuserinfo"),
            name=data.get("name"),
            device_id=data.get("deviceId"),
            sys=bool(data.get("is_sys", False)),
            sys_level=int(data.get("sys_level", 0) or 0),
        )

    async def from_auth_code(self, code: str) -> UserInfo:
        """免登 by the configured generation (v2 → topapi, v1 → legacy)."""
        if self.api_version == "v1":
            return await self.getuserinfo_v1(code)
        return await self.getuserinfo(code)

    async def get(self, userid: str, *, language: str = "zh_CN") -> UserDetail:
        """``topapi/v2/user/get``."""
        data = await self._caller.oapi(
            "POST", "/topapi/v2/user/get", json_body={"userid": userid, "language": language}
        )
        return UserDetail.from_result(result_dict(data))

    async def getbyunionid(self, unionid: str) -> UnionIdLookup:
        """``topapi/user/getbyunionid``: unionid → userid (UserNotFound for strangers)."""
        data = await self._caller.oapi(
            "POST", "/topapi/user/getbyunionid", json_body={"unionid": unionid}
        )
        r = result_dict(data)
        return UnionIdLookup(
            userid=required_str(r, "userid", "/topapi/user/getbyunionid"),
            contact_type=int(r.get("contact_type", 0) or 0),
        )

    async def getbymobile(self, mobile: str) -> str:
        """``topapi/v2/user/getbymobile``: mobile → userid."""
        data = await self._caller.oapi(
            "POST", "/topapi/v2/user/getbymobile", json_body={"mobile": mobile}
        )
        return required_str(result_dict(data), "userid", "/topapi/v2/user/getbymobile")
