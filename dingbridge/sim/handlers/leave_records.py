"""``GET /v1.0/contact/empLeaveRecords``: who left the corp in a time window.

Shape as DingTalk's contact_1.0 ``ListEmpLeaveRecords`` (the official Tea SDK's models):
query ``startTime`` (required) and ``endTime`` as ISO 8601 (``2024-05-01T00:00:00Z``),
``nextToken`` (``"0"`` first) and ``maxResults`` (1–50, default 50); answer
``{"nextToken", "records": [{"userId", "name", "stateCode", "mobile", "leaveTime",
"leaveReason"}]}``, ``nextToken`` absent on the last page. The permission is not in the facts
file; we ask for ``qyapi_get_member`` (an assumption).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from starlette.routing import Route

from dingbridge.sim.endpoints import Call, api_endpoint
from dingbridge.sim.errors import ApiError

MAX_RESULTS = 50


def _instant(value: str | None, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(400, "InvalidParameter", f"{name}格式错误") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


@api_endpoint("contact.empLeaveRecords", "qyapi_get_member")
async def emp_leave_records(call: Call) -> dict[str, Any]:
    query = call.request.query_params
    start = _instant(query.get("startTime"), "startTime")
    if start is None:
        raise ApiError(400, "MissingStartTime", "startTime is mandatory for this action.")
    end = _instant(query.get("endTime"), "endTime")
    try:
        offset = int(query.get("nextToken") or 0)
        size = int(query.get("maxResults") or MAX_RESULTS)
    except ValueError as exc:
        raise ApiError(400, "InvalidParameter", "nextToken或maxResults不合法") from exc
    if not 1 <= size <= MAX_RESULTS or offset < 0:
        raise ApiError(400, "InvalidParameter", "maxResults取值范围为1~50")
    assert call.app is not None
    matching = [
        r
        for r in call.state.leave_records.get(call.app.corp_id, [])
        if int(r.leave_time) >= start and (end is None or int(r.leave_time) <= end)
    ]
    page = matching[offset : offset + size]
    body: dict[str, Any] = {
        "records": [
            {
                "userId": r.userid,
                "name": r.name,
                "stateCode": r.state_code,
                "mobile": r.mobile,
                "leaveTime": _iso(r.leave_time),
                "leaveReason": r.reason,
            }
            for r in page
        ]
    }
    if offset + size < len(matching):
        body["nextToken"] = str(offset + size)
    return body


ROUTES = [Route("/v1.0/contact/empLeaveRecords", emp_leave_records, methods=["GET"])]
