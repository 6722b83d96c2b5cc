"""The JSON admin API under ``/api/v1/``: spaces, members, DingTalk settings, the audit log and
test connection. Behind the console's admin session (with the ``X-CSRF-Token`` header on
changes) or an API token (``Authorization: Bearer dbt_...``). OpenAPI: ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from fastapi import APIRouter

API_PREFIX = "/api/v1"


def api_routers() -> tuple[APIRouter, ...]:
    from dingbridge.web.api import (
        audit_routes,
        dingtalk_routes,
        member_routes,
        openapi_route,
        space_routes,
    )

    return (
        space_routes.router,
        member_routes.router,
        dingtalk_routes.router,
        audit_routes.router,
        openapi_route.router,
    )
