"""One directory event, whichever way it came (Stream frame or decrypted HTTP callback).

Internal apps get ``userId`` as a list, third-party apps (and older payloads, ``UserId``) may
send one string, sometimes comma separated: both become a tuple. Department events carry
``deptId`` (list or single value).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

USER_EVENTS = ("user_add_org", "user_modify_org", "user_leave_org", "user_active_org")
DEPT_EVENTS = ("org_dept_create", "org_dept_modify", "org_dept_remove")
HANDLED = USER_EVENTS + DEPT_EVENTS


class BadEvent(ValueError):
    """The payload is not a directory event we can read."""


@dataclass(frozen=True)
class DirectoryEvent:
    event_id: str
    event_type: str
    corp_id: str
    user_ids: tuple[str, ...] = ()
    dept_ids: tuple[int, ...] = ()
    born_ms: int = 0

    @property
    def handled(self) -> bool:
        return self.event_type in HANDLED


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return (str(value),)


def _ints(value: Any) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in _strings(value))
    except ValueError as exc:
        raise BadEvent(f"deptId is not a list of numbers: {value!r}") from exc


def _first(data: Mapping[str, Any], *names: str) -> Any:
    return next((data[n] for n in names if data.get(n) not in (None, "")), None)


def from_stream(headers: Mapping[str, Any], data: Mapping[str, Any]) -> DirectoryEvent:
    """A Stream ``EVENT``: metadata in the headers, the event's fields in ``data``."""
    event_id = _first(headers, "eventId") or _first(data, "eventId")
    event_type = _first(headers, "eventType") or _first(data, "eventType", "EventType")
    if not event_id or not event_type:
        raise BadEvent("the event has no eventId or eventType")
    return DirectoryEvent(
        event_id=str(event_id),
        event_type=str(event_type),
        corp_id=str(_first(headers, "eventCorpId") or _first(data, "eventCorpId", "CorpId") or ""),
        user_ids=_strings(_first(data, "userId", "UserId", "userid")),
        dept_ids=_ints(_first(data, "deptId", "DeptId")),
        born_ms=int(_first(headers, "eventBornTime") or _first(data, "timeStamp") or 0),
    )


def from_callback(body: Mapping[str, Any]) -> DirectoryEvent:
    """A decrypted HTTP callback (``EventType``, ``CorpId``, ``eventId``/``BizId``, ...)."""
    event_type = _first(body, "EventType", "eventType")
    if not event_type:
        raise BadEvent("the callback has no EventType")
    event_id = _first(body, "eventId", "BizId", "EventId")
    if event_id is None:  # old payloads: the fields themselves identify the event
        event_id = f"{event_type}:{_first(body, 'TimeStamp', 'timeStamp', 'EventTime')}"
        event_id += ":" + ",".join(_strings(_first(body, "UserId", "userId", "DeptId", "deptId")))
    return DirectoryEvent(
        event_id=str(event_id),
        event_type=str(event_type),
        corp_id=str(_first(body, "CorpId", "corpId") or ""),
        user_ids=_strings(_first(body, "userId", "UserId")),
        dept_ids=_ints(_first(body, "deptId", "DeptId")),
        born_ms=int(_first(body, "EventTime", "TimeStamp", "timeStamp") or 0),
    )
