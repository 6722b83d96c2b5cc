"""The JSON admin API under ``/api/v1/``: spaces, members, DingTalk settings, apps, the audit log
and test connection. Behind the console's admin session (with the ``X-CSRF-Token`` header on
changes) or an API token (``Authorization: Bearer dbt_...``). OpenAPI: ``/api/v1/openapi.json``.

One module per resource, named like the console's (``spaces``, ``members``, ``dingtalk``,
``apps``, ``audit``), plus ``auth`` (who is calling), ``models`` (bodies) and ``openapi``.
"""

from __future__ import annotations

from fastapi import APIRouter

API_PREFIX = "/api/v1"


def api_routers() -> tuple[APIRouter, ...]:
    from dingbridge.web.api import apps, audit, dingtalk, members, openapi, spaces

    return (
        spaces.router,
        members.router,
        dingtalk.router,
        apps.router,
        audit.router,
        openapi.router,
    )
