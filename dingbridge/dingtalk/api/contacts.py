"""Departments and members: ``listsub``, ``listsubid``, ``listid``, ``v2/user/list``.

Root department id is 1. ``user_list_pages`` walks ``v2/user/list`` cursor paging.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dingbridge.dingtalk.api.envelope import required_str, result_dict
from dingbridge.dingtalk.api.users import UserDetail
from dingbridge.dingtalk.caller import Caller
from dingbridge.dingtalk.errors import UnexpectedResponse

__all__ = ["ROOT_DEPT_ID", "Contacts", "Department", "LeaveRecord", "emp_leave_records"]

ROOT_DEPT_ID = 1
ORDER_FIELDS = ("entry_asc", "entry_desc", "modify_asc", "modify_desc", "custom")


@dataclass(frozen=True)
class Department:
    dept_id: int
    name: str
    parent_id: int | None


class Contacts:
    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    async def leave_records(
        self, start: datetime, end: datetime | None = None
    ) -> list[LeaveRecord]:
        """Who left between ``start`` and ``end`` (``empLeaveRecords``, every page)."""
        return await emp_leave_records(self._caller, start, end)

    async def listsub(
        self, dept_id: int = ROOT_DEPT_ID, *, language: str = "zh_CN"
    ) -> list[Department]:
        """Direct child departments of ``dept_id`` (one level)."""
        data = await self._caller.oapi(
            "POST",
            "/topapi/v2/department/listsub",
            json_body={"dept_id": dept_id, "language": language},
        )
        items = data.get("result")
        if not isinstance(items, list):
            raise UnexpectedResponse(
                "DingTalk /topapi/v2/department/listsub: result is not a list",
                path="/topapi/v2/department/listsub",
            )
        return [
            Department(
                dept_id=int(required_str(item, "dept_id", "/topapi/v2/department/listsub")),
                name=str(item.get("name", "")),
                parent_id=int(item["parent_id"]) if item.get("parent_id") is not None else None,
            )
            for item in items
        ]

    async def listsubid(self, dept_id: int = ROOT_DEPT_ID) -> list[int]:
        """Ids of the direct child departments."""
        data = await self._caller.oapi(
            "POST", "/topapi/v2/department/listsubid", json_body={"dept_id": dept_id}
        )
        return [int(d) for d in result_dict(data).get("dept_id_list") or []]

    async def listid(self, dept_id: int) -> list[str]:
        """Userids directly in ``dept_id`` (not sub-departments), no paging."""
        data = await self._caller.oapi(
            "POST", "/topapi/user/listid", json_body={"dept_id": dept_id}
        )
        return [str(u) for u in result_dict(data).get("userid_list") or []]

    def user_list_pages(
        self,
        dept_id: int,
        *,
        size: int = 100,
        order_field: str | None = None,
        contain_access_limit: bool | None = None,
        language: str = "zh_CN",
    ) -> AsyncIterator[list[UserDetail]]:
        """``async for page in ...``: one list of members per ``v2/user/list`` page, until
        ``has_more`` is false. Bad ``size``/``order_field`` raise ValueError at once."""
        if not 1 <= size <= 100:
            raise ValueError("size must be between 1 and 100")
        if order_field is not None and order_field not in ORDER_FIELDS:
            raise ValueError(f"order_field must be one of {', '.join(ORDER_FIELDS)}")
        return self._user_pages(dept_id, size, order_field, contain_access_limit, language)

    async def _user_pages(
        self,
        dept_id: int,
        size: int,
        order_field: str | None,
        contain_access_limit: bool | None,
        language: str,
    ) -> AsyncIterator[list[UserDetail]]:
        cursor = 0
        while True:
            body: dict[str, Any] = {
                "dept_id": dept_id,
                "cursor": cursor,
                "size": size,
                "language": language,
            }
            if order_field is not None:
                body["order_field"] = order_field
            if contain_access_limit is not None:
                body["contain_access_limit"] = contain_access_limit
            data = await self._caller.oapi("POST", "/topapi/v2/user/list", json_body=body)
            result = result_dict(data)
            yield [
                UserDetail.from_result(item, "/topapi/v2/user/list")
                for item in result.get("list") or []
            ]
            next_cursor = result.get("next_cursor")
            if not result.get("has_more") or next_cursor is None:
                return
            cursor = int(next_cursor)


@dataclass(frozen=True)
class LeaveRecord:
    """One leaver from ``GET /v1.0/contact/empLeaveRecords`` (``leave_time`` ISO 8601)."""

    userid: str
    name: str
    leave_time: str
    reason: str = ""


async def emp_leave_records(
    caller: Caller, start: datetime, end: datetime | None = None, *, page_size: int = 50
) -> list[LeaveRecord]:
    """Everyone who left between ``start`` and ``end`` (all pages, 50 a page at most)."""
    path = "/v1.0/contact/empLeaveRecords"
    query = {"startTime": _iso(start), "maxResults": str(min(max(page_size, 1), 50))}
    if end is not None:
        query["endTime"] = _iso(end)
    records: list[LeaveRecord] = []
    token = "0"
    while True:
        data = await caller.api("GET", path, query={**query, "nextToken": token})
        items = data.get("records")
        if not isinstance(items, list):
            raise UnexpectedResponse(f"DingTalk {path}: records is not a list", path=path)
        records += [
            LeaveRecord(
                userid=required_str(item, "userId", path),
                name=str(item.get("name", "")),
                leave_time=str(item.get("leaveTime", "")),
                reason=str(item.get("leaveReason", "")),
            )
            for item in items
            if isinstance(item, dict)
        ]
        token = str(data.get("nextToken") or "")
        if not token or not items:
            return records


def _iso(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
