"""Changes to a simulated corp's directory, each followed by the event DingTalk sends.

"This user leaves" removes the user from the directory (as DingTalk does: a leaver is no
longer listed), keeps a leave record (``empLeaveRecords``) and sends ``user_leave_org``;
"changes mobile" and "moves department" send ``user_modify_org``; "joins" adds the user and
sends ``user_add_org``. Department changes send ``org_dept_*``. Every function raises
:class:`ChangeError` with a clear message for bad input and then changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import TYPE_CHECKING

from dingbridge.sim.events import SimEvent
from dingbridge.sim.records import Corp, Department, User
from dingbridge.sim.state import LeaveRecord

if TYPE_CHECKING:
    from dingbridge.sim.state import SimState


class ChangeError(ValueError):
    """The change cannot be made (unknown corp, user or department, bad value)."""


def _corp(state: SimState, corp_id: str) -> Corp:
    corp = state.corps.get(corp_id)
    if corp is None:
        raise ChangeError(f"no corp {corp_id!r}")
    return corp


def _user(corp: Corp, userid: str) -> User:
    user = corp.users.get(userid)
    if user is None:
        raise ChangeError(f"no user {userid!r} in corp {corp.corp_id!r}")
    return user


def _departments(corp: Corp, dept_ids: list[int]) -> list[int]:
    if not dept_ids:
        raise ChangeError("a user needs at least one department")
    unknown = [d for d in dept_ids if d not in corp.departments]
    if unknown:
        raise ChangeError(f"unknown departments {unknown}")
    return list(dict.fromkeys(dept_ids))


def _mobile(value: str) -> str:
    mobile = value.strip()
    if not (mobile.isdigit() and 5 <= len(mobile) <= 15):
        raise ChangeError(f"not a mobile number: {value!r}")
    return mobile


def user_leaves(state: SimState, corp_id: str, userid: str, reason: str = "") -> SimEvent:
    corp = _corp(state, corp_id)
    user = _user(corp, userid)
    del corp.users[userid]
    record = LeaveRecord(
        userid, user.name, user.state_code, user.mobile, state.clock.now(), reason or "oapi"
    )
    state.leave_records.setdefault(corp_id, []).append(record)
    return state.events.emit(corp_id, "user_leave_org", user_ids=(userid,))


def user_changes_mobile(state: SimState, corp_id: str, userid: str, mobile: str) -> SimEvent:
    corp = _corp(state, corp_id)
    user = _user(corp, userid)
    new = _mobile(mobile)
    holder = corp.user_by_mobile(new)
    if holder is not None and holder is not user:
        raise ChangeError(f"mobile {new} belongs to {holder.userid}")
    user.mobile = new
    return state.events.emit(corp_id, "user_modify_org", user_ids=(userid,))


def user_moves(state: SimState, corp_id: str, userid: str, dept_ids: list[int]) -> SimEvent:
    corp = _corp(state, corp_id)
    user = _user(corp, userid)
    user.dept_ids = _departments(corp, dept_ids)
    user.leader_dept_ids = [d for d in user.leader_dept_ids if d in user.dept_ids]
    return state.events.emit(corp_id, "user_modify_org", user_ids=(userid,))


def user_joins(
    state: SimState,
    corp_id: str,
    *,
    name: str,
    mobile: str,
    dept_ids: list[int] | None = None,
    userid: str = "",
    email: str = "",
) -> SimEvent:
    corp = _corp(state, corp_id)
    userid = userid.strip() or f"user{secrets.token_hex(4)}"
    if userid in corp.users:
        raise ChangeError(f"user {userid!r} already exists")
    if not name.strip():
        raise ChangeError("a user needs a name")
    new_mobile = _mobile(mobile)
    if corp.user_by_mobile(new_mobile) is not None:
        raise ChangeError(f"mobile {new_mobile} is taken")
    corp.users[userid] = User(
        userid=userid,
        unionid=secrets.token_hex(12),
        name=name.strip(),
        mobile=new_mobile,
        email=email.strip(),
        dept_ids=_departments(corp, dept_ids or [1]),
    )
    return state.events.emit(corp_id, "user_add_org", user_ids=(userid,))


def user_activates(state: SimState, corp_id: str, userid: str) -> SimEvent:
    user = _user(_corp(state, corp_id), userid)
    user.active = True
    return state.events.emit(corp_id, "user_active_org", user_ids=(userid,))


def department_created(
    state: SimState, corp_id: str, dept_id: int, name: str, parent_id: int = 1
) -> SimEvent:
    corp = _corp(state, corp_id)
    if dept_id in corp.departments or dept_id <= 1:
        raise ChangeError(f"department {dept_id} exists or is not a valid id")
    if parent_id not in corp.departments:
        raise ChangeError(f"unknown parent department {parent_id}")
    if not name.strip():
        raise ChangeError("a department needs a name")
    corp.departments[dept_id] = Department(dept_id, name.strip(), parent_id)
    return state.events.emit(corp_id, "org_dept_create", dept_ids=(dept_id,))


def department_renamed(state: SimState, corp_id: str, dept_id: int, name: str) -> SimEvent:
    corp = _corp(state, corp_id)
    dept = corp.departments.get(dept_id)
    if dept is None or not name.strip():
        raise ChangeError(f"unknown department {dept_id} or empty name")
    corp.departments[dept_id] = replace(dept, name=name.strip())
    return state.events.emit(corp_id, "org_dept_modify", dept_ids=(dept_id,))


def department_removed(state: SimState, corp_id: str, dept_id: int) -> SimEvent:
    corp = _corp(state, corp_id)
    if dept_id not in corp.departments or dept_id == 1:
        raise ChangeError(f"department {dept_id} cannot be removed")
    if corp.children_of(dept_id) or corp.members_of(dept_id):
        raise ChangeError(f"department {dept_id} still has members or sub-departments")
    del corp.departments[dept_id]
    return state.events.emit(corp_id, "org_dept_remove", dept_ids=(dept_id,))
