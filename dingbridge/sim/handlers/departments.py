"""Departments."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from dingbridge.sim.endpoints import Call, oapi_endpoint
from dingbridge.sim.errors import OapiError
from dingbridge.sim.records import Department


def _children(call: Call) -> list[Department]:
    dept_id = call.int_param("dept_id", 1)
    if dept_id not in call.corp.departments:
        raise OapiError(60003, "部门不存在")
    return call.corp.children_of(dept_id)


@oapi_endpoint("v2.department.listsub", "qyapi_get_department_list")
async def listsub(call: Call) -> dict[str, Any]:
    return {
        "result": [
            {
                "dept_id": d.dept_id,
                "name": d.name,
                "parent_id": d.parent_id,
                "create_dept_group": True,
                "auto_add_user": True,
            }
            for d in _children(call)
        ]
    }


@oapi_endpoint("v2.department.listsubid", "qyapi_get_department_list")
async def listsubid(call: Call) -> dict[str, Any]:
    return {"result": {"dept_id_list": [d.dept_id for d in _children(call)]}}


ROUTES = [
    Route("/topapi/v2/department/listsub", listsub, methods=["POST"]),
    Route("/topapi/v2/department/listsubid", listsubid, methods=["POST"]),
]
