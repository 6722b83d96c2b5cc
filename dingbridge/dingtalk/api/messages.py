"""Work notifications: ``asyncsend_v2``, ``getsendprogress``, ``getsendresult``.

DingTalk answers success even when recipients are throttled; read ``getsendresult``'s
``forbidden`` entries (both ``forbidden_list`` and ``forbidden_user_id_list`` are read).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dingbridge.dingtalk.caller import Caller
from dingbridge.dingtalk.errors import UnexpectedResponse

__all__ = [
    "ForbiddenEntry",
    "Messages",
    "SendProgress",
    "SendResult",
    "markdown_message",
    "text_message",
]

_BASE = "/topapi/message/corpconversation"


def text_message(content: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": content}}


def markdown_message(title: str, text: str) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


@dataclass(frozen=True)
class SendProgress:
    progress_in_percent: int
    status: int  # 0 未开始, 1 处理中, 2 处理完毕

    @property
    def done(self) -> bool:
        return self.status == 2


@dataclass(frozen=True)
class ForbiddenEntry:
    userid: str
    code: str | None = None  # 143105 daily cap, 143106 duplicate content, ...
    count: int | None = None


@dataclass(frozen=True)
class SendResult:
    read_user_ids: tuple[str, ...]
    unread_user_ids: tuple[str, ...]
    failed_user_ids: tuple[str, ...]
    invalid_user_ids: tuple[str, ...]
    invalid_dept_ids: tuple[int, ...]
    forbidden: tuple[ForbiddenEntry, ...]


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _forbidden(result: dict[str, Any]) -> tuple[ForbiddenEntry, ...]:
    """Entries of ``forbidden_list`` (dicts), plus users only named in
    ``forbidden_user_id_list`` (strings or dicts); a user listed in both appears once."""
    entries: list[ForbiddenEntry] = []
    seen: set[str] = set()
    for name in ("forbidden_list", "forbidden_user_id_list"):
        for item in result.get(name) or []:
            if isinstance(item, dict):
                count = item.get("count")
                entry = ForbiddenEntry(
                    userid=str(item.get("userid", "")),
                    code=None if item.get("code") is None else str(item["code"]),
                    count=None if count is None else int(count),
                )
            else:
                entry = ForbiddenEntry(userid=str(item))
            if name == "forbidden_user_id_list" and entry.userid in seen:
                continue
            seen.add(entry.userid)
            entries.append(entry)
    return tuple(entries)


class Messages:
    def __init__(self, caller: Caller, *, agent_id: int | None) -> None:
        self._caller = caller
        self._agent_id = agent_id

    def _agent(self) -> int:
        if self._agent_id is None:
            raise ValueError("work notifications need the client's agent_id")
        return self._agent_id

    async def asyncsend_v2(
        self,
        msg: dict[str, Any],
        *,
        userid_list: Sequence[str] = (),
        dept_id_list: Sequence[int] = (),
        to_all_user: bool = False,
    ) -> int:
        """Send a work notification; returns ``task_id``. Not retried (it is not idempotent)."""
        if len(userid_list) > 100:
            raise ValueError("userid_list holds at most 100 userids per call")
        if len(dept_id_list) > 20:
            raise ValueError("dept_id_list holds at most 20 departments per call")
        if not to_all_user and not userid_list and not dept_id_list:
            raise ValueError("give userid_list, dept_id_list or to_all_user=True")
        body: dict[str, Any] = {"agent_id": self._agent(), "msg": msg, "to_all_user": to_all_user}
        if userid_list:
            body["userid_list"] = ",".join(userid_list)
        if dept_id_list:
            body["dept_id_list"] = ",".join(str(d) for d in dept_id_list)
        path = f"{_BASE}/asyncsend_v2"
        data = await self._caller.oapi("POST", path, json_body=body, idempotent=False)
        if data.get("task_id") is None:
            raise UnexpectedResponse(f"DingTalk {path}: answer has no task_id", path=path)
        return int(data["task_id"])

    async def _about_task(self, name: str, task_id: int) -> dict[str, Any]:
        """``POST .../{name}`` about one send task of this agent (a read: retried as such)."""
        return await self._caller.oapi(
            "POST", f"{_BASE}/{name}", json_body={"agent_id": self._agent(), "task_id": task_id}
        )

    async def getsendprogress(self, task_id: int) -> SendProgress:
        data = await self._about_task("getsendprogress", task_id)
        progress = data.get("progress") or {}
        return SendProgress(
            progress_in_percent=int(progress.get("progress_in_percent", 0)),
            status=int(progress.get("status", 0)),
        )

    async def getsendresult(self, task_id: int) -> SendResult:
        data = await self._about_task("getsendresult", task_id)
        result = data.get("send_result") or {}
        return SendResult(
            read_user_ids=_strs(result.get("read_user_id_list")),
            unread_user_ids=_strs(result.get("unread_user_id_list")),
            failed_user_ids=_strs(result.get("failed_user_id_list")),
            invalid_user_ids=_strs(result.get("invalid_user_id_list")),
            invalid_dept_ids=tuple(int(d) for d in result.get("invalid_dept_id_list") or []),
            forbidden=_forbidden(result),
        )
